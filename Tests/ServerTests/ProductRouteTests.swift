import CacheAside
import Foundation
import HTTPCurl
import Postgres
import Redis
import Testing
import TestSupport

@Suite("GET /product/{id}: cache-aside over real Redis and PostgreSQL")
struct ProductRouteTests {
    @Test("first request MISS from PostgreSQL, second HIT from Redis, same product, headers and JSON")
    func hitMissSequence() async throws {
        try await TestServer.withRoutes { server in
            let first = try await server.request(.GET, "/product/42")
            #expect(first.status == 200)
            #expect(first.header("X-Cache") == "MISS")
            #expect(first.header("Content-Type") == "application/json")
            let firstJSON = jsonObject(first)
            #expect(firstJSON["cache_status"] as? String == "MISS")
            #expect(firstJSON["response_time_ms"] is Double)
            let product = try #require(firstJSON["product"] as? [String: Any])
            #expect(product["id"] as? Int == 42)
            #expect(product["name"] as? String == "Product 42")

            let second = try await server.request(.GET, "/product/42")
            #expect(second.header("X-Cache") == "HIT")
            #expect(jsonObject(second)["cache_status"] as? String == "HIT")
            #expect(NSDictionary(dictionary: jsonObject(second)["product"] as! [String: Any]).isEqual(to: product))

            let stats = try await server.serverStats()
            #expect(stats["hits"] as? Int == 1)
            #expect(stats["misses"] as? Int == 1)
            #expect(stats["origin_queries"] as? Int == 1)
            #expect(stats["hit_ratio"] as? Double == 0.5)
        }
    }

    @Test("entries expire with their TTL: MISS again after it")
    func ttlExpiry() async throws {
        try await TestServer.withRoutes(cache: .init(ttl: TTLPolicy(seconds: 1, jitter: 0))) { server in
            #expect(try await server.request(.GET, "/product/7").header("X-Cache") == "MISS")
            #expect(try await server.request(.GET, "/product/7").header("X-Cache") == "HIT")
            // Wait out the key's remaining lifetime as Redis reports it.
            let redis = RedisClient(configuration: try RedisConfiguration(url: server.redisServer.url))
            if case .integer(let millis) = try await redis.send(RedisCommand("PTTL", "product:7")), millis > 0 {
                try await Task.sleep(for: .milliseconds(millis + 50))
            }
            await redis.shutdown()
            #expect(try await server.request(.GET, "/product/7").header("X-Cache") == "MISS")
        }
    }

    @Test("TTL jitter spreads expiries: filled keys do not all share one TTL")
    func ttlJitter() async throws {
        try await TestServer.withRoutes(cache: .init(ttl: TTLPolicy(seconds: 1000, jitter: 0.2))) { server in
            for id in 1...30 { _ = try await server.request(.GET, "/product/\(id)") }
            let redis = RedisClient(configuration: try RedisConfiguration(url: server.redisServer.url))
            var ttls: Set<Int> = []
            for id in 1...30 {
                if case .integer(let ttl) = try await redis.send(RedisCommand("TTL", "product:\(id)")) { ttls.insert(ttl) }
            }
            await redis.shutdown()
            #expect(ttls.allSatisfy { (800...1200).contains($0) })
            #expect(ttls.count > 5)
        }
    }

    @Test("unknown id: 404 JSON, and the negative cache keeps the flood away from PostgreSQL")
    func notFoundIsNegativelyCached() async throws {
        try await TestServer.withRoutes { server in
            let first = try await server.request(.GET, "/product/999999")
            #expect(first.status == 404)
            #expect(first.header("X-Cache") == "MISS")
            #expect((jsonObject(first)["error"] as? String)?.contains("999999") == true)
            for _ in 0..<20 {
                let again = try await server.request(.GET, "/product/999999")
                #expect(again.status == 404)
                #expect(again.header("X-Cache") == "HIT")
            }
            let stats = try await server.serverStats()
            #expect(stats["origin_queries"] as? Int == 1)
            #expect(stats["negative_hits"] as? Int == 20)
        }
    }

    @Test("malformed and out-of-range ids are 400 JSON and reach neither store")
    func badIDs() async throws {
        try await TestServer.withRoutes { server in
            let ids = ["0", "-1", "abc", "1e3", "9223372036854775808", "2147483648", "%00", "1%20OR%201=1", "01", "4.2",
                       "1;DROP%20TABLE%20products", "1'%20OR%20'1'='1", String(repeating: "9", count: 10_000)]
            for id in ids {
                let response = try await server.request(.GET, "/product/\(id)")
                #expect(response.status == 400, "id \(id.prefix(30))")
                #expect((jsonObject(response)["error"] as? String)?.contains("expected an integer") == true)
            }
            let stats = try await server.serverStats()
            #expect(stats["origin_queries"] as? Int == 0)
            #expect(stats["misses"] as? Int == 0)
            // The table is intact.
            let postgres = PostgresClient(configuration: try PostgresConfiguration(server.databaseURL, poolSize: 1))
            #expect(try await postgres.query("SELECT count(*) AS n FROM products").first?.decode(Int.self, "n") == 1005)
            await postgres.shutdown()
        }
    }

    @Test("--cache off: every request goes to PostgreSQL, marked BYPASS")
    func cacheOff() async throws {
        try await TestServer.withRoutes(cache: .init(enabled: false)) { server in
            for _ in 0..<5 {
                let response = try await server.request(.GET, "/product/3")
                #expect(response.status == 200)
                #expect(response.header("X-Cache") == "BYPASS")
            }
            let stats = try await server.serverStats()
            #expect(stats["origin_queries"] as? Int == 5)
            #expect(stats["bypasses"] as? Int == 5)
            #expect(stats["hits"] as? Int == 0)
        }
    }

    @Test("single-flight: 200 concurrent requests for one cold key cause exactly one origin query")
    func singleFlight() async throws {
        try await TestServer.withRoutes { server in
            let postgres = PostgresClient(configuration: try PostgresConfiguration(server.databaseURL, poolSize: 1))
            _ = try await postgres.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            _ = try await postgres.query("SELECT pg_stat_statements_reset()")
            // Hold the table so the one origin query blocks until every request has arrived.
            _ = try await postgres.query("BEGIN")
            _ = try await postgres.query("LOCK TABLE products IN ACCESS EXCLUSIVE MODE")

            let responses = Task {
                try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                    for _ in 0..<200 {
                        group.addTask {
                            let response = try await server.request(.GET, "/product/500")
                            return (response.status, response.header("X-Cache"))
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
            }
            // All 200 have missed and are waiting on the single load (polled, with a deadline).
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(20)
            while clock.now < deadline, (try await server.serverStats()["misses"] as? Int ?? 0) < 200 {
                try await Task.sleep(for: .milliseconds(20))
            }
            _ = try await postgres.query("COMMIT")
            let results = try await responses.value

            #expect(results.count == 200)
            #expect(results.allSatisfy { $0.0 == 200 && $0.1 == "MISS" })
            let stats = try await server.serverStats()
            #expect(stats["origin_queries"] as? Int == 1)
            #expect(stats["single_flight_waits"] as? Int == 199)
            // PostgreSQL's own count of the product lookup statement agrees.
            let calls = try await postgres.query("""
                SELECT coalesce(sum(calls), 0)::int AS calls FROM pg_stat_statements
                WHERE query LIKE 'SELECT id, name, price, description, views FROM products WHERE id = $1%'
                  AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                """).first?.decode(Int.self, "calls")
            #expect(calls == 1)
            await postgres.shutdown()
        }
    }
}
