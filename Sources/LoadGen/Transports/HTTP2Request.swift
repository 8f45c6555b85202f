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
    ///   - fields: the last request's header block and what it became: a run's requests differ
    ///     in their request line only, so the block is parsed once, not per request.
    /// - Returns: `nil` when the bytes hold no complete request head.
    init?(http1: ByteBuffer, scheme: String, fields: inout HeaderBlock?) {
        let view = http1.readableBytesView
        guard let lineEnd = view.firstIndex(of: 13), let end = Self.endOfHead(view) else { return nil }
        let requestLine = view[view.startIndex..<lineEnd]
        guard let firstSpace = requestLine.firstIndex(of: 32),
              let lastSpace = requestLine.lastIndex(of: 32), firstSpace < lastSpace else { return nil }
        let block = view[lineEnd..<end]
        if fields.map({ !$0.bytes.elementsEqual(block) }) ?? true { fields = HeaderBlock(block) }
        guard let fields else { return nil }
        headers = HPACKHeaders([(":method", String(decoding: requestLine[..<firstSpace], as: UTF8.self)), (":scheme", scheme),
                                (":authority", fields.authority)])
        // A path per key would fill the dynamic table with entries used once, and every lookup
        // would search them all: sent literally, never indexed.
        headers.add(name: ":path", value: String(decoding: requestLine[(firstSpace + 1)..<lastSpace], as: UTF8.self), indexing: .nonIndexable)
        headers.add(contentsOf: fields.fields)
        let bodyStart = end + 4
        body = bodyStart < view.endIndex ? http1.getSlice(at: http1.readerIndex + (bodyStart - view.startIndex), length: view.endIndex - bodyStart) : nil
    }

    /// A request's header lines (after the request line), as HTTP/2 fields.
    struct HeaderBlock {
        let bytes: [UInt8]
        let authority: String
        let fields: [(String, String)]

        init(_ block: ByteBufferView) {
            bytes = Array(block)
            var authority = ""
            var fields: [(String, String)] = []
            for line in String(decoding: block, as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: true) {
                guard let colon = line.firstIndex(of: ":") else { continue }
                let name = line[..<colon].lowercased()
                let value = line[line.index(after: colon)...].drop { $0 == " " }
                if name == "host" {
                    authority = String(value)
                } else if !HTTP2Request.connectionFields.contains(name) {
                    fields.append((name, String(value)))
                }
            }
            self.authority = authority
            self.fields = fields
        }
    }

    /// Where `\r\n\r\n` begins.
    private static func endOfHead(_ view: ByteBufferView) -> ByteBufferView.Index? {
        var index = view.startIndex
        while index + 3 < view.endIndex {
            guard view[index + 3] == 10 else {
                index += view[index + 3] == 13 ? 1 : 4  // no \r\n\r\n can end before index + 4
                continue
            }
            if view[index] == 13, view[index + 1] == 10, view[index + 2] == 13, view[index + 3] == 10 { return index }
            index += 1
        }
        return nil
    }
}
