import Synchronization
import Telemetry

/// The load generator's Prometheus families, fed once per second from the run's progress:
/// requests by status class and cache result, errors by kind, a latency histogram, target
/// and achieved rate, requests in flight (`cacheload load --metrics-listen`).
package final class LoadMetrics: Sendable {
    private let registry: MetricsRegistry
    private let previous = Mutex(LoadCounts())
    private let latency: DurationHistogram
    private let targetRate, achievedRate, inFlight: Gauge
    private let byStatus: [String: Counter]
    private let byCache: [String: Counter]
    private let byError: [String: Counter]

    package init(registry: MetricsRegistry, targetRate rate: Double?) {
        self.registry = registry
        let requestsHelp = "Responses received by the load generator, by HTTP status class."
        byStatus = Dictionary(uniqueKeysWithValues: ["1xx", "2xx", "3xx", "4xx", "5xx"].map {
            ($0, registry.counter("load_responses", help: requestsHelp, labels: [("status_class", $0)]))
        })
        let cacheHelp = "Responses received by the load generator, by the cache outcome they stated (--cache-status: hit, miss, bypass, none; stale and revalidated also count as hit; error, unknown; negative_hit: HIT on a 4xx answer, a cached \"not found\")."
        byCache = Dictionary(uniqueKeysWithValues: ["hit", "miss", "bypass", "none", "negative_hit", "stale", "revalidated", "error", "unknown"].map {
            ($0, registry.counter("load_cache_responses", help: cacheHelp, labels: [("cache", $0)]))
        })
        let errorHelp = "Load generator requests or connections that failed without a response, by kind."
        byError = Dictionary(uniqueKeysWithValues: LoadErrorKind.allCases.map {
            ($0.rawValue, registry.counter("load_errors", help: errorHelp, labels: [("kind", $0.rawValue)]))
        })
        latency = registry.durationHistogram("load_request_duration", help: "Latency seen by the load generator, from each request's intended start.")
        targetRate = registry.gauge("load_target_rate", unit: "requests_per_second", help: "Requested rate (0 in closed loop).")
        achievedRate = registry.gauge("load_achieved_rate", unit: "requests_per_second", help: "Responses in the last complete second.")
        inFlight = registry.gauge("load_in_flight", unit: "requests", help: "Requests sent and not yet answered or failed.")
        targetRate.set(rate ?? 0)
    }

    package func update(_ progress: LoadEngine.Progress) {
        let counts = progress.counts
        let before = previous.withLock { value in
            defer { value = counts }
            return value
        }
        func add(_ counter: Counter?, _ now: Int, _ then: Int) { if now > then { counter?.increment(by: Int64(now - then)) } }
        add(byStatus["1xx"], counts.status1xx, before.status1xx)
        add(byStatus["2xx"], counts.status2xx, before.status2xx)
        add(byStatus["3xx"], counts.status3xx, before.status3xx)
        add(byStatus["4xx"], counts.status4xx, before.status4xx)
        add(byStatus["5xx"], counts.status5xx, before.status5xx)
        add(byCache["hit"], counts.hits, before.hits)
        add(byCache["miss"], counts.misses, before.misses)
        add(byCache["bypass"], counts.bypasses, before.bypasses)
        add(byCache["none"], counts.noCacheHeader, before.noCacheHeader)
        add(byCache["negative_hit"], counts.negativeHits, before.negativeHits)
        add(byCache["stale"], counts.stale, before.stale)
        add(byCache["revalidated"], counts.revalidated, before.revalidated)
        add(byCache["error"], counts.cacheErrors, before.cacheErrors)
        add(byCache["unknown"], counts.unknownCacheStatus, before.unknownCacheStatus)
        add(byError["connect"], counts.connectErrors, before.connectErrors)
        add(byError["timeout"], counts.timeouts, before.timeouts)
        add(byError["reset"], counts.resets, before.resets)
        add(byError["bad_response"], counts.badResponses, before.badResponses)
        add(byError["tls"], counts.tlsErrors, before.tlsErrors)
        inFlight.set(Double(max(0, counts.sent - counts.completed - counts.failedRequests)))
        if let second = progress.lastSecond {
            achievedRate.set(Double(second.responses))
            second.forEachLatency { micros, count in
                for _ in 0..<count { latency.record(.microseconds(Int64(micros))) }
            }
        }
    }
}
