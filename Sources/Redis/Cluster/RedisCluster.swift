import NIOConcurrencyHelpers
import NIOCore

/// The cluster side of ``RedisClient``: the slot map, one connection pool per node, and the
/// loop that follows `MOVED`/`ASK`/`TRYAGAIN` until a command reaches the node that owns its key.
///
/// The topology is read with `CLUSTER SHARDS` (or `CLUSTER SLOTS` on servers before 7) from any
/// node that answers. Reads are single-flighted: however many commands find the map stale at
/// once, one read runs and all of them wait for it. Decisions are taken under the lock and
/// pools are closed after it.
final class RedisCluster: Sendable {
    /// Follow at most this many redirections per command, then fail with `tooManyRedirections`.
    static let maximumRedirections = 5
    /// Refreshes asked for by failures are at most this often: a dead node fails every command
    /// sent to it, and one topology read per burst is enough.
    static let refreshInterval = TimeAmount.milliseconds(100)
    /// A topology older than this is read again in the background on the next command, so
    /// new replicas and quiet failovers are seen without waiting for an error.
    static let maximumTopologyAge = TimeAmount.seconds(5)

    private struct State {
        var topology: ClusterTopology?
        var pools: [ClusterNode: RedisNodePool] = [:]
        var refreshing: Task<ClusterTopology, any Error>?
        var lastRefresh: NIODeadline = .distantPast
        var replicaTurn = 0
    }

    private let seed: RedisConfiguration
    private let tlsContext: RedisTLSContext?
    private let eventLoopGroup: any EventLoopGroup
    private let statistics: RedisClientStatistics
    private let state = NIOLockedValueBox(State())

    init(seed: RedisConfiguration, seedPool: RedisNodePool, tlsContext: RedisTLSContext?,
         eventLoopGroup: any EventLoopGroup, statistics: RedisClientStatistics) {
        self.seed = seed
        self.tlsContext = tlsContext
        self.eventLoopGroup = eventLoopGroup
        self.statistics = statistics
        state.withLockedValue { $0.pools[ClusterNode(host: seed.host, port: seed.port)] = seedPool }
    }

    // MARK: - Commands

    /// Sends a single-key command to the node owning `key`'s slot, following redirections.
    func send(_ command: RedisCommand, key: some Collection<UInt8>) async throws -> RedisReply {
        let slot = HashSlot.of(key)
        let deadline = NIODeadline.now() + TimeAmount(seed.commandTimeout)
        var askTarget: ClusterNode?
        var redirections = 0, pauses = 0
        // Once per command (the name is text made from bytes), and only when replicas may answer.
        let replicaRead = seed.readFrom == .replica && command.isRead
        while true {
            let node = if let askTarget { askTarget } else { try await route(slot: slot, replicaRead: replicaRead) }
            let reply = try await sendNoting(command, to: node, asking: askTarget != nil, replicaRead: replicaRead)
            askTarget = nil
            guard case .error(let message) = reply, let redirection = ClusterRedirection(errorReply: message) else { return reply }
            switch redirection {
            case .moved(_, let target):
                statistics.count(.moved)
                moved(slot: slot, to: target)
            case .ask(_, let target):
                statistics.count(.ask)
                askTarget = target
            case .retryLater, .readOnly:
                // READONLY here means a replica answered for a primary: the map is stale.
                if case .readOnly = redirection { requestRefresh() }
                statistics.count(.retries)
                pauses += 1
                let pause = TimeAmount.milliseconds(Int64(min(200, 10 << min(pauses, 5))))
                guard NIODeadline.now() + pause < deadline else { return reply }
                try await Task.sleep(for: .nanoseconds(pause.nanoseconds))
                continue
            }
            redirections += 1
            guard redirections <= Self.maximumRedirections else {
                throw RedisError(.tooManyRedirections, "\(command.name) was redirected more than \(Self.maximumRedirections) times (slot \(slot)); the cluster is resharding or misconfigured")
            }
        }
    }

    /// Sends `command` to every primary at once; the replies in ``primaries()`` order.
    func sendToEveryPrimary(_ command: RedisCommand) async throws -> [(node: ClusterNode, reply: RedisReply)] {
        let nodes = try await primaries()
        return try await withThrowingTaskGroup(of: (Int, RedisReply).self) { group in
            for (index, node) in nodes.enumerated() {
                group.addTask { (index, try await self.sendNoting(command, to: node, asking: false)) }
            }
            var replies = [RedisReply?](repeating: nil, count: nodes.count)
            for try await (index, reply) in group { replies[index] = reply }
            return zip(nodes, replies).map { ($0, $1!) }
        }
    }

    /// The primaries of the current topology (reading it first when there is none).
    func primaries() async throws -> [ClusterNode] {
        let topology = try await currentTopology()
        guard !topology.shards.isEmpty else {
            throw RedisError(.connectionFailed, "the cluster reports no primary serving slots")
        }
        return topology.primaries
    }

    /// Sends `command` to one node; a connection failure there asks for a topology refresh
    /// (the node may have failed over) and is rethrown: the caller degrades for this request.
    func sendNoting(_ command: RedisCommand, to node: ClusterNode, asking: Bool, replicaRead: Bool = false) async throws -> RedisReply {
        let pool = pool(for: node, replica: replicaRead && !isPrimary(node))
        do {
            return asking ? try await pool.sendAsking(command) : try await pool.send(command)
        } catch let error as RedisError where error.code != .clientClosed {
            requestRefresh()
            throw error
        }
    }

    func close() {
        let pools = state.withLockedValue { state -> [RedisNodePool] in
            defer { state.pools = [:] }
            state.refreshing?.cancel()
            return Array(state.pools.values)
        }
        pools.forEach { $0.close() }
    }

    // MARK: - Topology

    /// The node a command for `slot` goes to: the primary, or for reads with
    /// `--redis-read-from replica` one of its replicas in turn.
    private func route(slot: Int, replicaRead: Bool) async throws -> ClusterNode {
        guard let shard = try await currentTopology().shard(for: slot) else {
            requestRefresh()
            throw RedisError(.connectionFailed, "no cluster node serves slot \(slot) right now (a primary failed and no replica has taken over yet)")
        }
        guard replicaRead, !shard.replicas.isEmpty else { return shard.primary }
        let turn = state.withLockedValue { state -> Int in
            defer { state.replicaTurn &+= 1 }
            return state.replicaTurn
        }
        return shard.replicas[turn % shard.replicas.count]
    }

    private func isPrimary(_ node: ClusterNode) -> Bool {
        state.withLockedValue { $0.topology?.primaries.contains(node) ?? true }
    }

    /// The topology, reading it when none is known yet.
    func currentTopology() async throws -> ClusterTopology {
        let (topology, stale) = state.withLockedValue { state in
            (state.topology, NIODeadline.now() - state.lastRefresh > Self.maximumTopologyAge)
        }
        guard let topology else { return try await refresh() }
        if stale { requestRefresh() }
        return topology
    }

    /// Reads the topology again (joining a read already running) and installs it.
    @discardableResult
    func refresh() async throws -> ClusterTopology {
        let task = state.withLockedValue { state -> Task<ClusterTopology, any Error> in
            if let running = state.refreshing { return running }
            let candidates = Self.candidates(state, seed: seed)
            let task = Task { try await self.readTopology(from: candidates) }
            state.refreshing = task
            state.lastRefresh = .now()
            return task
        }
        do {
            let topology = try await task.value
            install(topology, from: task)
            return topology
        } catch {
            state.withLockedValue { if $0.refreshing == task { $0.refreshing = nil } }
            throw error
        }
    }

    /// Asks for a refresh in the background, at most once per ``refreshInterval``.
    func requestRefresh() {
        let due = state.withLockedValue { state in
            state.refreshing == nil && NIODeadline.now() - state.lastRefresh >= Self.refreshInterval
        }
        if due { Task { try? await self.refresh() } }
    }

    private func moved(slot: Int, to node: ClusterNode) {
        state.withLockedValue { state in
            state.topology = state.topology?.moving(slot: slot, to: node)
        }
        requestRefresh()
    }

    /// Installs a read topology and closes the pools of nodes that left it.
    private func install(_ topology: ClusterTopology, from task: Task<ClusterTopology, any Error>) {
        let retired = state.withLockedValue { state -> [RedisNodePool] in
            guard state.refreshing == task else { return [] }
            state.refreshing = nil
            state.topology = topology
            let members = Set(topology.shards.flatMap { [$0.primary] + $0.replicas })
            let gone = state.pools.keys.filter { !members.contains($0) && $0 != ClusterNode(host: seed.host, port: seed.port) }
            defer { gone.forEach { state.pools[$0] = nil } }
            return gone.compactMap { state.pools[$0] }
        }
        retired.forEach { $0.close() }
    }

    /// Known nodes first (primaries, then replicas), the configured address last: after a
    /// failover the seed may be the node that died, and a configuration endpoint may be slow.
    private static func candidates(_ state: State, seed: RedisConfiguration) -> [ClusterNode] {
        let known = state.topology.map { topology in topology.primaries + topology.shards.flatMap(\.replicas) } ?? []
        let seedNode = ClusterNode(host: seed.host, port: seed.port)
        return known.filter { $0 != seedNode } + [seedNode]
    }

    private func readTopology(from candidates: [ClusterNode]) async throws -> ClusterTopology {
        var failures: [String] = []
        for node in candidates {
            do {
                let topology = try await readTopology(at: node)
                statistics.count(.topologyRefreshes)
                return topology
            } catch {
                failures.append("\(node): \(error)")
            }
        }
        throw RedisError(.connectionFailed, "cannot read the cluster topology from any node (\(failures.joined(separator: "; ")))")
    }

    private func readTopology(at node: ClusterNode) async throws -> ClusterTopology {
        let pool = pool(for: node, replica: false)
        let reply = try await pool.send(RedisCommand("CLUSTER", "SHARDS"))
        if case .error(let message) = reply {
            guard message.uppercased().contains("UNKNOWN") else { throw RedisError(.server, "CLUSTER SHARDS: \(message)") }
            let slots = try await pool.send(RedisCommand("CLUSTER", "SLOTS"))
            if case .error(let message) = slots { throw RedisError(.server, "CLUSTER SLOTS: \(message)") }
            return try ClusterTopology(slotsReply: slots)
        }
        return try ClusterTopology(shardsReply: reply, tls: seed.tls != nil)
    }

    /// The pool of `node`, made on first use (making one opens nothing: connections open on
    /// the first command). Replica pools send `READONLY` after connecting.
    private func pool(for node: ClusterNode, replica: Bool) -> RedisNodePool {
        let (pool, retired) = state.withLockedValue { state -> (RedisNodePool, RedisNodePool?) in
            if let pool = state.pools[node], pool.configuration.readsFromReplica == replica { return (pool, nil) }
            let pool = RedisNodePool(configuration: seed.forNode(node, replica: replica), tlsContext: tlsContext, eventLoopGroup: eventLoopGroup)
            // A node that changed role (a replica promoted): its old pool retires.
            defer { state.pools[node] = pool }
            return (pool, state.pools[node])
        }
        retired?.close()
        return pool
    }
}
