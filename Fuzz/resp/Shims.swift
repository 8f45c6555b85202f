// What RESPCodec.swift takes from NIOCore and the rest of the Redis module, reduced to what it
// uses, so the fuzz build compiles the reader alone (seconds, not NIO's minutes).
package struct ByteBuffer: Hashable {
    var bytes: [UInt8] = []
    mutating func writeBytes(_ source: UnsafeRawBufferPointer) { bytes.append(contentsOf: source) }
}

struct ByteBufferAllocator {
    func buffer(capacity: Int) -> ByteBuffer { ByteBuffer(bytes: []) }
}

struct RedisCommand {
    var arguments: [[UInt8]]
}

package enum RedisReply: Hashable {
    case string(ByteBuffer), status(String), integer(Int), array([RedisReply]), null, error(String)

    /// How deeply arrays nest.
    var depth: Int {
        guard case .array(let items) = self else { return 0 }
        return 1 + (items.map(\.depth).max() ?? 0)
    }
}
