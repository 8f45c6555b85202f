import Synchronization
import Telemetry

/// The server's own Prometheus families beyond the cache's: HTTP request durations by route,
/// status and cache result; origin queries and their duration; pool use.
final class ServerMetrics: Sendable {
    private let registry: MetricsRegistry
    private let requests: LockFreeHistogramFamily
    /// The product route's series, made up front: its answers record without a lock or a lookup.
    private let productSeries: ProductRouteSeries
    private let originHistograms = Mutex<[String: (DurationHistogram, Counter, Counter)]>([:])
    let redisPoolSize: Gauge
    let originPoolOpen: Gauge
    let originPoolInUse: Gauge
    let originPoolWaiting: Gauge
    /// Answers by the protocol that carried them (`cacheload_http_requests_by_protocol_total`).
    private let http1Requests: Counter
    private let http2Requests: Counter

    /// - Parameter originEngine: `postgres` or `mysql`: the pool gauges are `<engine>_pool_connections`.
    init(registry: MetricsRegistry, originEngine: String = "postgres") {
        self.registry = registry
        requests = registry.lockFreeDurationHistogram(
            "http_request_duration", help: "Time from request received to response ready, by route, status and X-Cache result.")
        productSeries = ProductRouteSeries(family: requests)
        redisPoolSize = registry.gauge("redis_pool_connections", help: "Redis connections the server keeps open (commands are pipelined on them).")
        let name = "\(originEngine)_pool_connections"
        let help = "\(originEngine == "mysql" ? "MySQL" : "PostgreSQL") pool connections by state: open, in_use, waiting (callers queued for a connection)."
        originPoolOpen = registry.gauge(name, help: help, labels: [("state", "open")])
        originPoolInUse = registry.gauge(name, help: help, labels: [("state", "in_use")])
        originPoolWaiting = registry.gauge(name, help: help, labels: [("state", "waiting")])
        let protocolHelp = "Requests answered, by the protocol that carried them: http/1.1 (or 1.0) or h2."
        http1Requests = registry.counter("http_requests_by_protocol", help: protocolHelp, labels: [("protocol", "http/1.1")])
        http2Requests = registry.counter("http_requests_by_protocol", help: protocolHelp, labels: [("protocol", "h2")])
    }

    /// Counts one answer under the protocol that carried it (`h2` or anything else: HTTP/1).
    func recordProtocol(_ name: String) {
        (name == "h2" ? http2Requests : http1Requests).increment()
    }

    /// Records one answer. `xCache` is the `X-Cache` header as sent (`HIT`, …) or `nil`.
    func recordRequest(route: String, status: Int, xCache: String?, duration: Duration) {
        if route == ProductRouteSeries.route, let series = productSeries.series(status: status, xCache: xCache) {
            series.record(duration)
            return
        }
        requests.series([("route", route), ("status", String(status)), ("cache", xCache?.lowercased() ?? "none")]).record(duration)
    }

    func recordOrigin(operation: String, seconds: Double, failed: Bool) {
        let (histogram, queries, errors) = originHistograms.withLock { families in
            if let existing = families[operation] { return existing }
            let created = (
                registry.durationHistogram("origin_query_duration", help: "Duration of origin (PostgreSQL) queries by operation.", labels: [("operation", operation)]),
                registry.counter("origin_queries", help: "Origin database queries by operation, failed ones included.", labels: [("operation", operation)]),
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

/// Every series of `GET/PUT/DELETE /product/{id}` the server answers with, indexed by status
/// and `X-Cache` value: the request path reads an array, no lock, no hashing.
private struct ProductRouteSeries: Sendable {
    static let route = "/product/{id}"
    private static let statuses = [200, 404, 400, 503]
    private static let xCacheValues: [String?] = ["HIT", "MISS", "BYPASS", "STALE", nil]
    private let table: [LockFreeHistogram]

    init(family: LockFreeHistogramFamily) {
        table = Self.statuses.flatMap { status in
            Self.xCacheValues.map { xCache in
                family.series([("route", Self.route), ("status", String(status)), ("cache", xCache?.lowercased() ?? "none")])
            }
        }
    }

    func series(status: Int, xCache: String?) -> LockFreeHistogram? {
        // Four statuses and five header values: a scan of each list, no hashing.
        guard let row = Self.statuses.firstIndex(of: status), let column = Self.xCacheValues.firstIndex(of: xCache) else { return nil }
        return table[row * Self.xCacheValues.count + column]
    }
}
