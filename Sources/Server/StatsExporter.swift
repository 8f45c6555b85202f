import Foundation
import HTTPCurl
import Logging
import Redis
import ServiceLifecycle
import Synchronization
import Telemetry

/// The sidecar behind `cacheload export`: reads Redis `INFO` (keyspace hits and misses, as
/// ElastiCache's CacheHitRate does) and, optionally, a cache server's `/stats`, and republishes
/// them as Prometheus metrics and CloudWatch datums — for deployments where the app is not ours.
package final class StatsExporter: Service, Sendable {
    private let redis: RedisClient
    private let serverURL: String?
    private let interval: Duration
    private let cloudWatch: CloudWatchPusher?
    private let logger: Logger
    private let http = CurlClient(concurrency: 1)
    private let baseline = Mutex(CounterBaseline<String>())

    private let redisHits, redisMisses, redisEvicted, counterResets: Counter
    private let redisMemory, redisClients, redisUp: Gauge
    /// Ratios are samples only while known (a target read, with lookups to divide).
    private let redisRatio: KnownGauge
    /// Only with `--server`: an exporter never given a server publishes nothing about one.
    private let serverRatio: KnownGauge?
    private let serverUp: Gauge?
    private let registry: MetricsRegistry
    private let clientMetrics: RedisClientMetrics

    /// - Parameters:
    ///   - serverURL: base URL of a `cacheload serve` (its `/stats` is read); `nil` for Redis only.
    ///   - cloudWatch: where hits and misses go: the server's counters when `serverURL` is set,
    ///     Redis keyspace counters otherwise.
    package init(redis: RedisClient, serverURL: String?, interval: Duration, registry: MetricsRegistry,
                cloudWatch: CloudWatchPusher?, logger: Logger) {
        self.redis = redis
        self.serverURL = serverURL.map(Self.baseURL)
        self.interval = interval
        self.cloudWatch = cloudWatch
        self.logger = logger
        self.registry = registry
        clientMetrics = RedisClientMetrics(redis: redis, registry: registry)
        redisHits = registry.counter("redis_keyspace_hits", help: "Redis keyspace hits (INFO stats keyspace_hits), as read by the exporter.")
        redisMisses = registry.counter("redis_keyspace_misses", help: "Redis keyspace misses (INFO stats keyspace_misses), as read by the exporter.")
        redisEvicted = registry.counter("redis_evicted_keys", help: "Keys Redis evicted for memory (INFO stats evicted_keys).")
        counterResets = registry.counter("export_source_resets", help: "Readings of a Redis or server counter that went backwards (a restart or CONFIG RESETSTAT).")
        redisRatio = KnownGauge(registry: registry, name: "redis_hit_ratio", help: "keyspace_hits / (keyspace_hits + keyspace_misses) since Redis started.")
        redisMemory = registry.gauge("redis_used_memory", unit: "bytes", help: "Memory Redis uses (INFO memory used_memory).")
        redisClients = registry.gauge("redis_connected_clients", help: "Clients connected to Redis.")
        redisUp = registry.gauge("export_target_up", help: "1 when the exporter's last read of the target succeeded.", labels: [("target", "redis")])
        serverRatio = serverURL == nil ? nil
            : KnownGauge(registry: registry, name: "server_hit_ratio", help: "The cache server's own hit ratio (/stats), as read by the exporter.")
        serverUp = serverURL == nil ? nil
            : registry.gauge("export_target_up", help: "1 when the exporter's last read of the target succeeded.", labels: [("target", "server")])
    }

    package func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await collect()
            let interval = self.interval
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
        await http.shutdown()
    }

    /// Reads every target once and publishes what changed.
    package func collect() async {
        do {
            let nodes = try await redis.infoByNode()
            let stats = RedisInfo.summed(nodes.map(\.fields))
            if nodes.count > 1 { publishPerNode(nodes) }
            clientMetrics.update()
            let hits = Int(stats["keyspace_hits"] ?? "") ?? 0
            let misses = Int(stats["keyspace_misses"] ?? "") ?? 0
            let evicted = Int(stats["evicted_keys"] ?? "") ?? 0
            let (hitDelta, missDelta, evictedDelta) = (increase("redis_hits", hits), increase("redis_misses", misses),
                                                       increase("redis_evicted", evicted))
            // Prometheus counters mirror Redis' totals (a series may start at any value);
            // CloudWatch datums below are increases only, none on the first reading.
            redisHits.increment(by: Int64(hitDelta ?? hits))
            redisMisses.increment(by: Int64(missDelta ?? misses))
            redisEvicted.increment(by: Int64(evictedDelta ?? evicted))
            redisRatio.set(hits + misses == 0 ? nil : Double(hits) / Double(hits + misses))
            redisMemory.set(Double(stats["used_memory"] ?? "") ?? 0)
            redisClients.set(Double(stats["connected_clients"] ?? "") ?? 0)
            redisUp.set(1.0)
            if serverURL == nil, let cloudWatch, let hitDelta, let missDelta {
                cloudWatch.count(CloudWatchPusher.Name.hits, Double(hitDelta))
                cloudWatch.count(CloudWatchPusher.Name.misses, Double(missDelta))
            }
        } catch {
            redisUp.set(0.0)
            redisRatio.set(nil)
            logger.warning("cannot read Redis INFO", metadata: ["error": "\(error)"])
        }
        guard let serverURL else { return }
        do {
            let response = try await http.execute(CurlRequest(url: serverURL + "/stats", timeout: .seconds(5)))
            guard response.status == 200,
                  let json = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
                  let server = json["server"] as? [String: Any],
                  let hits = server["hits"] as? Int, let misses = server["misses"] as? Int else {
                throw NotServerStatistics(url: serverURL + "/stats")
            }
            let (hitDelta, missDelta) = (increase("server_hits", hits), increase("server_misses", misses))
            serverRatio?.set(hits + misses == 0 ? nil : Double(hits) / Double(hits + misses))
            serverUp?.set(1.0)
            if let cloudWatch, let hitDelta, let missDelta {
                cloudWatch.count(CloudWatchPusher.Name.hits, Double(hitDelta))
                cloudWatch.count(CloudWatchPusher.Name.misses, Double(missDelta))
            }
        } catch {
            serverUp?.set(0.0)
            serverRatio?.set(nil)
            logger.warning("cannot read the server's /stats", metadata: ["error": "\(error)"])
        }
    }

    /// Each primary's own keyspace counters and memory, labelled `node="host:port"`: a shard
    /// whose hit ratio differs from the rest (a hot key, an uneven key space) shows here.
    private func publishPerNode(_ nodes: [(node: String, fields: [String: String])]) {
        for (node, fields) in nodes {
            let labels = [("node", node)]
            for (field, name, help) in [("keyspace_hits", "redis_node_keyspace_hits", "One cluster primary's keyspace hits (INFO stats)."),
                                        ("keyspace_misses", "redis_node_keyspace_misses", "One cluster primary's keyspace misses (INFO stats).")] {
                let reading = Int(fields[field] ?? "") ?? 0
                let counter = registry.counter(name, help: help, labels: labels)
                counter.increment(by: Int64(increase("\(name)@\(node)", reading) ?? reading))
            }
            registry.gauge("redis_node_used_memory", unit: "bytes", help: "One cluster primary's used_memory.", labels: labels)
                .set(Double(fields["used_memory"] ?? "") ?? 0)
        }
    }

    /// A server's base URL as given, or with the `/stats` a user pasted from its route taken off.
    static func baseURL(_ url: String) -> String {
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasSuffix("/stats") { base.removeLast("/stats".count) }
        return base
    }

    /// The increase of a counter since its previous reading (`nil` on its first); a reset is counted and logged.
    private func increase(_ key: String, _ reading: Int) -> Int? {
        let (value, reset) = baseline.withLock { baseline in
            let before = baseline.resets
            return (baseline.increase(key, reading: reading), baseline.resets > before)
        }
        if reset {
            counterResets.increment()
            logger.notice("a counter went backwards (Redis restarted or CONFIG RESETSTAT): counting from its new value", metadata: ["counter": "\(key)"])
        }
        return value
    }
}

/// `--server` answered, but not with a cacheload server's `/stats`.
struct NotServerStatistics: Error, CustomStringConvertible {
    let url: String
    var description: String { "\(url) did not return cacheload server statistics" }
}

/// A gauge that is a sample only while its value is known: `set(nil)` takes it out of the
/// exposition (a ratio of nothing, or of a target that did not answer, is no 0).
private final class KnownGauge: Sendable {
    private let registry: MetricsRegistry
    private let name: String
    private let help: String
    private let gauge = Mutex<Gauge?>(nil)

    init(registry: MetricsRegistry, name: String, help: String) {
        self.registry = registry
        self.name = name
        self.help = help
    }

    func set(_ value: Double?) {
        let removed = gauge.withLock { current -> Gauge? in
            guard let value else {
                defer { current = nil }
                return current
            }
            let target = current ?? registry.gauge(name, help: help)
            current = target
            target.set(value)
            return nil
        }
        if let removed { registry.remove(removed) }
    }
}
