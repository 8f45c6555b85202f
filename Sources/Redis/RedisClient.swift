import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Synchronization

/// A Redis client: a few pipelined connections shared by any number of concurrent callers.
///
/// Commands never block a thread: they are written on NIO channels and awaited. A thousand
/// concurrent `get`s need no more connections than ``RedisConfiguration/poolSize``, because each
/// connection carries many commands in flight and matches replies in order.
///
/// ```swift
/// let redis = RedisClient(configuration: try .init(url: "redis://127.0.0.1:6379/0"))
/// try await redis.set("product:1", Array("{}".utf8), expireSeconds: 60)
/// let value = try await redis.get("product:1")
/// await redis.shutdown()
/// ```
package final class RedisClient: Sendable {
    /// The configuration the client was created with.
    package let configuration: RedisConfiguration
    /// Redirections, retries and topology reads, for `/metrics`.
    package let statistics = RedisClientStatistics()
    /// The node `--redis` names: the whole server in standalone mode, the first node asked
    /// for the topology in cluster mode.
    private let seedPool: RedisNodePool
    private let cluster: RedisCluster
    /// 0 not known yet, 1 standalone, 2 cluster: read on every command, so an atomic.
    private let mode: Synchronization.Atomic<Int>
    private let detection = NIOLockedValueBox<Task<Bool, any Error>?>(nil)
    /// The TLS context every connection of this client shares.
    let tlsContext: RedisTLSContext?

    /// Creates the client; connections open on first use and reopen by themselves after a drop.
    package init(
        configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        let tlsContext = configuration.tls.map(RedisTLSContext.init)
        self.tlsContext = tlsContext
        seedPool = RedisNodePool(configuration: configuration, tlsContext: tlsContext, eventLoopGroup: eventLoopGroup)
        cluster = RedisCluster(seed: configuration, seedPool: seedPool, tlsContext: tlsContext,
                               eventLoopGroup: eventLoopGroup, statistics: statistics)
        let known = switch configuration.mode {
        case .auto: 0
        case .standalone: 1
        case .cluster: 2
        }
        mode = Synchronization.Atomic(known)
    }

    /// Sends any command and returns its reply as is; an error reply comes back as `.error`.
    ///
    /// In a cluster a single-key command goes to the node owning its key, following `MOVED` and
    /// `ASK`; a keyless one goes to one primary.
    /// - Throws: ``RedisError`` for connection failures and timeouts, never for error replies.
    package func send(_ command: RedisCommand) async throws -> RedisReply {
        if try await !isCluster() {
            let reply = try await seedPool.sendReconnectingOnReadOnly(command, statistics: statistics)
            // A node that could not say it is a cluster (a user without INFO rights) shows it
            // by redirecting: in auto mode, switch for good and follow the redirection.
            guard configuration.mode == .auto, case .error(let message) = reply,
                  case .moved? = ClusterRedirection(errorReply: message) else { return reply }
            mode.store(2, ordering: .relaxed)
        }
        if let key = command.routingKey { return try await cluster.send(command, key: key) }
        let primaries = try await cluster.primaries()
        return try await cluster.sendNoting(command, to: primaries[Int.random(in: 0..<primaries.count)], asking: false)
    }

    /// Whether `--redis` is a cluster: as configured, or as the node says (`INFO cluster`),
    /// asked once — concurrent first callers share one question.
    /// - Throws: ``RedisError`` when the node cannot be asked; the next call asks again.
    package func isCluster() async throws -> Bool {
        switch mode.load(ordering: .relaxed) {
        case 1: return false
        case 2: return true
        default: break
        }
        let task = detection.withLockedValue { running -> Task<Bool, any Error> in
            if let running { return running }
            let task = Task { try await self.nodeSaysCluster() ?? false }
            running = task
            return task
        }
        do {
            let clustered = try await task.value
            mode.store(clustered ? 2 : 1, ordering: .relaxed)
            return clustered
        } catch {
            detection.withLockedValue { if $0 == task { $0 = nil } }
            throw error
        }
    }

    /// Checks `--redis-mode` against the node before serving: `cluster` on a node without
    /// cluster mode is a configuration mistake and stops start-up. An unreachable node is not
    /// (Redis may come up later; the cache degrades until then).
    /// - Throws: ``RedisError/Code/notACluster``, or `invalidURL` for a database other than 0 in a cluster.
    package func checkMode() async throws {
        if configuration.mode == .cluster, configuration.database != 0 {
            throw RedisError(.invalidURL, "Redis Cluster has only database 0; drop /\(configuration.database) from the URL")
        }
        guard configuration.mode == .cluster, let answer = try? await nodeSaysCluster() else { return }
        if answer == false {
            throw RedisError(.notACluster, "\(configuration) answers INFO cluster with cluster_enabled:0")
        }
    }

    /// What `INFO cluster` says; `nil` when the user may not ask (NOPERM).
    private func nodeSaysCluster() async throws -> Bool? {
        let reply = try await seedPool.send(.info("cluster"))
        // A user without the right to run INFO (NOPERM): standalone until a MOVED says otherwise.
        if case .error = reply { return nil }
        guard let text = reply.text else { throw RedisError(.unexpectedReply, "INFO cluster returned \(reply)") }
        return Self.fields(ofInfo: text)["cluster_enabled"] == "1"
    }

    /// `GET key`: the value, or `nil` when the key does not exist.
    package func get(_ key: String) async throws -> ByteBuffer? {
        switch try await checked(.get(key)) {
        case .string(let buffer): return buffer
        case .null: return nil
        case let other: throw unexpected(other, for: "GET")
        }
    }

    /// `SET key value [EX seconds]`.
    package func set(_ key: String, _ value: [UInt8], expireSeconds: Int? = nil) async throws {
        _ = try await checked(.set(key, value, expireSeconds: expireSeconds))
    }

    /// `DEL key…`: how many keys existed.
    @discardableResult
    package func del(_ keys: String...) async throws -> Int {
        try await del(keys)
    }

    /// `DEL key…` for a list of keys: how many existed. In a cluster, one `DEL` per slot.
    @discardableResult
    package func del(_ keys: [String]) async throws -> Int {
        guard keys.count > 1, try await isCluster() else { return try await integer(.del(keys)) }
        var removed = 0
        for group in Self.bySlot(keys) { removed += try await integer(.del(group.map { keys[$0] })) }
        return removed
    }

    /// `MGET key…`: one value or `nil` per key, in order. In a cluster, one `MGET` per slot, at once.
    package func mget(_ keys: [String]) async throws -> [ByteBuffer?] {
        guard keys.count > 1, try await isCluster() else { return try await mgetOne(keys) }
        return try await withThrowingTaskGroup(of: ([Int], [ByteBuffer?]).self) { tasks in
            for group in Self.bySlot(keys) {
                tasks.addTask { (group, try await self.mgetOne(group.map { keys[$0] })) }
            }
            var values = [ByteBuffer?](repeating: nil, count: keys.count)
            for try await (indices, found) in tasks {
                for (index, value) in zip(indices, found) { values[index] = value }
            }
            return values
        }
    }

    private func mgetOne(_ keys: [String]) async throws -> [ByteBuffer?] {
        guard case .array(let items) = try await checked(.mget(keys)) else {
            throw RedisError(.unexpectedReply, "MGET did not return an array")
        }
        return items.map { if case .string(let buffer) = $0 { buffer } else { nil } }
    }

    /// Indices of `keys` grouped by hash slot, in first-seen order.
    private static func bySlot(_ keys: [String]) -> [[Int]] {
        var groups: [Int: [Int]] = [:], order: [Int] = []
        for (index, key) in keys.enumerated() {
            let slot = HashSlot.of(key)
            if groups[slot] == nil { order.append(slot) }
            groups[slot, default: []].append(index)
        }
        return order.map { groups[$0]! }
    }

    /// `INFO [section]` parsed into `field: value` pairs (`keyspace_hits`, `used_memory`, …).
    /// In a cluster: counters and sizes summed over the primaries (see ``RedisInfo``), so a
    /// hit ratio computed from it is the cluster's, not one shard's.
    package func info(_ section: String? = nil) async throws -> [String: String] {
        RedisInfo.summed(try await infoByNode(section).map(\.fields))
    }

    /// `INFO [section]` of each node that holds data: the one node, or every primary.
    package func infoByNode(_ section: String? = nil) async throws -> [(node: String, fields: [String: String])] {
        guard try await isCluster() else {
            return [("\(ClusterNode(host: configuration.host, port: configuration.port))", try await infoFields(checked(.info(section))))]
        }
        return try await cluster.sendToEveryPrimary(.info(section)).map { node, reply in
            if case .error(let message) = reply { throw RedisError(.server, "INFO on \(node): \(message)") }
            return ("\(node)", try infoFields(reply))
        }
    }

    private func infoFields(_ reply: RedisReply) throws -> [String: String] {
        guard let text = reply.text else { throw RedisError(.unexpectedReply, "INFO did not return text") }
        return Self.fields(ofInfo: text)
    }

    private static func fields(ofInfo text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return fields
    }

    /// Calls `body` with batches of the keys matching the glob `pattern`, from a `SCAN` of
    /// the one node or of every primary in turn (never `KEYS`: the server stays responsive).
    package func scanKeys(matching pattern: String, count: Int = 1000, _ body: ([String]) async throws -> Void) async throws {
        let command = { (cursor: String) in RedisCommand("SCAN", cursor, "MATCH", pattern, "COUNT", String(count)) }
        let nodes: [ClusterNode?] = try await isCluster() ? try await cluster.primaries() : [nil]
        for node in nodes {
            var cursor = "0"
            repeat {
                let reply = if let node {
                    try await cluster.sendNoting(command(cursor), to: node, asking: false)
                } else {
                    try await seedPool.send(command(cursor))
                }
                guard case .array(let parts) = reply, parts.count == 2, let next = parts[0].text, case .array(let keys) = parts[1] else {
                    throw RedisError(.unexpectedReply, "SCAN returned \(reply)")
                }
                let batch = keys.compactMap(\.text)
                if !batch.isEmpty { try await body(batch) }
                cursor = next
            } while cursor != "0"
        }
    }

    /// `PING`: succeeds when Redis answers `PONG` — in a cluster, when every primary does.
    package func ping() async throws {
        try await everyNode(.ping)
    }

    /// Why writes fail, in Redis's own words, or `nil` when a write works: a `PING` (a wrong
    /// password, or a database a cluster does not have, fails the connection), then one
    /// throwaway `SET` that expires at once (out of memory, a read-only replica, missing replicas).
    package func writeProblem() async -> String? {
        do {
            _ = try await send(.ping)
            try await set("cacheload:write-probe", [], expireSeconds: 1)
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// `FLUSHDB`: removes every key of the selected database (of every primary in a cluster).
    package func flushdb() async throws {
        try await everyNode(.flushdb)
    }

    /// The primaries a cluster client routes to (`host:port`), or the one node.
    package func dataNodes() async throws -> [String] {
        try await isCluster() ? try await cluster.primaries().map(\.description) : ["\(ClusterNode(host: configuration.host, port: configuration.port))"]
    }

    /// How to connect to each node holding data: the primaries of a cluster, or the one node.
    func dataNodeConfigurations() async throws -> [RedisConfiguration] {
        guard try await isCluster() else { return [configuration] }
        return try await cluster.primaries().map { configuration.forNode($0) }
    }

    /// Closes every connection; later commands fail with `clientClosed`.
    package func shutdown() async {
        cluster.close()
        seedPool.close()
    }

    // MARK: - Helpers

    private func everyNode(_ command: RedisCommand) async throws {
        guard try await isCluster() else {
            _ = try await checked(command)
            return
        }
        for (node, reply) in try await cluster.sendToEveryPrimary(command) {
            if case .error(let message) = reply { throw RedisError(.server, "\(command.name) on \(node): \(message)") }
        }
    }

    private func checked(_ command: RedisCommand) async throws -> RedisReply {
        let reply = try await send(command)
        if case .error(let message) = reply {
            if configuration.mode == .standalone, case .moved? = ClusterRedirection(errorReply: message) {
                throw RedisError(.server, "\(command.name): \(message) — this Redis is a cluster node, but --redis-mode standalone "
                    + "sends every key to it: use --redis-mode auto (the default) or cluster")
            }
            throw RedisError(.server, "\(command.name): \(message)")
        }
        return reply
    }

    private func integer(_ command: RedisCommand) async throws -> Int {
        let reply = try await checked(command)
        guard case .integer(let value) = reply else { throw unexpected(reply, for: command.name) }
        return value
    }

    private func unexpected(_ reply: RedisReply, for name: String) -> RedisError {
        RedisError(.unexpectedReply, "\(name) returned \(reply)")
    }
}
