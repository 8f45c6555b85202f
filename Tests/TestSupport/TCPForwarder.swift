import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A loopback TCP forwarder whose target can be switched: new connections go to the current
/// target, existing ones stay where they are — what a DNS name does when a replication group
/// fails over (ElastiCache moves the primary endpoint's record to the promoted replica).
package final class TCPForwarder: Sendable {
    package let port: Int
    private let target: NIOLockedValueBox<Int>
    private let listener: any Channel

    package init(to targetPort: Int) throws {
        let target = NIOLockedValueBox(targetPort)
        self.target = target
        let group = MultiThreadedEventLoopGroup.singleton
        listener = try ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { inbound in
                let port = target.withLockedValue { $0 }
                return ClientBootstrap(group: inbound.eventLoop)
                    .connect(host: "127.0.0.1", port: port)
                    .flatMap { outbound in
                        let (a, b) = (Glue(peer: outbound), Glue(peer: inbound))
                        return outbound.pipeline.addHandler(b).flatMap { inbound.pipeline.addHandler(a) }
                    }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
        port = listener.localAddress?.port ?? 0
    }

    /// Where connections made from now on go.
    package func switchTarget(to port: Int) {
        target.withLockedValue { $0 = port }
    }

    package func close() {
        listener.close(promise: nil)
    }

    /// Copies what one side reads to the other side, and closes both when either closes.
    private final class Glue: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        private let peer: any Channel
        init(peer: any Channel) { self.peer = peer }

        // Reading starts once both sides are glued, so no byte arrives before it can be copied.
        func handlerAdded(context: ChannelHandlerContext) {
            if context.channel.isActive { context.read() }
        }

        func channelActive(context: ChannelHandlerContext) {
            context.read()
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            peer.writeAndFlush(unwrapInboundIn(data), promise: nil)
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            context.read()
        }

        func channelInactive(context: ChannelHandlerContext) {
            peer.close(promise: nil)
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
