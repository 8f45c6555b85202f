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

    /// One request awaiting its reply. A struct in a ring buffer: no allocation per command.
    private struct Pending {
        let promise: EventLoopPromise<RedisReply>
        let deadline: NIODeadline
        let name: String
        var isCompleted = false
    }

    private let reader = RESPReader()
    private var pending = CircularBuffer<Pending>(initialCapacity: 64)
    private var timeoutCheck: RepeatedTask?
    /// How often the oldest outstanding command is checked against its deadline.
    private let checkInterval: TimeAmount
    /// Where pub/sub messages go on a subscribed connection (they answer no command).
    private let onMessage: (@Sendable (RedisReply) -> Void)?

    init(checkInterval: TimeAmount = .milliseconds(10), onMessage: (@Sendable (RedisReply) -> Void)? = nil) {
        self.checkInterval = checkInterval
        self.onMessage = onMessage
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // One timer per connection instead of one per command: replies come back in order, so
        // the oldest outstanding commands are the only ones that can be overdue.
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        timeoutCheck = context.eventLoop.scheduleRepeatedTask(initialDelay: checkInterval, delay: checkInterval) { _ in
            // A connection that let a command time out is closed: its peer is silent or stuck
            // (a frozen server, a network path that drops without a reset), and every command
            // queued behind would only wait out its own timeout. The pool's slot opens a new one.
            // The channel is closed before the overdue callers hear of their timeout, so none of
            // them can pick this connection again for its next command.
            let overdue = bound.value.handler.takeOverdue()
            guard !overdue.isEmpty else { return }
            bound.value.context.close(promise: nil)
            for (promise, name) in overdue {
                promise.fail(RedisError(.timeout, "no reply to \(name) within the command timeout"))
            }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timeoutCheck?.cancel()
        timeoutCheck = nil
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        var buffer = context.channel.allocator.buffer(capacity: 64)
        RESPEncoder.encode(request.command, into: &buffer)
        pending.append(Pending(promise: request.promise, deadline: .now() + request.timeout, name: request.command.name))
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        do {
            try buffer.withUnsafeReadableBytes { try reader.feed($0) }
            while let reply = try reader.next() {
                if let onMessage, Self.isPubSubMessage(reply) {
                    onMessage(reply)
                    continue
                }
                guard let entry = pending.popFirst() else {
                    throw RedisError(.protocolError, "a reply arrived with no command waiting for it")
                }
                // A timed-out command's late reply is dropped here: its promise already failed.
                if !entry.isCompleted { entry.promise.succeed(reply) }
            }
        } catch {
            failAll(error)
            context.close(promise: nil)
        }
    }

    /// `["message", channel, payload]`: pushed by the server on a subscribed connection, between
    /// (or before) the replies to that connection's commands.
    private static func isPubSubMessage(_ reply: RedisReply) -> Bool {
        guard case .array(let parts) = reply, parts.count == 3, case .string(let kind) = parts[0] else { return false }
        return kind.readableBytesView.elementsEqual("message".utf8)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timeoutCheck?.cancel()
        failAll(RedisError(.connectionClosed, "the connection to Redis closed with the reply outstanding"))
        context.fireChannelInactive()
    }

    /// Marks the commands past their deadline as answered and returns their promises, for the
    /// caller to fail (after closing the connection).
    private func takeOverdue() -> [(EventLoopPromise<RedisReply>, String)] {
        let now = NIODeadline.now()
        var overdue: [(EventLoopPromise<RedisReply>, String)] = []
        var index = pending.startIndex
        while index != pending.endIndex, pending[index].deadline <= now {
            if !pending[index].isCompleted {
                pending[index].isCompleted = true
                overdue.append((pending[index].promise, pending[index].name))
            }
            index = pending.index(after: index)
        }
        return overdue
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(RedisError(.connectionClosed, "connection error: \(error)"))
        context.close(promise: nil)
    }

    private func failAll(_ error: any Error) {
        while let entry = pending.popFirst() {
            if !entry.isCompleted { entry.promise.fail(error) }
        }
    }
}
