import Telemetry

/// What an answer says its cache did, whatever the cache: one set of outcomes for every
/// vocabulary `--cache-status` reads.
package enum CacheOutcome: UInt8, Sendable {
    /// Nothing stated an outcome.
    case none
    case hit
    case miss
    /// Served without a cache decision: pass, dynamic, not cacheable, or the cache unreachable.
    case bypass
    /// Served from the cache past its freshness while it is refreshed (a hit, shown apart).
    case stale
    /// Served from the cache after the origin confirmed it (a hit, shown apart).
    case revalidated
    /// The cache itself failed the request.
    case error
    /// A value no vocabulary knows: counted, with examples, never dropped.
    case unknown

    /// The better of two outcomes for a list whose members are caches on the way (Fastly,
    /// Akamai): a hit at any of them served the answer from a cache.
    fileprivate var rank: Int {
        switch self {
        case .hit: 7
        case .stale: 6
        case .revalidated: 5
        case .miss: 4
        case .bypass: 3
        case .error: 2
        case .unknown: 1
        case .none: 0
        }
    }
}

/// Where an answer's cache outcome was read: the header or field, in the order `auto` prefers
/// them (lower first). The summary counts answers per source.
package enum CacheStatusOrigin: UInt8, Sendable, CaseIterable {
    /// RFC 9211 `Cache-Status`.
    case cacheStatus
    case cfCacheStatus
    case xCacheStatus
    case akamaiCacheStatus
    case xCache
    case xVarnish
    /// `header:NAME`.
    case namedHeader
    /// A JSON body field: `cache_status`/`cache_used` in `auto`, or `json:FIELD`.
    case jsonField
    /// Nothing stated it.
    case nothing

    /// How the summary names it.
    func name(for source: CacheStatusSource) -> String {
        switch self {
        case .cacheStatus: "Cache-Status"
        case .cfCacheStatus: "CF-Cache-Status"
        case .xCacheStatus: "X-Cache-Status"
        case .akamaiCacheStatus: "Akamai-Cache-Status"
        case .xCache: "X-Cache"
        case .xVarnish: "X-Varnish"
        case .namedHeader: if case .header(let name) = source { name } else { "header" }
        case .jsonField: if case .json(let path) = source { "JSON field \(path.joined(separator: "."))" } else { "JSON field cache_status" }
        case .nothing: "nothing"
        }
    }
}

/// `--cache-status`: where `cacheload load` reads each answer's cache outcome.
package enum CacheStatusSource: Sendable, Equatable, CustomStringConvertible {
    /// The known headers in order, then a top-level `cache_status` (or boolean `cache_used`) of
    /// a JSON body.
    case auto
    /// One header, as given (matched case-insensitively).
    case header(String)
    /// A field of a JSON body: its path, one name per level.
    case json([String])
    /// Not looked at: every answer counts as stating nothing.
    case none

    static let expected = "expected auto, header:NAME (e.g. header:CF-Cache-Status), json:FIELD (e.g. json:cache_status or json:meta.cache) or none"

    package init(parsing text: String) throws(LoadOptionError) {
        let lower = text.lowercased()
        if lower == "auto" { self = .auto; return }
        if lower == "none" { self = .none; return }
        if lower.hasPrefix("header:") {
            let name = String(text.dropFirst("header:".count))
            // RFC 9110 token characters only: a header name cannot hold anything else.
            let token = Set("!#$%&'*+-.^_`|~".utf8)
            guard !name.isEmpty, name.utf8.allSatisfy({ (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) || token.contains($0) }) else {
                throw LoadOptionError("--cache-status \"\(text)\": \"\(name)\" is not a header name; \(Self.expected)")
            }
            self = .header(name)
            return
        }
        if lower.hasPrefix("json:") {
            let path = text.dropFirst("json:".count).split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard !path.isEmpty, path.allSatisfy({ !$0.isEmpty && $0.utf8.count <= JSONFieldScanner.maximumKey }) else {
                throw LoadOptionError("--cache-status \"\(text)\": give the field's name, or a dotted path for a nested one; \(Self.expected)")
            }
            self = .json(path)
            return
        }
        throw LoadOptionError("--cache-status \"\(text)\": \(Self.expected)")
    }

    package var description: String {
        switch self {
        case .auto: "auto"
        case .header(let name): "header:\(name)"
        case .json(let path): "json:\(path.joined(separator: "."))"
        case .none: "none"
        }
    }
}

/// The vocabularies caches state their outcome in, classified from the bytes of a value.
enum CacheVocabulary {
    /// One word (`HIT`, `Miss from cloudfront`, `TCP_HIT`, `hit-stale`): the first word decides.
    static func word(_ value: UnsafeBufferPointer<UInt8>) -> CacheOutcome {
        let end = value.firstIndex { $0 == 32 || $0 == 9 || $0 == 47 } ?? value.count  // ' ', tab, '/'
        let word = UnsafeBufferPointer(rebasing: value[..<end])
        for (name, outcome) in words where equalsIgnoringCase(word, name) { return outcome }
        return .unknown
    }

    private static let words: [(StaticString, CacheOutcome)] = [
        ("hit", .hit), ("miss", .miss), ("bypass", .bypass), ("stale", .stale), ("expired", .miss),
        ("updating", .stale), ("revalidated", .revalidated), ("refreshhit", .revalidated), ("pass", .bypass),
        ("dynamic", .bypass), ("none", .bypass), ("error", .error), ("tcp_hit", .hit), ("tcp_mem_hit", .hit),
        ("tcp_miss", .miss), ("tcp_refresh_hit", .revalidated), ("tcp_refresh_modified", .miss), ("hit-stale", .stale),
        ("hit-wait", .hit), ("hit-sync", .hit), ("lambdageneratedresponse", .bypass), ("functiongeneratedresponse", .bypass),
        ("redirect", .bypass), ("stale-while-revalidate", .stale), ("true", .hit), ("false", .miss),
    ]

    /// A comma list of per-cache words (Fastly's `HIT, MISS`, Akamai's `Miss from child, Hit
    /// from parent`): the best outcome of any member, and how many members.
    static func list(_ value: UnsafeBufferPointer<UInt8>) -> (CacheOutcome, hops: Int) {
        var best = CacheOutcome.none
        var hops = 0
        var start = 0
        while start <= value.count {
            let end = value[start...].firstIndex(of: 44) ?? value.count  // ','
            let member = trimmed(UnsafeBufferPointer(rebasing: value[start..<end]))
            if !member.isEmpty {
                hops += 1
                let outcome = word(member)
                if outcome.rank > best.rank { best = outcome }
            }
            start = end + 1
        }
        return (hops == 0 ? .unknown : best, hops)
    }

    /// RFC 9211 `Cache-Status`: a list of `cache-name *( ";" param )`, the last member the cache
    /// nearest the client. `hit` → hit, or stale with a negative `ttl` (the RFC's way of saying
    /// it served a stale copy); `fwd=stale` → revalidated with `fwd-status=304`, else miss (the
    /// stale copy was not served); `fwd=miss|uri-miss|vary-miss|partial` → miss;
    /// `fwd=bypass|method|request` → bypass; anything else, or a malformed list, → unknown.
    static func structured(_ value: UnsafeBufferPointer<UInt8>) -> (CacheOutcome, hops: Int) {
        var members: [Range<Int>] = []
        var start = 0, index = 0, quoted = false
        while index < value.count {
            let byte = value[index]
            if quoted {
                if byte == 92 { index += 1 } else if byte == 34 { quoted = false }  // '\' escapes, '"' ends
            } else if byte == 34 {
                quoted = true
            } else if byte == 44 {
                members.append(start..<index)
                start = index + 1
            }
            index += 1
        }
        guard !quoted else { return (.unknown, max(1, members.count)) }
        members.append(start..<value.count)
        let hops = members.count
        guard let last = members.last else { return (.unknown, 0) }
        let member = UnsafeBufferPointer(rebasing: value[last])
        guard !trimmed(UnsafeBufferPointer(rebasing: member[..<(member.firstIndex(of: 59) ?? member.count)])).isEmpty else {
            return (.unknown, hops)  // no cache name
        }
        var hit = false, negativeTTL = false, revalidatedByOrigin = false
        var forwarded: CacheOutcome?
        for parameter in member.split(separator: 59, omittingEmptySubsequences: false).dropFirst() {  // ';'
            let text = trimmed(UnsafeBufferPointer(rebasing: parameter))
            if equalsIgnoringCase(text, "hit") { hit = true; continue }
            guard let equals = text.firstIndex(of: 61) else { continue }  // '='
            let key = UnsafeBufferPointer(rebasing: text[..<equals]), argument = UnsafeBufferPointer(rebasing: text[(equals + 1)...])
            if equalsIgnoringCase(key, "ttl") { negativeTTL = argument.first == 45 }  // '-'
            if equalsIgnoringCase(key, "fwd-status") { revalidatedByOrigin = equalsIgnoringCase(argument, "304") }
            if equalsIgnoringCase(key, "fwd") {
                forwarded = .unknown
                for (name, mapped) in forwardReasons where equalsIgnoringCase(argument, name) { forwarded = mapped }
            }
        }
        if hit { return (negativeTTL ? .stale : .hit, hops) }
        if forwarded == .revalidated { return (revalidatedByOrigin ? .revalidated : .miss, hops) }
        return (forwarded ?? .unknown, hops)
    }

    /// `fwd=stale` stands for "revalidated, or a miss": `fwd-status` decides.
    private static let forwardReasons: [(StaticString, CacheOutcome)] = [
        ("stale", .revalidated), ("miss", .miss), ("uri-miss", .miss), ("vary-miss", .miss), ("partial", .miss),
        ("bypass", .bypass), ("method", .bypass), ("request", .bypass),
    ]

    /// Varnish's `X-Varnish`: the request's id, and on a hit the id of the request that stored
    /// the object — two numbers on a hit, one otherwise.
    static func varnish(_ value: UnsafeBufferPointer<UInt8>) -> CacheOutcome {
        let ids = value.split(separator: 32)
        guard ids.allSatisfy({ $0.allSatisfy { (48...57).contains($0) } }) else { return .unknown }
        switch ids.count {
        case 1: return .miss
        case 2: return .hit
        default: return .unknown
        }
    }

    static func trimmed(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var start = 0, end = bytes.count
        while start < end, bytes[start] == 32 || bytes[start] == 9 { start += 1 }
        while end > start, bytes[end - 1] == 32 || bytes[end - 1] == 9 { end -= 1 }
        return UnsafeBufferPointer(rebasing: bytes[start..<end])
    }

    /// Case-insensitive compare with a lower-case ASCII word.
    static func equalsIgnoringCase(_ bytes: UnsafeBufferPointer<UInt8>, _ expected: StaticString) -> Bool {
        guard bytes.count == expected.utf8CodeUnitCount else { return false }
        return expected.withUTF8Buffer { word in
            for index in 0..<bytes.count where bytes[index] | 0x20 != word[index] | 0x20 { return false }
            return true
        }
    }
}
