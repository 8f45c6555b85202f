import NIOCore
import NIOHPACK

/// A request the worker formatted for HTTP/1.1 (``RequestTemplate/format(key:into:)``), as
/// HTTP/2 sends it: the request line and `Host` become the pseudo-header fields, names go lower
/// case, connection-specific fields are dropped (RFC 9113 §8.2.2), the body stays as it is.
///
/// The worker formats one request the same way whichever HTTP carries it, so a run over h1 and
/// one over h2 send the same requests; only this translation differs.
struct HTTP2Request {
    var headers: HPACKHeaders
    var body: ByteBuffer?

    /// Fields HTTP/2 forbids: they describe an HTTP/1.1 connection.
    private static let connectionFields: Set<String> = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"]

    /// - Parameters:
    ///   - http1: one request as ``RequestTemplate`` formats it (ours, so well formed).
    ///   - scheme: `https` or `http`.
    /// - Returns: `nil` when the bytes hold no complete request head.
    init?(http1: ByteBuffer, scheme: String) {
        let view = http1.readableBytesView
        guard let end = Self.endOfHead(view) else { return nil }
        let head = String(decoding: view[view.startIndex..<end], as: UTF8.self)
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: true).makeIterator()
        guard let requestLine = lines.next() else { return nil }
        let parts = requestLine.split(separator: " ")
        guard parts.count == 3 else { return nil }
        var fields: [(String, String)] = []
        var authority = ""
        while let line = lines.next() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].drop { $0 == " " }
            if name == "host" {
                authority = String(value)
            } else if !Self.connectionFields.contains(name) {
                fields.append((name, String(value)))
            }
        }
        headers = HPACKHeaders([(":method", String(parts[0])), (":scheme", scheme), (":authority", authority)])
        // A path per key would fill the dynamic table with entries used once, and every lookup
        // would search them all: sent literally, never indexed.
        headers.add(name: ":path", value: String(parts[1]), indexing: .nonIndexable)
        headers.add(contentsOf: fields)
        let bodyStart = end + 4
        body = bodyStart < view.endIndex ? http1.getSlice(at: http1.readerIndex + (bodyStart - view.startIndex), length: view.endIndex - bodyStart) : nil
    }

    /// Where `\r\n\r\n` begins.
    private static func endOfHead(_ view: ByteBufferView) -> ByteBufferView.Index? {
        var index = view.startIndex
        while index + 3 < view.endIndex {
            if view[index] == 13, view[index + 1] == 10, view[index + 2] == 13, view[index + 3] == 10 { return index }
            index += 1
        }
        return nil
    }
}
