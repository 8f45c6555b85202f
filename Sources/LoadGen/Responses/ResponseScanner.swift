#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds the end of each HTTP/1.x response in the byte stream and the three facts the load
/// generator needs — status, the cache outcome (`--cache-status`: a header, or a JSON body's
/// field), whether the server will close — without allocating per response: line ends are
/// found with memchr and a line that lies whole in the received bytes is parsed where it lies;
/// only a line split across reads is gathered in a reusable buffer. A body is read only when
/// the outcome may be in it (`json:`, or `auto` with no header stating it).
///
/// Pure (no I/O), so it is tested and fuzzed on its own.
struct ResponseScanner {
    /// What a complete response told us.
    struct Response: Equatable {
        var status: Int
        var cache: CacheOutcome
        /// The server will close the connection after this response.
        var close: Bool
        /// Where ``cache`` was read.
        var source = CacheStatusOrigin.nothing
        /// How many caches the value listed (`Cache-Status`, Fastly, Akamai); 0 when none stated it.
        var hops: UInt8 = 0
        /// The value, when no vocabulary knew it (``CacheOutcome/unknown``).
        var unknownValue: String?
    }

    struct MalformedResponse: Error, Equatable {
        let reason: String
    }

    private enum State {
        case statusLine, headerLine, body(remaining: Int), chunkSize, chunkData(remaining: Int), chunkDataEnd, trailer, untilClose
    }

    private var state = State.statusLine
    private var line: [UInt8] = []
    private var current = Response(status: 0, cache: .none, close: false)
    private var contentLength: Int?
    private var chunked = false
    /// Set before each request: `false` for HEAD, whose response has no body whatever it says.
    var expectsBody = true
    private let cacheStatus: CacheStatusSource
    /// `header:NAME`: the name, lower case.
    private let namedHeader: [UInt8]
    /// `auto` and `json:`: the body's field; read only while ``readsBody``.
    private var json: JSONFieldScanner?
    private var readsBody = false

    static let maximumLine = 16 * 1024
    private static let tooLong = MalformedResponse(reason: "a line longer than \(maximumLine) bytes")

    init(cacheStatus: CacheStatusSource = .auto) {
        self.cacheStatus = cacheStatus
        line.reserveCapacity(256)
        switch cacheStatus {
        case .auto:
            namedHeader = []
            json = JSONFieldScanner(paths: [["cache_status"], ["cache_used"]])
        case .header(let name):
            namedHeader = Array(name.lowercased().utf8)
        case .json(let path):
            namedHeader = []
            json = JSONFieldScanner(paths: [path])
        case .none:
            namedHeader = []
        }
    }

    /// Whether a response is partly received.
    var isMidResponse: Bool {
        if case .statusLine = state { return !line.isEmpty }
        return true
    }

    /// Consumes bytes, calling `onResponse` for every response they complete.
    mutating func consume(_ bytes: UnsafeRawBufferPointer, onResponse: (Response) -> Void) throws(MalformedResponse) {
        guard let raw = bytes.baseAddress, !bytes.isEmpty else { return }
        let base = raw.assumingMemoryBound(to: UInt8.self)
        var index = 0
        let count = bytes.count
        while index < count {
            switch state {
            case .statusLine, .headerLine, .chunkSize, .chunkDataEnd, .trailer:
                let start = base + index
                guard let found = memchr(start, 10, count - index) else {
                    // The line continues in the next read: keep what arrived.
                    guard line.count + (count - index) <= Self.maximumLine else { throw Self.tooLong }
                    line.append(contentsOf: UnsafeBufferPointer(start: start, count: count - index))
                    index = count
                    continue
                }
                let lineFeed = UnsafePointer<UInt8>(found.assumingMemoryBound(to: UInt8.self)) - base
                if line.isEmpty {
                    var end = lineFeed
                    if end > index, base[end - 1] == 13 { end -= 1 }
                    guard end - index <= Self.maximumLine else { throw Self.tooLong }
                    try endOfLine(UnsafeBufferPointer(start: start, count: end - index), onResponse)
                } else {
                    guard line.count + (lineFeed - index) <= Self.maximumLine else { throw Self.tooLong }
                    line.append(contentsOf: UnsafeBufferPointer(start: start, count: lineFeed - index))
                    if line.last == 13 { line.removeLast() }
                    // Moved out while parsed: endOfLine mutates self and must not overlap an access to `line`.
                    let gathered = line
                    line = []
                    try gathered.withUnsafeBufferPointer { (buffer) throws(MalformedResponse) in try endOfLine(buffer, onResponse) }
                    line = gathered
                    line.removeAll(keepingCapacity: true)
                }
                index = lineFeed + 1
            case .body(let remaining):
                let take = min(remaining, count - index)
                if readsBody { json?.consume(UnsafeBufferPointer(start: base + index, count: take)) }
                index += take
                if take == remaining { finish(onResponse) } else { state = .body(remaining: remaining - take) }
            case .chunkData(let remaining):
                let take = min(remaining, count - index)
                if readsBody { json?.consume(UnsafeBufferPointer(start: base + index, count: take)) }
                index += take
                state = take == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - take)
            case .untilClose:
                if readsBody { json?.consume(UnsafeBufferPointer(start: base + index, count: count - index)) }
                index = count
            }
        }
    }

    // MARK: Fields already decoded (HTTP/2)

    /// HTTP/2: a response's header block begins, its fields decoded by HPACK. What follows —
    /// ``field(name:value:)`` for each, ``endOfFields()``, ``bodyBytes(_:)``,
    /// ``endOfStream(onResponse:)`` — classifies it exactly as the same fields and body would
    /// be over HTTP/1.1; the stream, not a length, frames the body.
    mutating func beginFields(status: Int) {
        current = Response(status: status, cache: .none, close: false)
        contentLength = nil
        chunked = false
    }

    /// One decoded field (HPACK names are lower case).
    mutating func field(name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) {
        guard let origin = cacheOrigin(of: name), origin.rawValue < current.source.rawValue else { return }
        classify(value, from: origin, name: name)
    }

    /// The header block ended: the body, if any, is read for the outcome as over HTTP/1.1.
    mutating func endOfFields() {
        readsBody = json != nil && current.source == .nothing
        if readsBody { json?.reset() }
    }

    /// Bytes of the body, as they arrive in DATA frames.
    mutating func bodyBytes(_ bytes: UnsafeRawBufferPointer) {
        guard readsBody, let base = bytes.baseAddress else { return }
        json?.consume(UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: bytes.count))
    }

    /// The stream ended: the response is complete.
    mutating func endOfStream(onResponse: (Response) -> Void) {
        finish(onResponse)
    }

    /// The connection closed: completes a response delimited by the close, if one was pending.
    mutating func connectionClosed(onResponse: (Response) -> Void) -> Bool {
        if case .untilClose = state {
            current.close = true
            finish(onResponse)
            return true
        }
        return false
    }

    private mutating func endOfLine(_ line: UnsafeBufferPointer<UInt8>, _ onResponse: (Response) -> Void) throws(MalformedResponse) {
        switch state {
        case .statusLine:
            if line.isEmpty { return }  // tolerate stray CRLF between responses
            try parseStatusLine(line)
            state = .headerLine
        case .headerLine:
            if line.isEmpty { try endOfHeaders(onResponse) } else { try parseHeader(line) }
        case .chunkSize:
            let digits = line.prefix { $0 != 59 && $0 != 32 && $0 != 9 }  // stop at ';', ' ' or tab (extensions)
            // Hex digits only (no sign, no prefix), at most 15 of them: a size fits an Int.
            guard !digits.isEmpty, digits.count <= 15, digits.allSatisfy(Self.isHexDigit),
                  let size = Int(String(decoding: digits, as: UTF8.self), radix: 16), size >= 0 else {
                throw MalformedResponse(reason: "bad chunk size")
            }
            state = size == 0 ? .trailer : .chunkData(remaining: size)
        case .chunkDataEnd:
            guard line.isEmpty else { throw MalformedResponse(reason: "chunk not followed by CRLF") }
            state = .chunkSize
        case .trailer:
            if line.isEmpty { finish(onResponse) }
        case .body, .chunkData, .untilClose:
            break
        }
    }

    private mutating func parseStatusLine(_ line: UnsafeBufferPointer<UInt8>) throws(MalformedResponse) {
        // "HTTP/1.1 200 OK"
        guard line.count >= 12, line[0] == 72, line[1] == 84, line[2] == 84, line[3] == 80, line[4] == 47, line[8] == 32 else {
            throw MalformedResponse(reason: "not an HTTP/1.x status line")
        }
        var status = 0
        for offset in 9..<12 {
            let digit = line[offset]
            guard digit >= 48, digit <= 57 else { throw MalformedResponse(reason: "bad status code") }
            status = status * 10 + Int(digit - 48)
        }
        // Exactly three digits, then the reason phrase after a space (or nothing).
        guard line.count == 12 || line[12] == 32, status >= 100 else { throw MalformedResponse(reason: "bad status code") }
        let isHTTP10 = line[7] == 48  // "HTTP/1.0"
        current = Response(status: status, cache: .none, close: isHTTP10)
        contentLength = nil
        chunked = false
    }

    private mutating func parseHeader(_ line: UnsafeBufferPointer<UInt8>) throws(MalformedResponse) {
        guard let colon = line.firstIndex(of: 58) else { return }
        var valueStart = colon + 1
        while valueStart < line.count, line[valueStart] == 32 || line[valueStart] == 9 { valueStart += 1 }
        var valueEnd = line.count
        while valueEnd > valueStart, line[valueEnd - 1] == 32 || line[valueEnd - 1] == 9 { valueEnd -= 1 }
        let value = line[valueStart..<valueEnd]
        let name = UnsafeBufferPointer(rebasing: line[..<colon])
        if Self.nameEquals(name, "content-length") {
            let length = try Self.contentLength(value)
            // Two different lengths: which one frames the body is anyone's guess (RFC 9112 §6.3).
            if let contentLength, contentLength != length { throw MalformedResponse(reason: "conflicting Content-Length headers") }
            contentLength = length
        } else if let origin = cacheOrigin(of: name) {
            // Several headers may state it: the one `auto` prefers wins, whatever their order.
            if origin.rawValue < current.source.rawValue { classify(UnsafeBufferPointer(rebasing: value), from: origin, name: name) }
        } else if Self.nameEquals(name, "transfer-encoding") {
            chunked = Self.valueEquals(value.suffix(7), "chunked")
        } else if Self.nameEquals(name, "connection") {
            if Self.valueEquals(value, "close") { current.close = true }
            if Self.valueEquals(value, "keep-alive") { current.close = false }
        }
    }

    /// Which cache-outcome header `name` is under `--cache-status`, or `nil`.
    private func cacheOrigin(of name: UnsafeBufferPointer<UInt8>) -> CacheStatusOrigin? {
        switch cacheStatus {
        case .auto:
            if Self.nameEquals(name, "x-cache") { return .xCache }
            if Self.nameEquals(name, "cache-status") { return .cacheStatus }
            if Self.nameEquals(name, "cf-cache-status") { return .cfCacheStatus }
            if Self.nameEquals(name, "x-cache-status") { return .xCacheStatus }
            if Self.nameEquals(name, "akamai-cache-status") { return .akamaiCacheStatus }
            if Self.nameEquals(name, "x-varnish") { return .xVarnish }
            return nil
        case .header:
            guard name.count == namedHeader.count else { return nil }
            for index in 0..<name.count where name[index] | 0x20 != namedHeader[index] | 0x20 { return nil }
            return .namedHeader
        case .json, .none:
            return nil
        }
    }

    private mutating func classify(_ value: UnsafeBufferPointer<UInt8>, from origin: CacheStatusOrigin, name: UnsafeBufferPointer<UInt8>) {
        let outcome: CacheOutcome
        var hops = 1
        switch origin {
        case .cacheStatus:
            (outcome, hops) = CacheVocabulary.structured(value)
        case .xVarnish:
            outcome = CacheVocabulary.varnish(value)
        case .namedHeader where Self.nameEquals(name, "cache-status"):
            (outcome, hops) = CacheVocabulary.structured(value)
        case .namedHeader where Self.nameEquals(name, "x-varnish"):
            outcome = CacheVocabulary.varnish(value)
        default:
            (outcome, hops) = CacheVocabulary.list(value)
        }
        record(outcome, from: origin, hops: hops, value: value)
    }

    private mutating func record(_ outcome: CacheOutcome, from origin: CacheStatusOrigin, hops: Int, value: UnsafeBufferPointer<UInt8>) {
        current.cache = outcome
        current.source = origin
        current.hops = UInt8(clamping: hops)
        current.unknownValue = outcome == .unknown ? String(decoding: value.prefix(64), as: UTF8.self) : nil
    }

    private mutating func endOfHeaders(_ onResponse: (Response) -> Void) throws(MalformedResponse) {
        if (100..<200).contains(current.status) {
            state = .statusLine  // an interim response; the real one follows
            return
        }
        readsBody = json != nil && current.source == .nothing
        if readsBody { json?.reset() }
        if !expectsBody || current.status == 204 || current.status == 304 {
            finish(onResponse)
        } else if chunked {
            state = .chunkSize
        } else if let contentLength {
            if contentLength == 0 { finish(onResponse) } else { state = .body(remaining: contentLength) }
        } else {
            state = .untilClose
        }
    }

    private mutating func finish(_ onResponse: (Response) -> Void) {
        state = .statusLine
        if readsBody, let found = json?.found {
            found.bytes.withUnsafeBufferPointer { record(found.outcome, from: .jsonField, hops: 1, value: $0) }
        }
        readsBody = false
        onResponse(current)
    }

    /// The largest body a `Content-Length` may announce (1 TiB): far above any response a load
    /// test reads, far below where arithmetic on it could overflow.
    static let maximumContentLength = 1 << 40

    /// A `Content-Length` value: decimal digits only — no sign, no spaces inside, no list —
    /// at most ``maximumContentLength``. A target's bytes are untrusted: anything else is malformed.
    private static func contentLength(_ value: Slice<UnsafeBufferPointer<UInt8>>) throws(MalformedResponse) -> Int {
        guard !value.isEmpty, value.count <= 13 else { throw MalformedResponse(reason: "bad Content-Length") }
        var length = 0
        for byte in value {
            guard byte >= 48, byte <= 57 else { throw MalformedResponse(reason: "bad Content-Length") }
            length = length * 10 + Int(byte - 48)
        }
        guard length <= maximumContentLength else { throw MalformedResponse(reason: "Content-Length above 1 TiB") }
        return length
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (48...57).contains(byte) || (65...70).contains(byte) || (97...102).contains(byte)
    }

    /// Case-insensitive compare of a header name with a lower-case ASCII name.
    private static func nameEquals(_ name: UnsafeBufferPointer<UInt8>, _ expected: StaticString) -> Bool {
        guard name.count == expected.utf8CodeUnitCount else { return false }
        return expected.withUTF8Buffer { bytes in
            for index in 0..<name.count where name[index] | 0x20 != bytes[index] { return false }
            return true
        }
    }

    private static func valueEquals(_ value: Slice<UnsafeBufferPointer<UInt8>>, _ expected: StaticString) -> Bool {
        guard value.count == expected.utf8CodeUnitCount else { return false }
        return expected.withUTF8Buffer { bytes in
            var index = 0
            for byte in value {
                if byte | 0x20 != bytes[index] { return false }
                index += 1
            }
            return true
        }
    }
}
