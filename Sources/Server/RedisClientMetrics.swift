import Redis
import Synchronization
import Telemetry

/// The Redis client's cluster counters (redirections, retries, topology reads, READONLY
/// reconnects) as Prometheus counters, brought up to date when `/metrics` is read.
final class RedisClientMetrics: Sendable {
    private let redis: RedisClient
    private let moved, ask, retries, refreshes, readOnlyReconnects: Counter
    private let published = Mutex(RedisClientStatistics.Snapshot())

    init(redis: RedisClient, registry: MetricsRegistry) {
        self.redis = redis
        let redirectionHelp = "Cluster redirections the Redis client followed (MOVED: slot map updated; ASK: one command sent to a migration target)."
        moved = registry.counter("redis_redirections", help: redirectionHelp, labels: [("kind", "moved")])
        ask = registry.counter("redis_redirections", help: redirectionHelp, labels: [("kind", "ask")])
        retries = registry.counter("redis_cluster_retries", help: "Commands retried after TRYAGAIN, CLUSTERDOWN or LOADING.")
        refreshes = registry.counter("redis_topology_refreshes", help: "Cluster topology reads (CLUSTER SHARDS or CLUSTER SLOTS).")
        readOnlyReconnects = registry.counter("redis_readonly_reconnects", help: "Connections dropped after a READONLY reply (the primary endpoint moved after a failover).")
    }

    /// Adds what happened since the last update.
    func update() {
        let now = redis.statistics.snapshot
        let before = published.withLock { previous in
            defer { previous = now }
            return previous
        }
        moved.increment(by: Int64(now.moved - before.moved))
        ask.increment(by: Int64(now.ask - before.ask))
        retries.increment(by: Int64(now.retries - before.retries))
        refreshes.increment(by: Int64(now.topologyRefreshes - before.topologyRefreshes))
        readOnlyReconnects.increment(by: Int64(now.readOnlyReconnects - before.readOnlyReconnects))
    }
}
