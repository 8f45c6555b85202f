import Synchronization
import Telemetry

/// The server's own Prometheus families beyond the cache's: HTTP request durations by route,
/// status and cache result; origin queries and their duration; pool use.
final class ServerMetrics: Sendable {
    private let registry: MetricsRegistry
    private let requestHistograms = Mutex<[RequestKey: DurationHistogram]>([:])
    private let originHistograms = Mutex<[String: (DurationHistogram, Counter, Counter)]>([:])
    let redisPoolSize: Gauge
    let postgresPoolOpen: Gauge
    let postgresPoolInUse: Gauge
    let postgresPoolWaiting: Gauge

    struct RequestKey: Hashable {
        var route: String
        var status: Int
        var cache: String
    }

    init(registry: MetricsRegistry) {
        self.registry = registry
        redisPoolSize = registry.gauge("redis_pool_connections", help: "Redis connections the server keeps open (commands are pipelined on them).")
        let pgHelp = "PostgreSQL pool connections by state: open, in_use, waiting (callers queued for a connection)."
        postgresPoolOpen = registry.gauge("postgres_pool_connections", help: pgHelp, labels: [("state", "open")])
        postgresPoolInUse = registry.gauge("postgres_pool_connections", help: pgHelp, labels: [("state", "in_use")])
        postgresPoolWaiting = registry.gauge("postgres_pool_connections", help: pgHelp, labels: [("state", "waiting")])
    }

    func recordRequest(route: String, status: Int, cache: String, duration: Duration) {
        let key = RequestKey(route: route, status: status, cache: cache)
        let histogram = requestHistograms.withLock { histograms in
            if let existing = histograms[key] { return existing }
            let created = registry.durationHistogram(
                "http_request_duration",
                help: "Time from request received to response ready, by route, status and X-Cache result.",
                labels: [("route", route), ("status", String(status)), ("cache", cache)])
            histograms[key] = created
            return created
        }
        histogram.record(duration)
    }

    func recordOrigin(operation: String, seconds: Double, failed: Bool) {
        let (histogram, queries, errors) = originHistograms.withLock { families in
            if let existing = families[operation] { return existing }
            let created = (
                registry.durationHistogram("origin_query_duration", help: "Duration of origin (PostgreSQL) queries by operation.", labels: [("operation", operation)]),
                registry.counter("origin_queries", help: "Origin (PostgreSQL) queries by operation, failed ones included.", labels: [("operation", operation)]),
                registry.counter("origin_errors", help: "Origin (PostgreSQL) queries that failed, by operation.", labels: [("operation", operation)])
            )
            families[operation] = created
            return created
        }
        histogram.record(.nanoseconds(Int64(seconds * 1e9)))
        queries.increment()
        if failed { errors.increment() }
    }
}
