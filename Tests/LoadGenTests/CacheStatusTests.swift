import Foundation
@testable import LoadGen
import Testing

/// Every cache's way of stating its outcome, mapped onto one set — values as each vendor's
/// documentation gives them — and a JSON body's field found as the bytes stream past.
@Suite("--cache-status: the caches' vocabularies and JSON fields")
struct CacheStatusTests {
    /// Scans one response (split into two reads at `cut`) and returns what it stated.
    private func scan(_ text: String, mode: CacheStatusSource = .auto, cut: Int? = nil) throws -> ResponseScanner.Response {
        var scanner = ResponseScanner(cacheStatus: mode)
        let bytes = Array(text.utf8)
        let split = min(cut ?? bytes.count, bytes.count)
        var responses: [ResponseScanner.Response] = []
        for part in [bytes[..<split], bytes[split...]] {
            try Array(part).withUnsafeBytes { try scanner.consume($0) { responses.append($0) } }
        }
        return try #require(responses.first, "no response from \(text.debugDescription)")
    }

    private func header(_ name: String, _ value: String) -> String {
        "HTTP/1.1 200 OK\r\n\(name): \(value)\r\nContent-Length: 0\r\n\r\n"
    }

    static let vocabulary: [(String, String, CacheOutcome, UInt8)] = [
        // cacheload serve, and the convention many apps copy
        ("X-Cache", "HIT", .hit, 1), ("X-Cache", "MISS", .miss, 1), ("X-Cache", "BYPASS", .bypass, 1), ("X-Cache", "STALE", .stale, 1),
        // CloudFront
        ("X-Cache", "Hit from cloudfront", .hit, 1), ("X-Cache", "RefreshHit from cloudfront", .revalidated, 1),
        ("X-Cache", "Miss from cloudfront", .miss, 1), ("X-Cache", "Error from cloudfront", .error, 1),
        ("X-Cache", "LambdaGeneratedResponse from cloudfront", .bypass, 1), ("X-Cache", "Redirect from cloudfront", .bypass, 1),
        // Fastly: one entry per node, a hit anywhere served the answer from a cache
        ("X-Cache", "HIT, MISS", .hit, 2), ("X-Cache", "MISS, MISS", .miss, 2), ("X-Cache", "PASS", .bypass, 1), ("X-Cache", "MISS, HIT", .hit, 2),
        // Squid
        ("X-Cache", "HIT from proxy.example.com", .hit, 1), ("X-Cache", "MISS from proxy.example.com", .miss, 1),
        // Cloudflare
        ("CF-Cache-Status", "HIT", .hit, 1), ("CF-Cache-Status", "MISS", .miss, 1), ("CF-Cache-Status", "EXPIRED", .miss, 1),
        ("CF-Cache-Status", "STALE", .stale, 1), ("CF-Cache-Status", "BYPASS", .bypass, 1), ("CF-Cache-Status", "REVALIDATED", .revalidated, 1),
        ("CF-Cache-Status", "UPDATING", .stale, 1), ("CF-Cache-Status", "DYNAMIC", .bypass, 1), ("CF-Cache-Status", "NONE/UNKNOWN", .bypass, 1),
        // nginx's $upstream_cache_status, by convention in X-Cache-Status
        ("X-Cache-Status", "HIT", .hit, 1), ("X-Cache-Status", "MISS", .miss, 1), ("X-Cache-Status", "EXPIRED", .miss, 1),
        ("X-Cache-Status", "BYPASS", .bypass, 1), ("X-Cache-Status", "STALE", .stale, 1), ("X-Cache-Status", "UPDATING", .stale, 1),
        ("X-Cache-Status", "REVALIDATED", .revalidated, 1),
        // Akamai: child then parent
        ("Akamai-Cache-Status", "Hit from child", .hit, 1), ("Akamai-Cache-Status", "Miss from child, Hit from parent", .hit, 2),
        ("Akamai-Cache-Status", "Miss from child, Miss from parent", .miss, 2),
        // Varnish: two ids on a hit
        ("X-Varnish", "32770", .miss, 1), ("X-Varnish", "32770 32769", .hit, 1), ("X-Varnish", "abc", .unknown, 1),
        // RFC 9211 (its own examples): the last member is the cache nearest the client
        ("Cache-Status", "ExampleCache; hit", .hit, 1), ("Cache-Status", "ExampleCache; fwd=uri-miss", .miss, 1),
        ("Cache-Status", "ExampleCache; fwd=uri-miss; stored", .miss, 1),
        ("Cache-Status", "ExampleCache; fwd=vary-miss; fwd-status=304", .miss, 1),
        ("Cache-Status", "OriginCache; hit; ttl=1100, \"CDN Company Here\"; hit; ttl=545", .hit, 2),
        ("Cache-Status", "OriginCache; hit; ttl=1100, \"CDN, Company\"; fwd=uri-miss", .miss, 2),
        ("Cache-Status", "ReverseProxyCache; fwd=stale; fwd-status=304; collapsed; ttl=-412", .revalidated, 1),
        ("Cache-Status", "ExampleCache; fwd=stale; fwd-status=200", .miss, 1), ("Cache-Status", "ExampleCache; hit; ttl=-30", .stale, 1),
        ("Cache-Status", "ExampleCache; hit; ttl=30", .hit, 1),
        ("Cache-Status", "ExampleCache; fwd=bypass", .bypass, 1), ("Cache-Status", "ExampleCache; fwd=method", .bypass, 1),
        ("Cache-Status", "ExampleCache; fwd=request", .bypass, 1), ("Cache-Status", "ExampleCache; fwd=partial", .miss, 1),
        // malformed structured fields: unknown, never a crash
        ("Cache-Status", "\"unterminated; hit", .unknown, 1), ("Cache-Status", "; hit", .unknown, 1),
        ("Cache-Status", "ExampleCache; fwd=teapot", .unknown, 1), ("Cache-Status", "ExampleCache", .unknown, 1),
        ("X-Cache", "WEIRD", .unknown, 1),
    ]

    @Test("each vendor's values map onto hit, stale, revalidated, miss, bypass, error or unknown", arguments: vocabulary)
    func vocabularies(_ row: (String, String, CacheOutcome, UInt8)) throws {
        let response = try scan(header(row.0, row.1))
        #expect(response.cache == row.2, "\(row.0): \(row.1)")
        #expect(response.hops == row.3, "\(row.0): \(row.1)")
        #expect(response.unknownValue == (row.2 == .unknown ? row.1 : nil))
        // header:NAME reads the same header with the same vocabulary.
        #expect(try scan(header(row.0, row.1), mode: .header(row.0.lowercased())).cache == row.2)
    }

    @Test("auto prefers Cache-Status over CF-Cache-Status over X-Cache, whatever their order")
    func preference() throws {
        let response = try scan("HTTP/1.1 200 OK\r\nX-Cache: MISS\r\nCache-Status: Edge; hit\r\nCF-Cache-Status: EXPIRED\r\nContent-Length: 0\r\n\r\n")
        #expect(response.cache == .hit && response.source == .cacheStatus)
        let other = try scan("HTTP/1.1 200 OK\r\nX-Cache: HIT\r\nCF-Cache-Status: MISS\r\nContent-Length: 0\r\n\r\n")
        #expect(other.cache == .miss && other.source == .cfCacheStatus)
        // header:NAME looks at that header only.
        #expect(try scan(header("X-Cache", "HIT"), mode: .header("X-Cache-Lookup")).cache == .none)
        #expect(try scan(header("X-Cache", "HIT"), mode: .none).cache == .none)
    }

    private func json(_ body: String, chunked: Bool = false) -> String {
        guard chunked else { return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)" }
        let half = body.utf8.count / 2
        let (first, second) = (String(body.utf8.prefix(half))!, String(body.utf8.dropFirst(half))!)
        return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + String(first.utf8.count, radix: 16) + "\r\n\(first)\r\n"
            + String(second.utf8.count, radix: 16) + "\r\n\(second)\r\n0\r\n\r\n"
    }

    static let bodies: [(String, CacheStatusSource, CacheOutcome)] = [
        // the labs' Flask app
        (#"{"product": {"id": 7, "name": "P"}, "cache_status": "HIT", "response_time_ms": 1.2}"#, .auto, .hit),
        (#"{"cache_status": "MISS", "product": {"id": 7}}"#, .auto, .miss),
        (#"{"cache_used": true}"#, .auto, .hit), (#"{"cache_used": false}"#, .auto, .miss),
        // the field's name inside a string value, escaped quotes, a deeper field of the same name
        (#"{"note": "cache_status", "cache_status": "MISS"}"#, .auto, .miss),
        (#"{"a": "x\"cache_status\":\"HIT\"", "cache_status": "MISS"}"#, .auto, .miss),
        (#"{"product": {"cache_status": "HIT"}, "cache_status": "MISS"}"#, .auto, .miss),
        (#"{"product": {"cache_status": "HIT"}}"#, .auto, .none),
        (#"{"list": [{"cache_status": "HIT"}], "x": 1}"#, .auto, .none),
        (#"[{"cache_status": "HIT"}]"#, .auto, .none), ("not json at all", .auto, .none),
        (#"{"cache_status": {"nested": "HIT"}}"#, .auto, .unknown), (#"{"cache_status": "SORT-OF"}"#, .auto, .unknown),
        // json:FIELD, dotted for nested objects
        (#"{"meta": {"cache": "HIT"}, "cache": "MISS"}"#, .json(["meta", "cache"]), .hit),
        (#"{"cache": "HIT"}"#, .json(["meta", "cache"]), .none),
        (#"{"meta": {"other": {"cache": "HIT"}}, "meta2": {"cache": "MISS"}}"#, .json(["meta", "cache"]), .none),
        (#"{"served_from_cache": false}"#, .json(["served_from_cache"]), .miss),
    ]

    @Test("a JSON body's field, found at every split of the bytes and in chunks", arguments: bodies)
    func jsonFields(_ row: (String, CacheStatusSource, CacheOutcome)) throws {
        let text = json(row.0)
        for cut in 0...text.utf8.count {
            let response = try scan(text, mode: row.1, cut: cut)
            #expect(response.cache == row.2, "\(row.0) cut at \(cut)")
            if row.2 != .none { #expect(response.source == .jsonField) }
        }
        #expect(try scan(json(row.0, chunked: true), mode: row.1).cache == row.2, "chunked: \(row.0)")
    }

    @Test("a header stating the outcome wins over the body, which is then not read")
    func headerBeforeBody() throws {
        let response = try scan("HTTP/1.1 200 OK\r\nX-Cache: MISS\r\nContent-Length: 22\r\n\r\n{\"cache_status\":\"HIT\"}")
        #expect(response.cache == .miss && response.source == .xCache)
    }

    @Test("--cache-status values: auto, header:NAME, json:FIELD, none; anything else refused with what is expected")
    func parsing() throws {
        #expect(try CacheStatusSource(parsing: "auto") == .auto)
        #expect(try CacheStatusSource(parsing: "NONE") == .none)
        #expect(try CacheStatusSource(parsing: "header:CF-Cache-Status") == .header("CF-Cache-Status"))
        #expect(try CacheStatusSource(parsing: "json:meta.cache") == .json(["meta", "cache"]))
        for bad in ["json:", "json:a..b", "header:", "header:X Cache", "header:X-Cache:", "maybe", "xcache"] {
            #expect(throws: LoadOptionError.self, "\(bad)") { try CacheStatusSource(parsing: bad) }
        }
    }
}
