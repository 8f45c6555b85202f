// libFuzzer target: the load generator's response scanner over a target's bytes, delivered in
// two reads split where the first byte says (a line, a length or a chunk cut anywhere), under
// each --cache-status mode: the caches' vocabularies (structured Cache-Status lists, Fastly and
// Akamai lists, X-Varnish) and the JSON field scanner read hostile values too.
let modes: [CacheStatusSource] = [.auto, .json(["meta", "cache"]), .header("Cache-Status"), .none]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    var scanner = ResponseScanner(cacheStatus: modes[size % modes.count])
    scanner.expectsBody = size % 7 != 0  // HEAD now and then
    let cut = size > 0 ? Int(bytes[0]) % (size + 1) : 0
    var responses = 0
    let check = { (response: ResponseScanner.Response) in
        precondition((100...999).contains(response.status), "status \(response.status) out of range")
        precondition((response.cache == .unknown) == (response.unknownValue != nil), "an unknown outcome keeps its value, and only it")
        precondition(response.cache == .none || response.source != .nothing, "an outcome names its source")
        responses += 1
    }
    do {
        try scanner.consume(UnsafeRawBufferPointer(rebasing: bytes[..<cut]), onResponse: check)
        try scanner.consume(UnsafeRawBufferPointer(rebasing: bytes[cut...]), onResponse: check)
        _ = scanner.connectionClosed(onResponse: check)
    } catch {
        // Malformed: counted as a bad response by the worker; nothing to check.
    }
    // A response needs at least "HTTP/1.1 200\n\n" (15 bytes).
    precondition(responses <= size / 15 + 1, "\(responses) responses from \(size) bytes")
    return 0
}
