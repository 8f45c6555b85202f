import NIOCore

/// A reply from Redis (RESP2), decoded and owned by Swift.
package enum RedisReply: Sendable, Hashable, CustomStringConvertible {
    /// A bulk string: binary-safe bytes.
    case string(ByteBuffer)
    /// A simple status such as `OK` or `PONG`.
    case status(String)
    /// An integer reply.
    case integer(Int)
    /// An array of replies (for `MGET`, `SCAN`, …).
    case array([RedisReply])
    /// The nil bulk string or nil array: the key does not exist.
    case null
    /// An error the server returned for this command (`ERR …`, `WRONGTYPE …`).
    case error(String)

    /// The reply's bytes when it is a bulk string or status, `nil` otherwise.
    package var bytes: [UInt8]? {
        switch self {
        case .string(let buffer): Array(buffer.readableBytesView)
        case .status(let text): Array(text.utf8)
        default: nil
        }
    }

    /// The reply as UTF-8 text when it is a bulk string or status.
    package var text: String? {
        switch self {
        case .string(let buffer): String(buffer: buffer)
        case .status(let text): text
        default: nil
        }
    }

    package var description: String {
        switch self {
        case .string(let buffer): "\"\(String(decoding: buffer.readableBytesView.prefix(64), as: UTF8.self))\""
        case .status(let text): text
        case .integer(let value): "(integer) \(value)"
        case .array(let items): "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .null: "(nil)"
        case .error(let message): "(error) \(message)"
        }
    }
}
