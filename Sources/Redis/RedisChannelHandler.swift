import NIOCore

/// A command on its way to the server, with the promise its reply completes.
struct RedisRequest: Sendable {
    let command: RedisCommand
    let promise: EventLoopPromise<RedisReply>
    let timeout: TimeAmount
}

/// Moves bytes and matches replies to requests in order, which makes pipelining free: many
/// callers write on one connection and each gets its own reply back. Every decision — which
/// promise a reply completes, what is overdue, what a closed connection fails — is made by
/// ``RedisChannelStateMachine``; this handler performs what it returns.
///
/// A command that gets no reply in time closes the connection: its peer is silent or stuck (a
/// frozen server, a network path that drops without a reset), and every command queued behind
/// would only wait out its own timeout. The pool's slot opens a new connection.
final class RedisChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private let reader = RESPReader()
    private var machine = RedisChannelStateMachine<EventLoopPromise<RedisReply>>()
    private var deadlineCheck: RepeatedTask?
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
        deadlineCheck = context.eventLoop.scheduleRepeatedTask(initialDelay: checkInterval, delay: checkInterval) { _ in
            bound.value.handler.checkDeadlines(context: bound.value.context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadlineCheck?.cancel()
        deadlineCheck = nil
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        switch machine.writing(request.promise, name: request.command.name, deadline: .now() + request.timeout) {
        case .write:
            var buffer = context.channel.allocator.buffer(capacity: 64)
            RESPEncoder.encode(request.command, into: &buffer)
            context.write(wrapOutboundOut(buffer), promise: promise)
        case .fail(let reply, let error):
            reply.fail(error)
            promise?.fail(error)
        }
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
                switch machine.replyReceived() {
                case .succeed(let promise):
                    promise.succeed(reply)
                case .closeAndFail(let promises, let error):
                    context.close(promise: nil)
                    promises.forEach { $0.fail(error) }
                    return
                case .drop:
                    return
                }
            }
        } catch {
            close(context: context, error: error)
        }
    }

    /// `["message", channel, payload]`: pushed by the server on a subscribed connection, between
    /// (or before) the replies to that connection's commands.
    private static func isPubSubMessage(_ reply: RedisReply) -> Bool {
        guard case .array(let parts) = reply, parts.count == 3, case .string(let kind) = parts[0] else { return false }
        return kind.readableBytesView.elementsEqual("message".utf8)
    }

    private func checkDeadlines(context: ChannelHandlerContext) {
        guard case .closeAndFail(let overdue, let rest, let restError) = machine.deadlinesChecked(now: .now()) else { return }
        // Closed before the callers hear of it, so none of them picks this connection again.
        context.close(promise: nil)
        for (promise, name) in overdue {
            promise.fail(RedisError(.timeout, "no reply to \(name) within the command timeout"))
        }
        rest.forEach { $0.fail(restError) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadlineCheck?.cancel()
        let error = RedisError(.connectionClosed, "the connection to Redis closed with the reply outstanding")
        machine.closed(error).forEach { $0.fail(error) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        close(context: context, error: RedisError(.connectionClosed, "connection error: \(error)"))
    }

    private func close(context: ChannelHandlerContext, error: any Error) {
        let promises = machine.closed(error)
        context.close(promise: nil)
        promises.forEach { $0.fail(error) }
    }
}
