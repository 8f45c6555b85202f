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
public final class StatsExporter: Service, Sendable {
    private let redis: RedisClient
    private let serverURL: String?
    private let interval: Duration
    private let cloudWatch: CloudWatchPusher?
    private let logger: Logger
    private let http = HTTPClient(concurrency: 1)
    private let last = Mutex<(redisHits: Int?, redisMisses: Int?, evicted: Int?, serverHits: Int?, serverMisses: Int?)>((nil, nil, nil, nil, nil))

    private let redisHits, redisMisses, redisEvicted: Counter
    private let redisRatio, redisMemory, redisClients, redisUp, serverRatio, serverUp: Gauge

    /// - Parameters:
    ///   - serverURL: base URL of a `cacheload serve` (its `/stats` is read); `nil` for Redis only.
    ///   - cloudWatch: where hits and misses go: the server's counters when `serverURL` is set,
    ///     Redis keyspace counters otherwise.
    public init(redis: RedisClient, serverURL: String?, interval: Duration, registry: MetricsRegistry,
                cloudWatch: CloudWatchPusher?, logger: Logger) {
        self.redis = redis
        self.serverURL = serverURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.interval = interval
        self.cloudWatch = cloudWatch
        self.logger = logger
        redisHits = registry.counter("redis_keyspace_hits", help: "Redis keyspace hits (INFO stats keyspace_hits), as read by the exporter.")
        redisMisses = registry.counter("redis_keyspace_misses", help: "Redis keyspace misses (INFO stats keyspace_misses), as read by the exporter.")
        redisEvicted = registry.counter("redis_evicted_keys", help: "Keys Redis evicted for memory (INFO stats evicted_keys).")
        redisRatio = registry.gauge("redis_hit_ratio", help: "keyspace_hits / (keyspace_hits + keyspace_misses) since Redis started.")
        redisMemory = registry.gauge("redis_used_memory", unit: "bytes", help: "Memory Redis uses (INFO memory used_memory).")
        redisClients = registry.gauge("redis_connected_clients", help: "Clients connected to Redis.")
        redisUp = registry.gauge("export_target_up", help: "1 when the exporter's last read of the target succeeded.", labels: [("target", "redis")])
        serverRatio = registry.gauge("server_hit_ratio", help: "The cache server's own hit ratio (/stats), as read by the exporter.")
        serverUp = registry.gauge("export_target_up", help: "1 when the exporter's last read of the target succeeded.", labels: [("target", "server")])
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await collect()
            let interval = self.interval
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
        await http.shutdown()
    }

    /// Reads every target once and publishes what changed.
    public func collect() async {
        do {
            let stats = try await redis.info()
            let hits = Int(stats["keyspace_hits"] ?? "") ?? 0
            let misses = Int(stats["keyspace_misses"] ?? "") ?? 0
            let evicted = Int(stats["evicted_keys"] ?? "") ?? 0
            let (hitDelta, missDelta, evictedDelta) = last.withLock { last -> (Int, Int, Int) in
                defer { (last.redisHits, last.redisMisses, last.evicted) = (hits, misses, evicted) }
                return (Self.delta(hits, last.redisHits), Self.delta(misses, last.redisMisses), Self.delta(evicted, last.evicted))
            }
            redisHits.increment(by: Int64(hitDelta))
            redisMisses.increment(by: Int64(missDelta))
            redisEvicted.increment(by: Int64(evictedDelta))
            redisRatio.set(hits + misses == 0 ? 0 : Double(hits) / Double(hits + misses))
            redisMemory.set(Double(stats["used_memory"] ?? "") ?? 0)
            redisClients.set(Double(stats["connected_clients"] ?? "") ?? 0)
            redisUp.set(1.0)
            if serverURL == nil, let cloudWatch {
                cloudWatch.count(CloudWatchPusher.Name.hits, Double(hitDelta))
                cloudWatch.count(CloudWatchPusher.Name.misses, Double(missDelta))
            }
        } catch {
            redisUp.set(0.0)
            logger.warning("cannot read Redis INFO", metadata: ["error": "\(error)"])
        }
        guard let serverURL else { return }
        do {
            let response = try await http.execute(HTTPRequest(url: serverURL + "/stats", timeout: .seconds(5)))
            guard response.status == 200,
                  let json = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
                  let server = json["server"] as? [String: Any],
                  let hits = server["hits"] as? Int, let misses = server["misses"] as? Int else {
                throw NotServerStatistics(url: serverURL + "/stats")
            }
            let (hitDelta, missDelta) = last.withLock { last -> (Int, Int) in
                defer { (last.serverHits, last.serverMisses) = (hits, misses) }
                return (Self.delta(hits, last.serverHits), Self.delta(misses, last.serverMisses))
            }
            serverRatio.set(hits + misses == 0 ? 0 : Double(hits) / Double(hits + misses))
            serverUp.set(1.0)
            cloudWatch?.count(CloudWatchPusher.Name.hits, Double(hitDelta))
            cloudWatch?.count(CloudWatchPusher.Name.misses, Double(missDelta))
        } catch {
            serverUp.set(0.0)
            logger.warning("cannot read the server's /stats", metadata: ["error": "\(error)"])
        }
    }

    /// The increase since the previous read; a smaller value means the counter restarted.
    static func delta(_ now: Int, _ before: Int?) -> Int {
        guard let before else { return now }
        return now >= before ? now - before : now
    }
}

/// `--server` answered, but not with a cacheload server's `/stats`.
struct NotServerStatistics: Error, CustomStringConvertible {
    let url: String
    var description: String { "\(url) did not return cacheload server statistics" }
}
