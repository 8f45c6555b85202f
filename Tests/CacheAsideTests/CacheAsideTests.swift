import CacheAside
import NIOCore
import Redis
import Synchronization
import Telemetry
import Testing
import TestSupport

@Suite("CacheAside over a real Redis")
struct CacheAsideTests {
    private func makeCache(_ url: String, configuration: CacheAside.Configuration = .init()) throws -> (CacheAside, RedisClient) {
        var redisConfiguration = try RedisConfiguration(url: url, poolSize: 2)
        redisConfiguration.commandTimeout = .milliseconds(300)
        let redis = RedisClient(configuration: redisConfiguration)
        return (CacheAside(redis: redis, configuration: configuration, metrics: CacheMetrics(registry: MetricsRegistry())), redis)
    }

    @Test("miss loads and fills, hit does not load, not-found is cached as not-found")
    func lookupSequence() async throws {
        let server = try RedisServerProcess()
        let (cache, redis) = try makeCache(server.url)
        let loads = AtomicCounter()
        let load: @Sendable () async throws -> [UInt8]? = { loads.increment(); return Array("v".utf8) }
        #expect(try await cache.fetch("k", load: load).status == .miss)
        let hit = try await cache.fetch("k", load: load)
        #expect(hit.status == .hit && hit.value.map { String(buffer: $0) } == "v")
        #expect(loads.value == 1)

        let missing = try await cache.fetch("gone") { nil }
        #expect(missing.status == .miss && missing.value == nil)
        let cachedMissing = try await cache.fetch("gone") { Issue.record("loaded a cached not-found"); return nil }
        #expect(cachedMissing.status == .hit && cachedMissing.value == nil)
        #expect(cache.metrics.snapshot.negativeHits == 1)
        await redis.shutdown()
    }

    @Test("with stale-while-revalidate, values live TTL + the stale window in Redis, a cached not-found only its own TTL")
    func staleWindowOnlyForValues() async throws {
        let server = try RedisServerProcess()
        let (cache, redis) = try makeCache(server.url, configuration: .init(ttl: TTLPolicy(seconds: 10, jitter: 0), negativeTTLSeconds: 2,
                                                                            staleWhileRevalidateSeconds: 30))
        _ = try await cache.fetch("found") { Array("v".utf8) }
        _ = try await cache.fetch("missing") { nil }
        func pttl(_ key: String) async throws -> Int {
            guard case .integer(let milliseconds) = try await redis.send(RedisCommand("PTTL", key)) else { return -99 }
            return milliseconds
        }
        #expect((30_000...40_000).contains(try await pttl("found")))
        #expect((1...2_000).contains(try await pttl("missing")), "a not-found outlived --negative-ttl")
        await redis.shutdown()
    }

    @Test("Redis down: the origin answers (BYPASS) and the error is counted; an origin failure propagates")
    func redisDown() async throws {
        let server = try RedisServerProcess()
        let (cache, redis) = try makeCache(server.url)
        server.stop()
        let result = try await cache.fetch("k") { Array("origin".utf8) }
        #expect(result.status == .bypass)
        #expect(result.value.map { String(buffer: $0) } == "origin")
        #expect(cache.metrics.snapshot.errors >= 1)
        struct OriginDown: Error {}
        await #expect(throws: OriginDown.self) { try await cache.fetch("k") { throw OriginDown() } }
        await redis.shutdown()
    }

    @Test("single-flight: concurrent callers share one run; a slow run bounds the followers' wait")
    func singleFlight() async throws {
        let flight = SingleFlight<Int>(timeout: .seconds(10))
        let runs = AtomicCounter()
        let gate = AsyncStream<Void>.makeStream()
        let results = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
            for _ in 0..<50 {
                group.addTask {
                    try await flight.run("key") {
                        runs.increment()
                        for await _ in gate.stream { break }
                        return 7
                    }
                }
            }
            // Release the one run once the other 49 callers are waiting on it.
            while flight.waitingCount < 49 { await Task.yield() }
            gate.continuation.yield()
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(runs.value == 1)
        #expect(results.allSatisfy { $0.0 == 7 })
        #expect(results.filter { !$0.1 }.count == 1)

        let slow = SingleFlight<Int>(timeout: .milliseconds(100))
        let leader = Task { try await slow.run("slow") { try await Task.sleep(for: .seconds(1)); return 1 } }
        while slow.inFlightCount == 0 { await Task.yield() }
        do {
            _ = try await slow.run("slow") { 2 }
            Issue.record("a follower waited past its bound")
        } catch let error as CacheAsideError {
            #expect(error.reason == .singleFlightTimeout)
        }
        #expect(try await leader.value.value == 1)
    }

    @Test("TTL jitter stays within bounds and varies; zero jitter is exact")
    func ttlPolicy() {
        var generator = SystemRandomNumberGenerator()
        let policy = TTLPolicy(seconds: 100, jitter: 0.1)
        let ttls = (0..<500).map { _ in policy.next(using: &generator) }
        #expect(ttls.allSatisfy { (90...110).contains($0) })
        #expect(Set(ttls).count > 10)
        #expect(TTLPolicy(seconds: 100, jitter: 0).next() == 100)
        #expect(TTLPolicy(seconds: 1, jitter: 1).next() >= 1)
    }
}

/// A counter closures can share (an `Atomic` itself cannot be captured).
final class AtomicCounter: Sendable {
    private let count = Atomic<Int>(0)
    func increment() { count.add(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}
