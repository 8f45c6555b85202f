import CacheAside
import Foundation
import HTTPCurl
import LoadGen
import Redis

/// Origin amplification, measured: three servers share one Redis and one origin database, as a fleet
/// behind a load balancer, and the load generator drives the three at once. Per cache variant
/// (leases off, leases, leases with stale-while-revalidate, leases with early refresh):
///
/// - cold start: 300 concurrent requests for one key, spread over the three → origin queries;
/// - mass expiry: every key filled at the same instant with no TTL jitter, then a zipf load
///   across several TTLs → origin queries in all, per expiry cycle, in the worst second, and the
///   worst second's p99.
struct OriginAmplification {
    struct Variant {
        var name: String
        var cache: CacheAside.Configuration
    }

    /// One variant's numbers.
    struct Row {
        var variant: String
        var coldQueries: Int
        var expiryQueries: Int
        var queriesPerCycle: Double
        var peakQueriesPerSecond: Int
        var worstSecondP99: Double
        var misses: Int
        var stale: Int
        var ttlSeconds: Int

        var json: [String: Any] {
            ["variant": variant, "cold_start_origin_queries": coldQueries, "expiry_origin_queries": expiryQueries,
             "origin_queries_per_expiry_cycle": queriesPerCycle, "peak_origin_queries_per_second": peakQueriesPerSecond,
             "worst_second_p99_ms": worstSecondP99, "misses": misses, "stale": stale, "ttl_seconds": ttlSeconds]
        }
    }

    var server: DemoServer
    var quick: Bool
    var say: @Sendable (String) -> Void

    /// TTL of the mass-expiry runs, and how long they last (several TTLs).
    var ttlSeconds: Int { quick ? 2 : 5 }
    var duration: Duration { .seconds(quick ? 8 : 30) }
    var rate: Double { quick ? 1000 : 3000 }

    var variants: [Variant] {
        let base = CacheAside.Configuration(ttl: TTLPolicy(seconds: ttlSeconds, jitter: 0))
        var off = base, stale = base, early = base, earlyWide = base
        off.leaseTime = nil
        stale.staleWhileRevalidateSeconds = ttlSeconds
        // The paper's β, and one that widens XFetch's window δ·β from about a millisecond (a
        // loopback origin's load time) to about a second, so keys read about once a second are
        // refreshed before they expire too — at the price of earlier, extra refreshes.
        early.earlyRefreshBeta = 1
        earlyWide.earlyRefreshBeta = 1000
        return [Variant(name: "leases off", cache: off), Variant(name: "leases", cache: base),
                Variant(name: "leases + stale-while-revalidate", cache: stale),
                Variant(name: "leases + early refresh β=1", cache: early),
                Variant(name: "leases + early refresh β=1000", cache: earlyWide)]
    }

    func run(redis: RedisClient) async throws -> [Row] {
        var rows: [Row] = []
        for variant in variants {
            try await redis.flushdb()
            say("\n-- origin amplification, three servers: \(variant.name)")
            let row = try await server.fleet(count: 3, cache: variant.cache) { ports, originQueries, stats in
                try await measure(variant, ports: ports, originQueries: originQueries, stats: stats)
            }
            say(String(format: "cold start: %d origin queries for 300 requests; mass expiry: %d queries (%.1f per cycle), peak %d/s, worst p99 %.1f ms",
                       row.coldQueries, row.expiryQueries, row.queriesPerCycle, row.peakQueriesPerSecond, row.worstSecondP99))
            rows.append(row)
        }
        return rows
    }

    private func measure(_ variant: Variant, ports: [Int], originQueries: @escaping @Sendable () -> Int,
                         stats: @escaping @Sendable () -> (misses: Int, stale: Int)) async throws -> Row {
        let targets = try ports.map { try RequestTemplate(url: "http://127.0.0.1:\($0)/product/{key}") }
        var cold = LoadPlan(template: targets[0], keys: 7...7, connections: 300, duration: .seconds(30), requests: 300, timeout: .seconds(10))
        cold.targets = targets
        let beforeCold = originQueries()
        _ = try await LoadEngine(plan: cold).run()
        let coldQueries = originQueries() - beforeCold

        // Every key filled at one instant, with one TTL: they all expire together.
        let http = CurlClient(concurrency: 1)
        _ = try await http.execute(CurlRequest(method: .POST, url: "http://127.0.0.1:\(ports[0])/admin/warm?top=1005",
                                               headers: [("Authorization", "Bearer \(DemoServer.fleetAdminToken)")], timeout: .seconds(30)))
        await http.shutdown()
        let before = (queries: originQueries(), stats: stats())
        let sampler = Task { () -> [Int] in
            var readings: [Int] = []
            while !Task.isCancelled {
                readings.append(originQueries())
                try? await Task.sleep(for: .milliseconds(250))
            }
            return readings
        }
        var plan = LoadPlan(template: targets[0], keys: 1...1005, distribution: try KeyDistribution(parsing: "zipf:0.99"), seed: 7,
                            connections: 60, rate: rate, duration: duration, timeout: .seconds(10))
        plan.targets = targets
        let result = try await LoadEngine(plan: plan).run()
        sampler.cancel()
        let readings = await sampler.value
        let total = originQueries() - before.queries
        let after = stats()
        // Four readings a second: the worst one-second window.
        let peak = readings.count > 4 ? (4..<readings.count).map { readings[$0] - readings[$0 - 4] }.max() ?? 0 : total
        let cycles = max(1, (duration / .seconds(1)) / Double(ttlSeconds))
        return Row(variant: variant.name, coldQueries: coldQueries, expiryQueries: total, queriesPerCycle: Double(total) / cycles,
                   peakQueriesPerSecond: peak, worstSecondP99: result.seconds.map(\.p99).max() ?? 0,
                   misses: after.misses - before.stats.misses, stale: after.stale - before.stats.stale, ttlSeconds: ttlSeconds)
    }

    /// The table the demo and `make bench` print.
    static func table(_ rows: [Row]) -> [String] {
        var lines = ["origin amplification, three servers on one Redis and one origin database:",
                     "  variant                            cold start   expiry total   per cycle   peak/s   worst p99   misses   stale"]
        for row in rows {
            lines.append("  " + row.variant.padding(toLength: 34, withPad: " ", startingAt: 0)
                + String(format: " %10d   %12d   %9.1f   %6d   %7.1fms   %6d   %5d", row.coldQueries, row.expiryQueries,
                         row.queriesPerCycle, row.peakQueriesPerSecond, row.worstSecondP99, row.misses, row.stale))
        }
        return lines
    }
}
