import Foundation
import Histogram
import HTTPCurl
import LoadGen
import Testing
import TestSupport

/// The promises of the design under a running load: the cache is never a dependency, the origin
/// going away costs only what it must, and recovery needs no operator. Each test runs a real load
/// against a real server while it breaks a real Redis or PostgreSQL, then reads the outcome from
/// the load's own counts and time series and from the server's counters.
@Suite("Faults under a running load", .serialized)
struct FaultsUnderLoadTests {
    /// Products the load reads, all cached before the fault.
    static let keys = 1...100

    private func plan(_ server: TestServer, keys: ClosedRange<Int> = keys, connections: Int = 8, rate: Double? = nil,
                      seconds: Int) throws -> LoadPlan {
        LoadPlan(template: try RequestTemplate(url: server.baseURL + "/product/{key}"), keys: keys, distribution: .uniform,
                 seed: 7, connections: connections, rate: rate, duration: .seconds(seconds), timeout: .seconds(3), threads: 1)
    }

    private func warm(_ server: TestServer, _ keys: ClosedRange<Int> = keys) async throws {
        for id in keys { _ = try await server.request(.GET, "/product/\(id)") }
    }

    /// Polls `path` until `done` holds for an answer; returns how long that took and what was seen.
    private func probe(_ server: TestServer, _ path: String, within limit: Duration = .seconds(10),
                       until done: (CurlResponse) -> Bool) async throws -> (elapsed: Duration, cache: [String]) {
        let clock = ContinuousClock()
        let start = clock.now
        var seen: [String] = []
        while clock.now - start < limit {
            let response = try await server.request(.GET, path, timeout: .seconds(3))
            seen.append(response.header("X-Cache") ?? "status \(response.status)")
            if done(response) { return (clock.now - start, seen) }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("\(path) did not recover within \(limit); saw \(seen.suffix(5))")
        return (limit, seen)
    }

    private func counter(_ stats: [String: Any], _ name: String) -> Int { stats[name] as? Int ?? 0 }

    @Test("Redis killed mid-run and restarted: no 5xx (BYPASS), hit ratio back within seconds, the server's counters explain every answer")
    func redisKilled() async throws {
        let server = try await TestServer.start(redisCommandTimeout: .milliseconds(200))
        try await warm(server)
        let before = try await server.serverStats()
        let clock = ContinuousClock()

        async let load = LoadEngine(plan: try plan(server, seconds: 6)).run()
        try await Task.sleep(until: clock.now + .milliseconds(1500))
        server.redisServer.stop()
        try await Task.sleep(until: clock.now + .seconds(2))
        try server.redisServer.start()
        let recovery = try await probe(server, "/product/1") { $0.header("X-Cache") != "BYPASS" }
        let result = try await load
        let after = try await server.serverStats()

        let counts = result.counts
        #expect(counts.status5xx == 0, "a Redis outage must not fail a request for an existing product")
        #expect(counts.errors == 0)
        #expect(counts.bypasses > 0, "the outage was not seen")
        #expect(recovery.elapsed < .seconds(3), "cache back \(recovery.elapsed) after the restart")
        let last = try #require(result.seconds.last(where: { $0.responses > 0 }))
        #expect(last.bypasses == 0 && (last.hitRatio ?? 0) > 0.8, "last second: \(last.hits) hits, \(last.misses) misses, \(last.bypasses) bypasses")

        // Exact accounting: every answer of the load and the probe is in the server's counters.
        let probed = (hits: recovery.cache.filter { $0 == "HIT" }.count, misses: recovery.cache.filter { $0 == "MISS" }.count,
                      bypasses: recovery.cache.filter { $0 == "BYPASS" }.count)
        #expect(counter(after, "hits") - counter(before, "hits") == counts.hits + probed.hits)
        #expect(counter(after, "misses") - counter(before, "misses") == counts.misses + probed.misses)
        #expect(counter(after, "bypasses") - counter(before, "bypasses") == counts.bypasses + probed.bypasses)
        #expect(counter(after, "errors") - counter(before, "errors") >= counts.bypasses + probed.bypasses,
                "each BYPASS is explained by a Redis error")
        // Restarted empty: the misses after it are refills, at most one per key per request in flight.
        #expect(counts.misses <= Self.keys.count * 8)
        print("redis killed: \(counts.completed) answered, \(counts.bypasses) BYPASS, 0 5xx; cache back \(recovery.elapsed) after restart")
        await server.stop()
    }

    /// Warms the keys, runs `plan`, stops Redis (SIGSTOP: no reset, no reply) 1.5 s into it for
    /// `pause`, then measures how soon a hit comes back after the resume.
    private func runWithRedisPaused(_ server: TestServer, plan: LoadPlan, for pause: Duration) async throws
        -> (result: LoadResult, recovery: (elapsed: Duration, cache: [String])) {
        try await warm(server)
        let clock = ContinuousClock()
        async let load = LoadEngine(plan: plan).run()
        try await Task.sleep(until: clock.now + .milliseconds(1500))
        server.redisServer.pause()
        try await Task.sleep(until: clock.now + pause)
        server.redisServer.resume()
        let recovery = try await probe(server, "/product/2") { $0.header("X-Cache") == "HIT" }
        return (try await load, recovery)
    }

    @Test("Redis silent (SIGSTOP: no reset) for 3 s: after a few timeouts requests bypass it at once, not each after the command timeout")
    func redisSilentBypassedAtOnce() async throws {
        let server = try await TestServer.start(redisCommandTimeout: .milliseconds(500))
        let (result, recovery) = try await runWithRedisPaused(server, plan: try plan(server, connections: 64, rate: 200, seconds: 6), for: .seconds(3))

        let counts = result.counts
        #expect(counts.status5xx == 0 && counts.errors == 0)
        #expect(counts.bypasses > 0, "the silence was not seen")
        // Half the run is silent: waiting out 500 ms per request would put p75 at 500 ms or more.
        // With the breaker only the requests in flight before it opened wait (about 0.5 s of the
        // 6 s run); the rest are answered from PostgreSQL at once.
        let p75 = result.latencyMilliseconds(atPercentile: 75)
        #expect(p75 < 400, "p75 \(p75) ms: requests waited for the silent Redis")
        #expect(recovery.elapsed < .seconds(3))
        print("redis silent 3 s: p75 \(p75) ms, p99 \(result.latencyMilliseconds(atPercentile: 99)) ms, \(counts.bypasses) BYPASS, HIT again \(recovery.elapsed) after resume")
        await server.stop()
    }

    @Test("Redis frozen (SIGSTOP) for 1.5 s: command timeouts bound the added latency, the rate is kept, no 5xx")
    func redisFrozen() async throws {
        let server = try await TestServer.start(redisCommandTimeout: .milliseconds(200))
        // Open loop: a pile-up would show as requests late and latency growing through the freeze.
        let (result, recovery) = try await runWithRedisPaused(server, plan: try plan(server, connections: 128, rate: 300, seconds: 5),
                                                              for: .milliseconds(1500))

        let counts = result.counts
        #expect(counts.status5xx == 0)
        #expect(counts.errors == 0)
        #expect(counts.bypasses > 0, "the freeze was not seen")
        let worst = Double(result.latency.max) / 1000
        #expect(worst < 1000, "worst latency \(worst) ms during a 1500 ms freeze: timeouts did not bound it")
        #expect(counts.sent + counts.unsent == 1500, "sent \(counts.sent) + unsent \(counts.unsent) of the 1500 scheduled")
        #expect(recovery.elapsed < .seconds(3))
        print("redis frozen 1.5 s: worst latency \(worst) ms, p99 \(result.latencyMilliseconds(atPercentile: 99)) ms, "
              + "\(counts.bypasses) BYPASS, achieved \(Int(result.achievedRate)) req/s, HIT again \(recovery.elapsed) after resume")
        await server.stop()
    }

    @Test("PostgreSQL stopped mid-run: cached products never fail, misses get 503 JSON, recovery automatic")
    func postgresStopped() async throws {
        let cluster = try PostgresClusterProcess()
        let server = try await TestServer.start(postgresURL: cluster.url, products: 20_000)
        try await warm(server, 1...100)
        let clock = ContinuousClock()

        // Two loads side by side: one over the cached products 1–100, one over products not
        // cached yet (1001–20000), so both sides of the promise are measured.
        async let cached = LoadEngine(plan: try plan(server, keys: 1...100, connections: 4, seconds: 6)).run()
        async let uncached = LoadEngine(plan: try plan(server, keys: 1001...20_000, connections: 4, seconds: 6)).run()
        try await Task.sleep(until: clock.now + .milliseconds(1500))
        try cluster.stop()
        let stoppedAt = clock.now
        let miss = try await server.request(.GET, "/product/900")
        try await Task.sleep(until: stoppedAt + .seconds(2))
        try cluster.start()
        let recovery = try await probe(server, "/product/901") { $0.status == 200 }
        let hot = try await cached
        let cold = try await uncached

        #expect(miss.status == 503)
        #expect((jsonObject(miss)["error"] as? String)?.contains("database is unavailable") == true)
        #expect(hot.counts.status5xx == 0 && hot.counts.errors == 0, "a cached product failed while PostgreSQL was down")
        #expect(hot.seconds.filter { $0.second < 6 }.allSatisfy { $0.hits > 0 }, "hits stopped flowing: \(hot.seconds.map(\.hits))")
        #expect(cold.counts.errors == 0, "no transport errors: the server answered everything")
        #expect(cold.counts.status5xx > 0, "the outage was not seen")
        let last = try #require(cold.seconds.last(where: { $0.responses > 0 }))
        #expect(last.errors == 0, "misses still failing in the last second")
        #expect(recovery.elapsed < .seconds(5))
        print("postgres stopped 2 s: cached \(hot.counts.status2xx) × 2xx, 0 × 5xx (hits per second \(hot.seconds.map(\.hits))); "
              + "uncached \(cold.counts.status2xx) × 2xx, \(cold.counts.status5xx) × 503; answering misses again \(recovery.elapsed) after restart")
        await server.stop()
    }
}
