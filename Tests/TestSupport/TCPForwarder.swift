import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A loopback TCP forwarder whose target can be switched: new connections go to the current
/// target, existing ones stay where they are — what a DNS name does when a replication group
/// fails over (ElastiCache moves the primary endpoint's record to the promoted replica). It can
/// also hold the target's replies (a slow network on the way back), so a test knows that a query
/// ran while its answer has not arrived.
package final class TCPForwarder: Sendable {
    package let port: Int
    private let target: NIOLockedValueBox<Int>
    private let listener: any Channel
    private let hold = Hold()

    /// Replies held back while holding: what arrived from the target, for which client channel.
    final class Hold: Sendable {
        struct State {
            var holding = false
            var pending: [(peer: any Channel, bytes: ByteBuffer)] = []
            var heldBytes = 0
        }
        let state = NIOLockedValueBox(State())
    }

    /// - Parameter host: the loopback address it listens on (any of 127.0.0.0/8: a name the
    ///   target's certificate does not cover).
    package init(to targetPort: Int, listeningOn host: String = "127.0.0.1") throws {
        let target = NIOLockedValueBox(targetPort)
        self.target = target
        let hold = self.hold
        let group = MultiThreadedEventLoopGroup.singleton
        listener = try ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { inbound in
                let port = target.withLockedValue { $0 }
                return ClientBootstrap(group: inbound.eventLoop)
                    .connect(host: "127.0.0.1", port: port)
                    .flatMap { outbound in
                        let (a, b) = (Glue(peer: outbound, hold: nil), Glue(peer: inbound, hold: hold))
                        return outbound.pipeline.addHandler(b).flatMap { inbound.pipeline.addHandler(a) }
                    }
            }
            .bind(host: host, port: 0).wait()
        port = listener.localAddress?.port ?? 0
    }

    /// Where connections made from now on go.
    package func switchTarget(to port: Int) {
        target.withLockedValue { $0 = port }
    }

    package func close() {
        listener.close(promise: nil)
    }

    /// From now on, what the target sends is kept instead of forwarded.
    package func holdReplies() {
        hold.state.withLockedValue { $0.holding = true }
    }

    /// Bytes the target sent since ``holdReplies()``.
    package var heldBytes: Int { hold.state.withLockedValue { $0.heldBytes } }

    /// Forwards what was held, in order, and forwards again from now on.
    package func releaseReplies() {
        let pending = hold.state.withLockedValue { state -> [(peer: any Channel, bytes: ByteBuffer)] in
            defer { state = .init() }
            return state.pending
        }
        for (peer, bytes) in pending { peer.writeAndFlush(bytes, promise: nil) }
    }

    /// Copies what one side reads to the other side, and closes both when either closes.
    private final class Glue: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        private let peer: any Channel
        /// Set on the target's side: replies may be held.
        private let hold: Hold?
        init(peer: any Channel, hold: Hold?) {
            self.peer = peer
            self.hold = hold
        }

        // Reading starts once both sides are glued, so no byte arrives before it can be copied.
        func handlerAdded(context: ChannelHandlerContext) {
            if context.channel.isActive { context.read() }
        }

        func channelActive(context: ChannelHandlerContext) {
            context.read()
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = unwrapInboundIn(data)
            let held = hold?.state.withLockedValue { state -> Bool in
                guard state.holding else { return false }
                state.pending.append((peer, bytes))
                state.heldBytes += bytes.readableBytes
                return true
            } ?? false
            if !held { peer.writeAndFlush(bytes, promise: nil) }
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
