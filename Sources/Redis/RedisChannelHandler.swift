import NIOCore

/// A command on its way to the server, with the promise its reply completes.
struct RedisRequest: Sendable {
    let command: RedisCommand
    let promise: EventLoopPromise<RedisReply>
    let timeout: TimeAmount
}

/// Moves bytes and matches replies to requests in order, which makes pipelining free: many
/// callers write on one connection and each gets its own reply back.
///
/// A request that times out keeps its place in the queue (Redis will still answer it, in order)
/// but its promise is already failed, so the late reply is dropped when it arrives.
final class RedisChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    /// One request awaiting its reply.
    private final class Pending {
        let promise: EventLoopPromise<RedisReply>
        var timer: Scheduled<Void>?
        var isCompleted = false

        init(promise: EventLoopPromise<RedisReply>) { self.promise = promise }

        func complete(_ result: Result<RedisReply, any Error>) {
            guard !isCompleted else { return }
            isCompleted = true
            timer?.cancel()
            promise.completeWith(result)
        }
    }

    private let reader = RESPReader()
    private var pending = CircularBuffer<Pending>(initialCapacity: 64)
    private var writeBuffer: ByteBuffer?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        var buffer = writeBuffer ?? context.channel.allocator.buffer(capacity: 256)
        writeBuffer = nil
        buffer.clear()
        RESPEncoder.encode(request.command, into: &buffer)

        let entry = Pending(promise: request.promise)
        let boundEntry = NIOLoopBound(entry, eventLoop: context.eventLoop)
        entry.timer = context.eventLoop.scheduleTask(in: request.timeout) {
            boundEntry.value.complete(.failure(RedisError(.timeout, "no reply to \(request.command.name) within \(request.timeout)")))
        }
        pending.append(entry)
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        do {
            try buffer.withUnsafeReadableBytes { try reader.feed($0) }
            while let reply = try reader.next() {
                guard let entry = pending.popFirst() else {
                    throw RedisError(.protocolError, "a reply arrived with no command waiting for it")
                }
                entry.complete(.success(reply))
            }
        } catch {
            failAll(error)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(RedisError(.connectionClosed, "the connection to Redis closed with the reply outstanding"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(RedisError(.connectionClosed, "connection error: \(error)"))
        context.close(promise: nil)
    }

    private func failAll(_ error: any Error) {
        while let entry = pending.popFirst() {
            entry.complete(.failure(error))
        }
    }
}
