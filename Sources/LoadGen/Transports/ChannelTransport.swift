import NIOCore
import NIOHTTP2
import NIOPosix
import NIOSSL
import NIOTLS

/// SwiftNIO channels on event loops of one group: TLS targets, HTTP/2 (ALPN or `--h2c`), and
/// targets on systems without epoll. The group is shut down with its last transport.
///
/// HTTP/1.1: a slot is a connection. HTTP/2: the ``LoadPlan/streams`` slots of a connection
/// group share one ``HTTP2Connection`` (``ChannelTransport+HTTP2.swift``); each request is a
/// stream on it, and the group replaces the connection when the server sends `GOAWAY`.
final class ChannelTransport: LoadTransport, @unchecked Sendable {
    let eventLoop: any EventLoop
    private let group: MultiThreadedEventLoopGroup
    private let isLast: Bool
    let plan: LoadPlan
    private(set) var worker: LoopWorker?
    /// HTTP/1.1: each slot's channel, by ``LoopWorker/Slot/position``.
    private var channels: [(any Channel)?] = []
    /// HTTP/2: each connection group's state, by `position / plan.streams`.
    var groups: [HTTP2Group] = []
    /// HTTP/2: some connection of this transport agreed on it (a later failure is the
    /// target's trouble, not a sign it does not speak HTTP/2).
    var spokeHTTP2 = false

    static func make(threads: Int, plan: LoadPlan) -> [any LoadTransport] {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let loops = Array(group.makeIterator())
        return loops.enumerated().map { index, loop in
            ChannelTransport(eventLoop: loop, group: group, isLast: index == loops.count - 1, plan: plan)
        }
    }

    private init(eventLoop: any EventLoop, group: MultiThreadedEventLoopGroup, isLast: Bool, plan: LoadPlan) {
        self.eventLoop = eventLoop
        self.group = group
        self.isLast = isLast
        self.plan = plan
    }


    func attach(_ worker: LoopWorker) {
        self.worker = worker
        channels = Array(repeating: nil, count: worker.allSlots.count)
        if plan.mayUseHTTP2 {
            groups = (0..<(worker.allSlots.count + plan.streams - 1) / plan.streams).map { _ in HTTP2Group() }
        }
    }

    func execute(_ work: @escaping @Sendable () -> Void) {
        eventLoop.execute(work)
    }

    func schedule(after delay: UInt64, _ work: @escaping () -> Void) {
        let bound = NIOLoopBound(work, eventLoop: eventLoop)
        eventLoop.scheduleTask(in: .nanoseconds(Int64(delay))) { bound.value() }
    }

    func open(_ slot: LoopWorker.Slot) {
        if plan.mayUseHTTP2 { openStream(slot) } else { openHTTP1(slot) }
    }

    /// HTTP/1.1 over TLS: the slot's own connection, open once TCP is (requests written before
    /// the handshake ends wait in the TLS handler).
    private func openHTTP1(_ slot: LoopWorker.Slot) {
        guard let worker else { return }
        let target = plan.targets[slot.target]
        let bootstrap = bootstrap(for: worker) { [self] channel in
            if let tls = plan.tls {
                let serverName = LoadTLS.serverName(for: target.host)
                try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls.context, serverHostname: serverName))
            }
            try channel.pipeline.syncOperations.addHandler(LoadConnectionHandler(transport: self, worker: worker, slot: slot))
        }
        bootstrap.connect(host: target.host, port: target.port).whenComplete { [self] result in
            switch result {
            case .success(let channel):
                channels[slot.position] = channel
                worker.opened(slot)
            case .failure:
                worker.openFailed(slot)
            }
        }
    }

    /// A client bootstrap on this transport's loop whose channels `configure` sets up.
    func bootstrap(for worker: LoopWorker, _ configure: @escaping @Sendable (any Channel) throws -> Void) -> ClientBootstrap {
        ClientBootstrap(group: eventLoop)
            .connectTimeout(.nanoseconds(Int64(worker.connectTimeoutNanos)))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try configure(channel) }
            }
    }

    /// ALPN chose HTTP/1.1 for a slot's connection (``HTTPChoice/auto``): the slot is open on it.
    func openedHTTP1(_ channel: any Channel, _ slot: LoopWorker.Slot) throws {
        guard let worker else { return }
        try channel.pipeline.syncOperations.addHandler(LoadConnectionHandler(transport: self, worker: worker, slot: slot))
        channels[slot.position] = channel
        worker.opened(slot)
    }

    func send(_ request: ByteBuffer, on slot: LoopWorker.Slot) {
        if let channel = channels[slot.position] {
            channel.writeAndFlush(request, promise: nil)
        } else if plan.mayUseHTTP2 {
            sendStream(request, on: slot)
        }
    }

    func close(_ slot: LoopWorker.Slot) {
        if let channel = channels[slot.position] {
            channel.close(promise: nil)
        } else if plan.mayUseHTTP2 {
            closeStream(slot)
        }
    }

    /// The handler saw its channel go inactive.
    fileprivate func closed(_ channel: any Channel, _ slot: LoopWorker.Slot) {
        guard channels[slot.position] === channel else { return }
        channels[slot.position] = nil
        worker?.connectionClosed(slot)
    }

    func shutdown() async {
        if plan.mayUseHTTP2 { try? await eventLoop.submit { [self] in closeAllStreams() }.get() }
        worker = nil
        if isLast { try? await group.shutdownGracefully() }
    }
}

/// Hands a connection's events to its worker; all the logic lives there.
final class LoadConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let transport: ChannelTransport
    private let worker: LoopWorker
    private let slot: LoopWorker.Slot

    init(transport: ChannelTransport, worker: LoopWorker, slot: LoopWorker.Slot) {
        self.transport = transport
        self.worker = worker
        self.slot = slot
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        unwrapInboundIn(data).withUnsafeReadableBytes { worker.received(slot, $0) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        transport.closed(context.channel, slot)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent { worker.tlsHandshakeCompleted(slot) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is NIOSSLError || error is BoringSSLError { worker.tlsHandshakeFailed(slot) }
        context.close(promise: nil)
    }
}
