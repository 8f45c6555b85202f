import Foundation
import HTTPCurl
import Redis
import Testing
import TestSupport

/// `serve --near-cache`: two `cacheload serve` processes on one real Redis and PostgreSQL. A copy
/// in one process must not outlive a change made anywhere — by the other instance, by another
/// Redis client, by `FLUSHALL`, by expiry — nor survive the loss of the connection that reports
/// changes; a Redis that refuses tracking leaves the near cache off.
@Suite("Near cache: copies in process memory, invalidated by Redis")
struct NearCacheTests {
    private typealias Fleet = FleetTests.Fleet

    private struct Answer {
        var status: Int
        var xCache: String?
        var tier: String?
        var price: Double?
    }

    private func get(_ instance: ServeProcess, _ id: Int) async throws -> Answer {
        let response = try await instance.request(.GET, "/product/\(id)")
        let json = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        let price = (json?["product"] as? [String: Any])?["price"] as? Double
        return Answer(status: response.status, xCache: response.header("X-Cache"), tier: response.header("X-Cache-Tier"), price: price)
    }

    /// Waits until the instance's near cache is coherent (its invalidation connection subscribed).
    private func coherent(_ fleet: Fleet, _ instance: ServeProcess, _ expected: Bool = true) async throws {
        try await fleet.wait(seconds: 10) { (try await instance.stats()["near_cache"] as? [String: Any])?["coherent"] as? Bool == expected }
        #expect((try await instance.stats()["near_cache"] as? [String: Any])?["coherent"] as? Bool == expected)
    }

    /// Reads `id` on `instance` until its answer is a near-cache hit (a miss fills Redis, a
    /// Redis hit takes the copy, the next read is served by it): at most three reads.
    private func nearCopy(_ instance: ServeProcess, _ id: Int) async throws -> Answer {
        var answer = try await get(instance, id)
        for _ in 1..<3 where answer.tier != "near" { answer = try await get(instance, id) }
        return answer
    }

    private func nearStat(_ instance: ServeProcess, _ field: String) async throws -> Int {
        (try await instance.stats()["near_cache"] as? [String: Any])?[field] as? Int ?? -1
    }

    @Test("writes from anywhere — PUT and DELETE on the other instance, another client's SET, expiry, FLUSHALL — drop the copy")
    func writesInvalidate() async throws {
        let fleet = try await Fleet(count: 2, arguments: ["--near-cache", "1000"])
        let (a, b) = (fleet.instances[0], fleet.instances[1])
        try await coherent(fleet, a)
        try await coherent(fleet, b)
        let redis = RedisClient(configuration: try RedisConfiguration(url: fleet.redis.url))

        // Reads: the first misses, the second is Redis', the third this process's own copy.
        #expect(try await get(a, 1).xCache == "MISS")
        let second = try await get(a, 1), third = try await get(a, 1)
        #expect((second.xCache, second.tier) == ("HIT", "redis"))
        #expect((third.xCache, third.tier) == ("HIT", "near"))
        // Near hits never reached Redis: its keyspace hits are the server's Redis hits.
        let stats = try await a.stats()
        let keyspace = try await redis.info("stats")
        #expect(stats["near_hits"] as? Int == 1)
        #expect(Int(keyspace["keyspace_hits"] ?? "") == stats["redis_hits"] as? Int, "\(keyspace) \(stats)")
        #expect(Int(keyspace["keyspace_misses"] ?? "") == stats["misses"] as? Int)

        // A PUT on B is seen by A's next GET: measured from the PUT's answer to A's first
        // answer with the new price (the median of five, each a new price).
        var delays: [Duration] = []
        for round in 1...5 {
            #expect(try await nearCopy(a, 1).tier == "near")
            let price = 100.0 + Double(round)
            let put = try await b.request(.PUT, "/product/1", body: #"{"name": "Product 1", "price": \#(price)}"#)
            #expect(put.status == 200)
            let written = ContinuousClock.now
            var seen = try await get(a, 1)
            while seen.price != price, ContinuousClock.now - written < .seconds(2) { seen = try await get(a, 1) }
            delays.append(ContinuousClock.now - written)
            #expect(seen.price == price, "A still answers \(String(describing: seen.price)) after B's PUT")
        }
        #expect(delays.sorted()[2] < .milliseconds(10), "\(delays)")

        // Another client's SET of the key.
        #expect(try await nearCopy(a, 2).tier == "near")
        try await redis.set("product:2", Array(#"{"id":2,"name":"set by another client","price":7.25}"#.utf8))
        try await fleet.wait(seconds: 2) { try await get(a, 2).price == 7.25 }
        #expect(try await get(a, 2).price == 7.25)

        // DELETE on B: the row is gone and A answers 404.
        #expect(try await nearCopy(a, 3).tier == "near")
        #expect(try await b.request(.DELETE, "/product/3").status == 200)
        try await fleet.wait(seconds: 2) { try await get(a, 3).status == 404 }
        #expect(try await get(a, 3).status == 404)

        // Expiry in Redis: a copy of a key that expires there is dropped once Redis expires it.
        #expect(try await nearCopy(a, 4).tier == "near")
        _ = try await redis.send(RedisCommand("PEXPIRE", "product:4", "200"))
        try await fleet.wait(seconds: 5) { try await get(a, 4).xCache == "MISS" }
        #expect(try await get(a, 4).tier == "redis")

        // FLUSHALL drops every copy.
        #expect(try await nearCopy(a, 5).tier == "near")
        let flushes = try await nearStat(a, "flushes")
        _ = try await redis.send(RedisCommand("FLUSHALL"))
        try await fleet.wait(seconds: 2) { try await nearStat(a, "flushes") > flushes }
        #expect(try await nearStat(a, "flushes") == flushes + 1)
        #expect(try await get(a, 5).xCache == "MISS")
        await redis.shutdown()
        await fleet.stop()
    }

    @Test("losing the invalidation connection drops every copy before one is served again")
    func lostInvalidations() async throws {
        let fleet = try await Fleet(count: 1, arguments: ["--near-cache", "1000"])
        let a = fleet.instances[0]
        try await coherent(fleet, a)
        let redis = RedisClient(configuration: try RedisConfiguration(url: fleet.redis.url))
        #expect(try await nearCopy(a, 6).tier == "near")
        let flushes = try await nearStat(a, "flushes")
        // The subscribed connection is the only pub/sub client: kill it.
        #expect(try await redis.send(RedisCommand("CLIENT", "KILL", "TYPE", "pubsub")) == .integer(1))
        try await fleet.wait(seconds: 5) { try await nearStat(a, "flushes") > flushes }
        #expect(try await nearStat(a, "flushes") == flushes + 1)
        // Whatever changed while no report could arrive is read from Redis, not from a copy.
        try await redis.set("product:6", Array(#"{"id":6,"name":"changed meanwhile","price":3.5}"#.utf8))
        let after = try await get(a, 6)
        #expect(after.price == 3.5)
        #expect(after.tier == "redis")
        // It listens again by itself, and copies are taken again.
        try await coherent(fleet, a)
        #expect(try await nearCopy(a, 6).tier == "near")
        #expect(a.output.contains("near cache dropped and paused"), "\(a.output)")
        await redis.shutdown()
        await fleet.stop()
    }

    @Test("Redis killed and restarted: no copy is served during the outage (answers BYPASS), copies return once it listens again")
    func redisOutage() async throws {
        let fleet = try await Fleet(count: 1, arguments: ["--near-cache", "1000"])
        let a = fleet.instances[0]
        try await coherent(fleet, a)
        #expect(try await nearCopy(a, 11).tier == "near")
        fleet.redis.stop()
        try await coherent(fleet, a, false)
        let during = try await get(a, 11)
        #expect((during.status, during.xCache, during.tier) == (200, "BYPASS", nil))
        try fleet.redis.start()
        try await coherent(fleet, a)
        // Redis restarted empty: a miss, a Redis hit, then a copy again.
        #expect(try await get(a, 11).xCache == "MISS")
        #expect(try await nearCopy(a, 11).tier == "near")
        #expect(a.output.components(separatedBy: "near cache dropped and paused").count == 2, "\(a.output)")
        await fleet.stop()
    }

    @Test("a Redis refusing CLIENT TRACKING: one log line, answers from Redis only")
    func trackingRefused() async throws {
        let fleet = try await Fleet(count: 0)
        // A user allowed everything but CLIENT TRACKING, as some managed Redis versions are.
        let redis = try RedisServerProcess(aclUsers: ["app on >secret ~* &* +@all -client|tracking"])
        let instance = try ServeProcess(redis: "redis://app:secret@127.0.0.1:\(redis.port)/0", postgres: fleet.database.url,
                                        arguments: ["--near-cache", "1000"])
        try await fleet.wait(seconds: 10) { instance.output.contains("near cache off") }
        for _ in 1...3 { _ = try await get(instance, 8) }
        let answer = try await get(instance, 8)
        #expect((answer.xCache, answer.tier) == ("HIT", "redis"))
        #expect(try await instance.stats()["near_hits"] as? Int == 0)
        #expect(instance.output.components(separatedBy: "near cache off").count == 2, "\(instance.output)")
        #expect(instance.output.contains("CLIENT TRACKING"))
        await instance.stop()
        redis.stop()
        await fleet.stop()
    }

    @Test("in a Redis Cluster each primary reports its keys: a PUT on one instance reaches the other's copies on every node")
    func clusterTracking() async throws {
        let fleet = try await Fleet(count: 0)
        let (a, b) = (try ServeProcess(redis: TestServices.redisClusterURL, postgres: fleet.database.url, arguments: ["--near-cache", "1000"]),
                      try ServeProcess(redis: TestServices.redisClusterURL, postgres: fleet.database.url, arguments: ["--near-cache", "1000"]))
        let cluster = RedisClient(configuration: try RedisConfiguration(url: TestServices.redisClusterURL))
        let ids = Array(21...29)
        // Keys spread over the three primaries; other tests' copies of them are not this database's rows.
        #expect(Set(ids.map { HashSlot.of("product:\($0)") * 3 / 16384 }).count == 3)
        _ = try await cluster.del(ids.map { "product:\($0)" })
        try await coherent(fleet, a)
        try await coherent(fleet, b)
        for id in ids { #expect(try await nearCopy(a, id).tier == "near", "product \(id)") }
        for id in ids {
            let put = try await b.request(.PUT, "/product/\(id)", body: #"{"name": "Product \#(id)", "price": 0.5}"#)
            #expect(put.status == 200)
        }
        for id in ids {
            try await fleet.wait(seconds: 2) { try await get(a, id).price == 0.5 }
            #expect(try await get(a, id).price == 0.5, "product \(id)")
        }
        #expect(try await a.stats()["near_hits"] as? Int ?? 0 >= ids.count)
        _ = try await cluster.del(ids.map { "product:\($0)" })
        await cluster.shutdown()
        await a.stop()
        await b.stop()
        await fleet.stop()
    }
}
