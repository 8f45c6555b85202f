import CacheAside
import Foundation
import HTTPCurl
import LoadGen
import NIOCore
import Postgres
import Redis
import Testing
import TestSupport

/// Three `cacheload serve` processes sharing one Redis and one PostgreSQL, as instances behind a
/// load balancer: one origin query per key fleet-wide, a crashed lease holder taken over, no
/// stale fill, and the cache equal to the table once writes stop. Origin queries are counted by
/// PostgreSQL itself (`pg_stat_statements`).
@Suite("A fleet of servers sharing one cache: leases")
struct FleetTests {
    /// The instances, their Redis and database, and one PostgreSQL connection of the test's own.
    final class Fleet: @unchecked Sendable {
        let redis: RedisServerProcess
        let database: (name: String, url: String)
        let instances: [ServeProcess]
        /// One connection: it holds the table lock between `lockProducts` and `unlockProducts`.
        let admin: PostgresClient

        /// - Parameter postgresURL: instance index and database URL → the URL that instance uses.
        init(count: Int = 3, arguments: [String] = [], slowSeconds: Double = 0.5,
             postgresURL: ((Int, String) -> String)? = nil) async throws {
            redis = try RedisServerProcess()
            database = try await TestDatabase.create(products: 50, slowSeconds: slowSeconds)
            admin = PostgresClient(configuration: try PostgresConfiguration(database.url, poolSize: 1))
            _ = try await admin.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            let (redisURL, databaseURL) = (redis.url, database.url)
            instances = try (0..<count).map { index in
                try ServeProcess(redis: redisURL, postgres: postgresURL?(index, databaseURL) ?? databaseURL, arguments: arguments)
            }
        }

        /// Completed product lookups in this database, by PostgreSQL's count.
        func originCalls() async throws -> Int {
            try await admin.query("""
                SELECT coalesce(sum(calls), 0)::int AS calls FROM pg_stat_statements
                WHERE query LIKE 'SELECT id, name, price, description, views FROM products WHERE id = $1%'
                  AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                """).first?.decode(Int.self, "calls") ?? -1
        }

        /// Holds the products table: every origin query blocks until ``unlockProducts()``.
        func lockProducts() async throws {
            _ = try await admin.query("BEGIN")
            _ = try await admin.query("LOCK TABLE products IN ACCESS EXCLUSIVE MODE")
        }

        func unlockProducts() async throws {
            _ = try await admin.query("COMMIT")
        }

        /// `stats[field]` summed over the instances.
        func total(_ field: String) async throws -> Int {
            try await instances.total(field)
        }

        /// Polls until `condition` holds (at most `seconds`).
        func wait(seconds: Double = 20, until condition: () async throws -> Bool) async throws {
            try await poll(seconds: seconds, until: condition)
        }

        func stop() async {
            for instance in instances { await instance.stop() }
            await admin.shutdown()
            await TestDatabase.drop(database.name)
            redis.stop()
        }
    }

    @Test("300 concurrent cold requests over three instances: one origin query with leases, one per instance without",
          arguments: [("on", 1), ("off", 3)])
    func coldBurst(leases: String, expectedQueries: Int) async throws {
        let fleet = try await Fleet(arguments: ["--leases", leases])
        let before = try await fleet.originCalls()
        // The table held: every request misses and waits, so all 300 overlap for certain.
        try await fleet.lockProducts()
        async let a = burst(fleet.instances[0], product: 7, requests: 100)
        async let b = burst(fleet.instances[1], product: 7, requests: 100)
        async let c = burst(fleet.instances[2], product: 7, requests: 100)
        try await fleet.wait { try await fleet.total("misses") >= 300 }
        try await fleet.unlockProducts()
        let results = try await [a, b, c]
        #expect(results.map(\.counts.status2xx) == [100, 100, 100], "\(results.map(\.counts))")
        #expect(results.allSatisfy { $0.counts.errors == 0 })
        let (calls, counted) = (try await fleet.originCalls() - before, try await fleet.total("origin_queries"))
        #expect(calls == expectedQueries, "PostgreSQL counted \(calls)")
        #expect(counted == expectedQueries, "the servers counted \(counted)")
        if leases == "on" { #expect(try await fleet.total("lease_waits") > 0) }
        await fleet.stop()
    }

    @Test("a lease holder killed while its origin query hangs: another instance takes over after the lease time; no request fails")
    func holderCrash() async throws {
        let fleet = try await Fleet(arguments: ["--lease-time", "1s"])
        let holder = fleet.instances[0]
        try await fleet.lockProducts()
        let first = Task { try? await holder.request(.GET, "/product/9") }
        let redis = RedisClient(configuration: try RedisConfiguration(url: fleet.redis.url))
        // The holder has missed and holds the lease (its query waits on the table).
        try await fleet.wait { try await holder.stats()["misses"] as? Int == 1 }
        try await fleet.wait { (try await redis.send(RedisCommand("EXISTS", "{product:9}:lease"))) == .integer(1) }
        #expect(try await redis.send(RedisCommand("EXISTS", "{product:9}:lease")) == .integer(1))

        async let b = burst(fleet.instances[1], product: 9, requests: 20)
        async let c = burst(fleet.instances[2], product: 9, requests: 20)
        try await fleet.wait {
            let (one, two) = (try await fleet.instances[1].stats(), try await fleet.instances[2].stats())
            return one["misses"] as? Int == 20 && two["misses"] as? Int == 20
        }
        let crashed = ContinuousClock.now
        holder.crash()
        _ = await first.value
        try await fleet.unlockProducts()
        let results = try await [b, c]
        let answered = ContinuousClock.now - crashed
        #expect(results.map(\.counts.status2xx) == [20, 20], "\(results.map(\.counts))")
        #expect(results.allSatisfy { $0.counts.errors == 0 })
        let survivors = Array(fleet.instances.dropFirst())
        var queries = 0, timeouts = 0
        for instance in survivors {
            let stats = try await instance.stats()
            queries += stats["origin_queries"] as? Int ?? 0
            timeouts += stats["lease_timeouts"] as? Int ?? 0
        }
        #expect(queries == 1, "exactly one survivor took the lease over")
        #expect(timeouts == 0, "nobody gave up waiting")
        #expect(answered < .seconds(5))
        #expect(try await redis.get("product:9") != nil)
        await redis.shutdown()
        await fleet.stop()
    }

    @Test("stale-fill race: a read of the old row that fills after a write-through is dropped with leases, kept without",
          arguments: ["on", "off"])
    func staleFill(leases: String) async throws {
        // Instance 0 reaches PostgreSQL through a forwarder that can hold the answers back: its
        // query runs, but the old row it read arrives after the other instance's write.
        let postgresPort = try #require(URLComponents(string: TestServices.databaseURL)?.port)
        let forwarder = try TCPForwarder(to: postgresPort)
        let fleet = try await Fleet(count: 2, arguments: ["--leases", leases]) { index, url in
            guard index == 0, var components = URLComponents(string: url) else { return url }
            components.port = forwarder.port
            return components.string ?? url
        }
        let (reader, writer) = (fleet.instances[0], fleet.instances[1])
        _ = try await reader.request(.GET, "/product/8")  // the reader's connection is open before the hold
        let old = try #require(jsonObject(try await writer.request(.GET, "/product/7"))["product"] as? [String: Any])
        let redis = RedisClient(configuration: try RedisConfiguration(url: fleet.redis.url))
        _ = try await redis.del("product:7")

        forwarder.holdReplies()
        let read = Task { try await reader.request(.GET, "/product/7") }
        try await fleet.wait { forwarder.heldBytes > 0 }  // the old row has been read
        #expect(forwarder.heldBytes > 0)
        let update = #"{"name":"Raced","price":777.77}"#
        let written = try await writer.request(.PUT, "/product/7", body: update)
        #expect(written.status == 200, "\(written.text)")
        forwarder.releaseReplies()
        let answer = try await read.value
        #expect(answer.status == 200)
        #expect((jsonObject(answer)["product"] as? [String: Any])?["price"] as? Double == old["price"] as? Double,
                "the reader answers what it read")

        let cached = try await redis.get("product:7").map { String(buffer: $0) } ?? "nothing"
        if leases == "on" {
            #expect(cached.contains("777.77"), "the cache holds the written price: \(cached)")
            #expect(try await reader.stats()["fills_dropped"] as? Int == 1)
        } else {
            // Without leases the race is real: the old row overwrote the write until the TTL.
            #expect(!cached.contains("777.77"), "the stale fill won: \(cached)")
        }
        await redis.shutdown()
        forwarder.close()
        await fleet.stop()
    }

    @Test("seeded random PUTs and GETs (half each, 16 clients, 3 keys) on three instances for 10 s: once writes stop, every cached product equals its row")
    func randomizedConsistency() async throws {
        let fleet = try await Fleet()
        let keys = 1...3
        let deadline = ContinuousClock.now + .seconds(10)
        let operations = try await withThrowingTaskGroup(of: (reads: Int, writes: Int).self) { group in
            for worker in 0..<16 {
                group.addTask {
                    var generator = SeededGenerator(seed: 1000 + UInt64(worker))
                    var (reads, writes) = (0, 0)
                    while ContinuousClock.now < deadline {
                        let instance = fleet.instances[Int(generator.next() % 3)]
                        let key = keys.lowerBound + Int(generator.next() % UInt64(keys.count))
                        if generator.next() % 10 < 5 {
                            let price = Double(generator.next() % 100_000) / 100
                            let response = try await instance.request(.PUT, "/product/\(key)", body: #"{"name":"Random","price":\#(price)}"#)
                            #expect(response.status == 200, "\(response.text)")
                            writes += 1
                        } else {
                            let response = try await instance.request(.GET, "/product/\(key)")
                            #expect(response.status == 200, "\(response.text)")
                            reads += 1
                        }
                    }
                    return (reads, writes)
                }
            }
            return try await group.reduce(into: (reads: 0, writes: 0)) { $0.reads += $1.reads; $0.writes += $1.writes }
        }
        #expect(operations.writes > 100 && operations.reads > 300, "\(operations)")
        let redis = RedisClient(configuration: try RedisConfiguration(url: fleet.redis.url))
        // What the writes left in the cache, then what one more read through each instance fills.
        for round in ["after the writes", "after a read"] {
            for key in keys {
                if round == "after a read" { _ = try await fleet.instances[key % 3].request(.GET, "/product/\(key)") }
                let row = try await fleet.admin.query("SELECT price::float8 AS price FROM products WHERE id = \(key)").first?.decode(Double.self, "price")
                guard let cached = try await redis.get("product:\(key)") else {
                    #expect(round == "after the writes", "product \(key) not cached \(round)")
                    continue
                }
                let product = try JSONSerialization.jsonObject(with: Data(String(buffer: cached).utf8)) as? [String: Any]
                #expect(product?["price"] as? Double == row, "\(round): product \(key) cached \(product?["price"] ?? "?"), row \(row ?? -1)")
            }
        }
        await redis.shutdown()
        await fleet.stop()
    }

    @Test("stale-while-revalidate: past its TTL a key is served STALE at once by every instance while one refresh runs")
    func staleWhileRevalidate() async throws {
        let fleet = try await Fleet(arguments: ["--ttl", "1", "--ttl-jitter", "0", "--stale-while-revalidate", "30"])
        let first = try await fleet.instances[0].request(.GET, "/product/5")
        #expect(first.header("X-Cache") == "MISS")
        // Past the TTL by the entry's own clock (its freshness header), not by a guess.
        let redis = RedisClient(configuration: try RedisConfiguration(url: fleet.redis.url))
        guard case .value(_, let freshness?)? = try await redis.get("product:5").map(CacheEntry.init) else {
            Issue.record("no freshness header on product:5")
            return
        }
        while Int64(Date().timeIntervalSince1970 * 1000) < freshness.freshUntil + 50 { try await Task.sleep(for: .milliseconds(20)) }
        let before = try await fleet.originCalls()
        // The origin held: a refresh cannot finish, so answers that come are not waiting for it.
        try await fleet.lockProducts()
        let answers = try await withThrowingTaskGroup(of: String?.self) { group in
            for index in 0..<60 { group.addTask { try await fleet.instances[index % 3].request(.GET, "/product/5", timeout: .seconds(5)).header("X-Cache") } }
            return try await group.reduce(into: [String?]()) { $0.append($1) }
        }
        #expect(answers.allSatisfy { $0 == "STALE" }, "\(answers)")
        try await fleet.unlockProducts()
        try await fleet.wait {
            let (calls, fills) = (try await fleet.originCalls(), try await fleet.total("fills"))
            return calls - before >= 1 && fills >= 2
        }
        #expect(try await fleet.originCalls() - before == 1, "one refresh fleet-wide")
        #expect(try await fleet.total("stale") == 60)
        let after = try await fleet.instances[1].request(.GET, "/product/5")
        #expect(after.header("X-Cache") == "HIT")
        await redis.shutdown()
        await fleet.stop()
    }

    @Test("early refresh (XFetch): a hot key is reloaded before each expiry, so no request ever misses after the first",
          arguments: [true, false])
    func earlyRefresh(enabled: Bool) async throws {
        // The slow page: 0.1 s to load (XFetch's delta), 3 s TTL, 100 requests per second for 9 s.
        // With beta 2 the chance that no request refreshes before the last 0.1 s of a TTL is
        // exp(-100 × 0.2 × e^-0.5) ≈ 6e-6: a miss here is a defect, not bad luck.
        let fleet = try await Fleet(count: 1, arguments: ["--slow-page-ttl", "3"] + (enabled ? ["--early-refresh", "2"] : []),
                                    slowSeconds: 0.1)
        let instance = fleet.instances[0]
        _ = try await instance.request(.GET, "/")  // filled once; what follows is the hot key's life
        let before = try await instance.stats()
        let plan = LoadPlan(template: try RequestTemplate(url: instance.baseURL + "/"), connections: 4, rate: 100,
                            duration: .seconds(9), timeout: .seconds(5), threads: 1)
        let result = try await LoadEngine(plan: plan).run()
        #expect(result.counts.errors == 0)
        let stats = try await instance.stats()
        func delta(_ field: String) -> Int { (stats[field] as? Int ?? 0) - (before[field] as? Int ?? 0) }
        if enabled {
            #expect(delta("misses") == 0, "no request found the key expired: \(stats)")
            #expect((2...6).contains(delta("origin_queries")), "about one reload per TTL: \(stats)")
            #expect(delta("early_refreshes") >= 2, "\(stats)")
        } else {
            #expect(delta("misses") >= 2, "without it every expiry is a miss: \(stats)")
        }
        await fleet.stop()
    }

    @Test("bad input: a lease key holding someone's string is not waited on; Redis down: leases skipped, one origin query per instance")
    func leaseBadInput() async throws {
        let fleet = try await Fleet(count: 1)
        let instance = fleet.instances[0]
        let redis = RedisClient(configuration: try RedisConfiguration(url: fleet.redis.url))
        try await redis.set("{product:3}:lease", Array("someone else's data".utf8))
        let start = ContinuousClock.now
        let response = try await instance.request(.GET, "/product/3")
        #expect(response.status == 200 && response.header("X-Cache") == "MISS")
        #expect(ContinuousClock.now - start < .seconds(1), "no wait on a lease that is not one")
        #expect(try await redis.get("{product:3}:lease").map { String(buffer: $0) } == "someone else's data", "left as it was")
        #expect(try await instance.request(.GET, "/product/3").header("X-Cache") == "HIT")
        #expect(instance.output.contains("a lease key holds data that is not a lease"), "\(instance.output)")
        await redis.shutdown()

        fleet.redis.stop()
        let before = try await fleet.originCalls()
        try await fleet.lockProducts()
        async let burst = burst(instance, product: 11, requests: 50)
        try await fleet.wait { try await instance.stats()["bypasses"] as? Int ?? 0 >= 50 }
        try await fleet.unlockProducts()
        let result = try await burst
        #expect(result.counts.status2xx == 50 && result.counts.bypasses == 50, "\(result.counts)")
        #expect(try await fleet.originCalls() - before == 1, "the in-process single flight still holds")
        await fleet.stop()
    }
}
