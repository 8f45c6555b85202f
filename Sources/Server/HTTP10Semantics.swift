import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// HTTP/1.1 as Hummingbird serves it, plus HTTP/1.0's connection rules, which its request
/// model (HTTPTypes, no version) cannot see: an HTTP/1.0 request without
/// `Connection: keep-alive` gets its answer and then the connection closes; one with it gets
/// `Connection: keep-alive` back. Without this, `ab` (an HTTP/1.0 client) waits forever.
struct HTTP1ChannelWithHTTP10Semantics: ServerChildChannel, HTTPChannelHandler {
    typealias Value = HTTP1Channel.Value

    let inner: HTTP1Channel

    var responder: Responder { inner.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            // Between NIO's HTTP/1 codec (which knows the version) and the HTTPTypes conversion.
            let decoder = try channel.pipeline.syncOperations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try channel.pipeline.syncOperations.addHandler(HTTP10ConnectionHandler(), position: .after(decoder))
            return value
        }
    }

    /// Serves the connection's requests on its own event loop (``EventLoopTaskExecutor``).
    func handle(value: Value, logger: Logger) async {
        let executor = EventLoopTaskExecutor(loop: value.channel.eventLoop)
        await withTaskExecutorPreference(executor) {
            await inner.handle(value: value, logger: logger)
        }
    }
}

/// Rewrites HTTP/1.0 connection headers on the way in and out; HTTP/1.1 passes untouched, and
/// the first HTTP/1.1 request with no HTTP/1.0 answer pending removes the handler.
final class HTTP10ConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// For each request in order: whether its response must announce keep-alive.
    private var keepAliveAnnouncements = CircularBuffer<Bool>()

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = unwrapInboundIn(data) else {
            context.fireChannelRead(data)
            return
        }
        if head.version.major == 1 && head.version.minor == 0 {
            if head.isKeepAlive {
                keepAliveAnnouncements.append(true)
            } else {
                keepAliveAnnouncements.append(false)
                // Hummingbird closes after answering a request that says so.
                head.headers.replaceOrAdd(name: "connection", value: "close")
            }
        } else if keepAliveAnnouncements.isEmpty {
            // An HTTP/1.1 client with no HTTP/1.0 answer pending: nothing left to rewrite on this
            // connection, so the handler leaves the pipeline instead of costing every later part.
            context.fireChannelRead(data)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        } else {
            keepAliveAnnouncements.append(false)
        }
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .head(var head) = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        if keepAliveAnnouncements.popFirst() == true, !head.headers.contains(name: "connection") {
            head.headers.add(name: "Connection", value: "keep-alive")
        }
        context.write(wrapOutboundOut(.head(head)), promise: promise)
    }
}
