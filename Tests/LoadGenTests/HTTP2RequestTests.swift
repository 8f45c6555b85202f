import NIOCore
import NIOHPACK
@testable import LoadGen
import Testing

/// The worker's HTTP/1.1 request as HTTP/2 sends it, and the HTTP/2 response fields read as the
/// same bytes over HTTP/1.1 would be.
@Suite("HTTP/2 requests and responses: the same request, the same classification")
struct HTTP2RequestTests {
    private func formatted(_ template: RequestTemplate, key: Int) -> ByteBuffer {
        var buffer = ByteBuffer()
        template.format(key: key, into: &buffer)
        return buffer
    }

    @Test("pseudo-fields from the request line and Host, names lower case, the path never indexed, the body kept")
    func conversion() throws {
        let template = try RequestTemplate(url: "https://shop.example:8443/product/{key}", method: "PUT",
                                           headers: [("X-Trace", "abc"), ("Connection", "keep-alive")], body: Array("{\"price\":1}".utf8))
        var block: HTTP2Request.HeaderBlock?
        let request = try #require(HTTP2Request(http1: formatted(template, key: 42), scheme: "https", fields: &block))
        let fields = request.headers.map { "\($0.name)=\($0.value)" }
        #expect(fields == [":method=PUT", ":scheme=https", ":authority=shop.example:8443", ":path=/product/42", "x-trace=abc", "content-length=11"], "\(fields)")
        #expect(request.headers.first { $0.name == ":path" }?.indexable == .nonIndexable)
        #expect(request.body.map { String(buffer: $0) } == "{\"price\":1}")
        // The next key reuses the parsed block; another block is parsed again.
        let next = try #require(HTTP2Request(http1: formatted(template, key: 7), scheme: "https", fields: &block))
        #expect(next.headers.first(name: ":path") == "/product/7" && next.headers.first(name: "x-trace") == "abc")
        let other = try RequestTemplate(url: "https://shop.example:8443/product/{key}", headers: [("X-Trace", "def")])
        let changed = try #require(HTTP2Request(http1: formatted(other, key: 7), scheme: "https", fields: &block))
        #expect(changed.headers.first(name: "x-trace") == "def" && changed.headers.first(name: ":method") == "GET" && changed.body == nil)
    }

    @Test("decoded fields classify as HTTP/1.1 headers do: the preferred header wins, a JSON body is read when none states it")
    func responseFields() {
        func classify(_ status: Int, _ fields: [(String, String)], body: String? = nil) -> ResponseScanner.Response? {
            var scanner = ResponseScanner(cacheStatus: .auto)
            scanner.beginFields(status: status)
            for (name, value) in fields {
                var name = name, value = value
                name.withUTF8 { name in value.withUTF8 { scanner.field(name: name, value: $0) } }
            }
            scanner.endOfFields()
            if let body { Array(body.utf8).withUnsafeBytes { scanner.bodyBytes($0) } }
            var response: ResponseScanner.Response?
            scanner.endOfStream { response = $0 }
            return response
        }
        #expect(classify(200, [("x-cache", "MISS from cloudfront"), ("cache-status", "nginx; hit")])?.cache == .hit, "Cache-Status is preferred to X-Cache")
        #expect(classify(200, [("x-cache-status", "STALE")])?.cache == .stale)
        #expect(classify(200, [("content-type", "application/json")], body: #"{"cache_status":"MISS"}"#)?.cache == .miss)
        #expect(classify(404, [])?.status == 404 && classify(404, [])?.cache == CacheOutcome.none)
    }
}
