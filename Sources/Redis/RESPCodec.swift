import CHiredis
import NIOCore

/// RESP encoding by hiredis's `redisFormatCommandArgv`, with exact lengths so NUL bytes survive.
enum RESPEncoder {
    static func encode(_ command: RedisCommand, into buffer: inout ByteBuffer) {
        let arguments = command.arguments
        var lengths = arguments.map(\.count)
        // Every argument must stay pinned while hiredis reads it; nest the pointer scopes.
        withPointers(arguments[...], collected: []) { pointers in
            var target: UnsafeMutablePointer<CChar>?
            var argv = pointers
            let length = redisFormatCommandArgv(&target, Int32(arguments.count), &argv, &lengths)
            guard length > 0, let target else {
                preconditionFailure("hiredis could not format a command (out of memory)")
            }
            defer { redisFreeCommand(target) }
            buffer.writeBytes(UnsafeRawBufferPointer(start: target, count: Int(length)))
        }
    }

    private static func withPointers(
        _ rest: ArraySlice<[UInt8]>,
        collected: [UnsafePointer<CChar>?],
        _ body: ([UnsafePointer<CChar>?]) -> Void
    ) {
        guard let first = rest.first else { return body(collected) }
        first.withUnsafeBufferPointer { bytes in
            let pointer = UnsafeRawPointer(bytes.baseAddress ?? UnsafePointer<UInt8>(bitPattern: 1)!)
                .assumingMemoryBound(to: CChar.self)
            withPointers(rest.dropFirst(), collected: collected + [pointer], body)
        }
    }
}

/// An incremental RESP parser over hiredis's reader API: feed bytes as they arrive, take whole
/// replies out. Pure (no I/O), so it can be fuzzed with arbitrary input.
///
/// Not thread-safe: one reader belongs to one connection's event loop.
package final class RESPReader {
    private let reader: UnsafeMutablePointer<redisReader>

    /// The most elements an array reply may announce. hiredis allocates an array's element
    /// table when its header (`*555555552`) arrives, before any element does: a broken or
    /// hostile server could make it allocate gigabytes with 12 bytes (found by `make fuzz`).
    /// The largest arrays asked for here (MGET batches, SCAN pages, cluster topology) are far
    /// smaller.
    package static let maximumArrayElements: Int32 = 1 << 20

    package init() {
        guard let reader = redisReaderCreate() else { preconditionFailure("hiredis reader: out of memory") }
        reader.pointee.fn = boundedReplyFunctions
        self.reader = reader
    }

    deinit {
        redisReaderFree(reader)
    }

    /// Appends received bytes.
    package func feed(_ bytes: UnsafeRawBufferPointer) throws(RedisError) {
        guard bytes.count > 0 else { return }
        let status = redisReaderFeed(reader, bytes.baseAddress!.assumingMemoryBound(to: CChar.self), bytes.count)
        if status != REDIS_OK { throw protocolError() }
    }

    /// The next complete reply, or `nil` when more bytes are needed.
    /// - Throws: `protocolError` on bytes that are not RESP; the stream cannot be resumed.
    package func next() throws(RedisError) -> RedisReply? {
        var raw: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &raw) == REDIS_OK else { throw protocolError() }
        guard let raw else { return nil }
        defer { freeReplyObject(raw) }
        return Self.convert(raw.assumingMemoryBound(to: redisReply.self))
    }

    private func protocolError() -> RedisError {
        var message = withUnsafeBytes(of: &reader.pointee.errstr) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
        // What hiredis says when an array constructor refuses.
        if message == "Out of memory" { message += " (or an array reply announcing more than \(Self.maximumArrayElements) elements)" }
        return RedisError(.protocolError, "invalid RESP from server: \(message)")
    }

    private static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let value = reply.pointee
        switch value.type {
        case REDIS_REPLY_STRING:
            var buffer = ByteBufferAllocator().buffer(capacity: value.len)
            if value.len > 0 {
                buffer.writeBytes(UnsafeRawBufferPointer(start: value.str, count: value.len))
            }
            return .string(buffer)
        case REDIS_REPLY_STATUS:
            return .status(text(value))
        case REDIS_REPLY_ERROR:
            return .error(text(value))
        case REDIS_REPLY_INTEGER:
            return .integer(Int(value.integer))
        case REDIS_REPLY_ARRAY:
            var items: [RedisReply] = []
            items.reserveCapacity(value.elements)
            for index in 0..<value.elements {
                if let element = value.element[index] { items.append(convert(element)) }
            }
            return .array(items)
        default:
            return .null
        }
    }

    private static func text(_ reply: redisReply) -> String {
        guard let str = reply.str else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: str, count: reply.len), as: UTF8.self)
    }
}

/// hiredis's own reply constructors, with the array constructor bounded
/// (``RESPReader/maximumArrayElements``); shared by every reader, never freed.
nonisolated(unsafe) private let boundedReplyFunctions: UnsafeMutablePointer<redisReplyObjectFunctions> = {
    let functions = UnsafeMutablePointer<redisReplyObjectFunctions>.allocate(capacity: 1)
    functions.initialize(to: hiredisReplyFunctions)
    functions.pointee.createArray = { task, elements in
        guard elements >= -1, elements <= RESPReader.maximumArrayElements else { return nil }
        return hiredisReplyFunctions.createArray(task, elements)
    }
    return functions
}()

/// The constructors a plain hiredis reader uses.
private let hiredisReplyFunctions: redisReplyObjectFunctions = {
    guard let reader = redisReaderCreate() else { preconditionFailure("hiredis reader: out of memory") }
    defer { redisReaderFree(reader) }
    return reader.pointee.fn.pointee
}()
