// libFuzzer target: the RESP reader (hiredis's parser and our conversion of its replies) over
// a server's bytes, fed in two parts split where the first byte says. Whatever arrives, the
// reader returns replies, asks for more, or throws a protocol error — never crashes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let cut = size > 0 ? Int(bytes[0]) % (size + 1) : 0
    let reader = RESPReader()
    var replies = 0
    do {
        for part in [bytes[..<cut], bytes[cut...]] {
            try reader.feed(UnsafeRawBufferPointer(rebasing: part))
            while let reply = try reader.next() {
                replies += 1
                precondition(reply.depth < 10_000, "reply nested deeper than its bytes allow")
            }
        }
    } catch {
        precondition(error.code == .protocolError, "\(error)")
    }
    // The shortest reply is 3 bytes (":0\r\n" is 4; "_\r\n" 3).
    precondition(replies <= size / 3 + 1, "\(replies) replies from \(size) bytes")
    return 0
}
