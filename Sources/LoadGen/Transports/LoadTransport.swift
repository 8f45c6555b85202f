import NIOCore

/// How a ``LoopWorker``'s connections reach the network, and the one thread they all run on.
///
/// `http://` runs go through ``SocketTransport``: non-blocking sockets on an epoll loop of its
/// own, one `send` and one `recv` per request and nothing between them and the worker — the
/// load generator's own cost per request is then its scanner and recorder, not a channel
/// pipeline. `https://` runs go through ``ChannelTransport``: SwiftNIO channels with
/// swift-nio-ssl. The worker decides everything; a transport moves bytes and reports back, on its
/// thread: ``LoopWorker/opened(_:)``, ``LoopWorker/openFailed(_:)``,
/// ``LoopWorker/received(_:_:)`` and ``LoopWorker/connectionClosed(_:)``.
protocol LoadTransport: AnyObject, Sendable {
    /// Gives the transport the worker it reports to (once, before anything runs).
    func attach(_ worker: LoopWorker)
    /// Runs `work` on the transport's thread; callable from any thread.
    func execute(_ work: @escaping @Sendable () -> Void)
    /// Runs `work` on the transport's thread `delay` nanoseconds from now (called on that thread).
    func schedule(after delay: UInt64, _ work: @escaping () -> Void)
    /// Starts connecting the slot to its target.
    func open(_ slot: LoopWorker.Slot)
    /// Writes one request on the slot's open connection.
    func send(_ request: ByteBuffer, on slot: LoopWorker.Slot)
    /// Closes the slot's connection, if open or opening; the worker then hears
    /// `connectionClosed` (after the current event with sockets; NIO may report it at once).
    func close(_ slot: LoopWorker.Slot)
    /// Ends the thread, after the worker finished.
    func shutdown() async
}

extension LoadTransport {
    /// Runs `work` on the transport's thread and returns its result.
    func submit<Result: Sendable>(_ work: @escaping @Sendable () -> Result) async -> Result {
        await withCheckedContinuation { continuation in
            execute { continuation.resume(returning: work()) }
        }
    }
}

enum LoadTransports {
    /// One transport per thread for `plan`: sockets for `http://`, NIO channels for `https://`.
    /// - Parameter addresses: the targets' addresses, from ``TargetAddresses/resolve(_:)``.
    static func make(for plan: LoadPlan, addresses: [[SocketAddressBytes]]) throws -> [any LoadTransport] {
        #if os(Linux)
        if plan.tls == nil && plan.http != .h2c {
            return try (0..<plan.threads).map { _ throws(LoadRunError) in try SocketTransport(addresses: addresses) }
        }
        #endif
        return ChannelTransport.make(threads: plan.threads, plan: plan)
    }
}
