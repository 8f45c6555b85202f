import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The pipelined connections to one Redis node: what a standalone client uses, and what a
/// cluster client keeps per node.
final class RedisNodePool: Sendable {
    let configuration: RedisConfiguration
    private let slots: [RedisConnectionSlot]
    private let nextSlot = NIOLockedValueBox(0)
    /// Whether the node answers; open, callers fail at once while a probe asks it again.
    private let breaker = NIOLockedValueBox(CircuitBreaker())
    private let isClosed = NIOLockedValueBox(false)
    /// How often the probe of a silent node asks again.
    static let probeInterval: Duration = .milliseconds(200)

    init(configuration: RedisConfiguration, tlsContext: RedisTLSContext?, eventLoopGroup: any EventLoopGroup) {
        self.configuration = configuration
        self.slots = (0..<configuration.poolSize).map { _ in
            RedisConnectionSlot(configuration: configuration, tlsContext: tlsContext, eventLoop: eventLoopGroup.next())
        }
    }

    /// Sends `command` on a ready connection (connecting one when none is).
    func send(_ command: RedisCommand) async throws -> RedisReply {
        try await guarded { try await connection().send(command).get() }
    }

    /// `ASKING` then `command`, back to back on one connection, as an `ASK` redirection needs:
    /// the flag `ASKING` sets holds for the next command on that connection only.
    func sendAsking(_ command: RedisCommand) async throws -> RedisReply {
        try await guarded { try await connection().send(.asking, then: command).get() }
    }

    /// The node's address as errors name it.
    private var node: String { "\(configuration.host):\(configuration.port)" }

    /// Runs `exchange` unless the node's breaker is open, and tells the breaker how it went.
    /// Its errors name the node.
    private func guarded(_ exchange: () async throws -> RedisReply) async throws -> RedisReply {
        guard breaker.withLockedValue({ $0.admits }) else {
            throw RedisError(.unresponsive, "Redis at \(configuration) let several commands in a row time out; commands fail at once until it answers a probe",
                             node: node)
        }
        do {
            let reply = try await exchange()
            _ = breaker.withLockedValue { $0.answered() }
            return reply
        } catch var error as RedisError {
            if error.code == .timeout, breaker.withLockedValue({ $0.timedOut(now: .now()) }) == .startProbing { startProbing() }
            error.node = error.node ?? node
            throw error
        }
    }

    /// Asks a silent node `PING` every ``probeInterval`` (on a new connection: the silent ones
    /// were closed) until it answers, then lets commands through again.
    private func startProbing() {
        Task { [self] in
            while !isClosed.withLockedValue({ $0 }) {
                try? await Task.sleep(for: Self.probeInterval)
                guard (try? await connection().send(.ping).get()) != nil else { continue }
                _ = breaker.withLockedValue { $0.answered() }
                return
            }
        }
    }

    /// Sends `command`; a `READONLY` reply (the node behind this name became a replica: a
    /// replication group failed over and DNS moved) drops the connection and retries once on a
    /// new one, which reaches the node the name points to now.
    func sendReconnectingOnReadOnly(_ command: RedisCommand, statistics: RedisClientStatistics) async throws -> RedisReply {
        var used: RedisConnection?
        let reply = try await guarded {
            let connection = try await connection()
            used = connection
            return try await connection.send(command).get()
        }
        guard let connection = used else { return reply }
        guard case .error(let message) = reply, ClusterRedirection(errorReply: message) == .readOnly else { return reply }
        statistics.count(.readOnlyReconnects)
        connection.close()
        // The slot's own close handler runs first (it was registered first), so once the close
        // is done the slot connects anew instead of handing out the dropped connection.
        try? await connection.channel.closeFuture.get()
        return try await self.connection().send(command).get()
    }

    func close() {
        isClosed.withLockedValue { $0 = true }
        slots.forEach { $0.close() }
    }

    /// A ready connection: one on the caller's own event loop when there is one (its reply then
    /// resumes the caller without waking another thread), else each slot in turn, else a new one.
    ///
    /// A caller on a loop whose own slots are not open yet starts opening one and is served by
    /// another loop's connection meanwhile. Without that, the loop that connected first would
    /// serve every loop for good (another loop's slot opens only when no slot at all is ready),
    /// and most replies would cross threads.
    private func connection() async throws -> RedisConnection {
        if let current = MultiThreadedEventLoopGroup.currentEventLoop {
            var ownSlot: RedisConnectionSlot?
            for slot in slots where slot.eventLoop === current {
                if let connection = slot.readyConnection { return connection }
                ownSlot = ownSlot ?? slot
            }
            // Connects (or joins the connect in flight; fails at once while backing off).
            _ = ownSlot?.connection()
        }
        let start = nextSlot.withLockedValue { value -> Int in
            defer { value &+= 1 }
            return value
        }
        for offset in 0..<slots.count {
            if let connection = slots[(start &+ offset) % slots.count].readyConnection {
                return connection
            }
        }
        return try await slots[start % slots.count].connection().get()
    }
}
