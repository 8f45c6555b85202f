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

        // The leader is held until the follower has its answer: a follower that waits for the
        // leader instead of its bound returns only when the leader's 30 s run ends.
        let slow = SingleFlight<Int>(timeout: .milliseconds(100))
        let release = AsyncStream<Void>.makeStream()
        let leader = Task {
            try await slow.run("slow") {
                for await _ in release.stream { break }
                return 1
            }
        }
        let stopper = Task { try await Task.sleep(for: .seconds(30)); release.continuation.yield() }
        while slow.inFlightCount == 0 { await Task.yield() }
        do {
            _ = try await slow.run("slow") { 2 }
            Issue.record("a follower waited past its bound")
        } catch let error as CacheAsideError {
            #expect(error.reason == .singleFlightTimeout)
        }
        #expect(slow.inFlightCount == 1, "the follower returned only after the leader finished")
        release.continuation.yield()
        stopper.cancel()
        #expect(try await leader.value.value == 1)
    }

    @Test("leases: an origin slower than the lease time is loaded once across three instances, stored, and served to all")
    func slowOriginUnderLease() async throws {
        let server = try RedisServerProcess()
        // Three instances sharing one Redis, a lease of 300 ms, an origin that takes 1.2 s: the
        // holder must keep its lease for the whole load, and the others wait for its fill.
        let configuration = CacheAside.Configuration(leaseTime: .milliseconds(300))
        let instances = try (0..<3).map { _ in try makeCache(server.url, configuration: configuration) }
        let loads = AtomicCounter()
        let results = try await withThrowingTaskGroup(of: CacheResult.self) { group in
            for (cache, _) in instances {
                group.addTask {
                    try await cache.fetch("slow") {
                        loads.increment()
                        try await Task.sleep(for: .milliseconds(1200))
                        return Array("slow value".utf8)
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(loads.value == 1, "origin loads: \(loads.value)")
        #expect(results.allSatisfy { $0.value.map { String(buffer: $0) } == "slow value" })
        let metrics = instances.map { $0.0.metrics.snapshot }
        #expect(metrics.reduce(0) { $0 + $1.fillsDropped } == 0, "a fill lost its lease: \(metrics)")
        #expect(metrics.reduce(0) { $0 + $1.leaseRenewals } >= 2, "\(metrics)")
        let again = try await instances[2].0.fetch("slow") { Issue.record("loaded again"); return nil }
        #expect(again.status == .hit)
        for (_, redis) in instances { await redis.shutdown() }
    }

    @Test("leases: a write during a slow load revokes the lease; the old value is served to its caller but never stored")
    func writeDuringSlowLoad() async throws {
        let server = try RedisServerProcess()
        let (cache, redis) = try makeCache(server.url, configuration: .init(leaseTime: .milliseconds(300)))
        let loading = AsyncStream<Void>.makeStream()
        let load = Task {
            try await cache.fetch("row") {
                loading.continuation.yield()
                try await Task.sleep(for: .milliseconds(800))
                return Array("old".utf8)
            }
        }
        for await _ in loading.stream { break }
        #expect(await cache.store("row", Array("new".utf8)))
        let served = try await load.value
        #expect(served.value.map { String(buffer: $0) } == "old")
        let after = try await cache.fetch("row") { Issue.record("loaded again"); return nil }
        #expect(after.value.map { String(buffer: $0) } == "new")
        #expect(cache.metrics.snapshot.fillsDropped == 1)
        await redis.shutdown()
    }

    @Test("entries: bytes this version did not write are a miss, reloaded and overwritten — never an answer",
          arguments: [[0x01, 0x78] + Array(repeating: UInt8(0x41), count: 20), [0x00], [0xCA, 0x02, 0x01, 0x41], [0xCA, 0x01, 0x02, 0x00], [0x41, 0x42]])
    func unreadableEntries(_ stored: [UInt8]) async throws {
        let server = try RedisServerProcess()
        let (cache, redis) = try makeCache(server.url)
        try await redis.set("foreign", stored, expireSeconds: 60)
        let first = try await cache.fetch("foreign") { Array("reloaded".utf8) }
        #expect(first.status == .miss && first.value.map { String(buffer: $0) } == "reloaded")
        #expect(cache.metrics.snapshot.unreadableEntries == 1)
        let second = try await cache.fetch("foreign") { Issue.record("not overwritten"); return nil }
        #expect(second.status == .hit && second.value.map { String(buffer: $0) } == "reloaded")
        await redis.shutdown()
    }

    @Test("entries round-trip: JSON stays plain for other readers, everything else is framed", arguments: [
        "{\"id\":1}", "[1]", "PostgreSQL 15", "\u{1}x", "\u{0}", "", "\u{CA}\u{1}\u{0}"])
    func entryRoundTrip(_ text: String) {
        let bytes = Array(text.utf8)
        for freshness in [nil, CacheEntry.Freshness(freshUntil: 1_700_000_000_000, loadMilliseconds: 12)] {
            let encoded = CacheEntry.encode(bytes, freshness: freshness)
            #expect(CacheEntry(bytes: encoded) == .value(ByteBuffer(bytes: bytes), freshness: freshness), "\(text)")
            if freshness == nil, text.hasPrefix("{") || text.hasPrefix("[") { #expect(encoded == bytes) }
        }
        #expect(CacheEntry(bytes: CacheEntry.encode(nil, freshness: nil)) == .notFound)
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
