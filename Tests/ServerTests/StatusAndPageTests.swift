import Foundation
import HTTPCurl
import Origins
import Postgres
import Server
import Testing
import TestSupport

@Suite("The slow page, /stats, /health, /metrics, seeding and the INI file")
struct StatusAndPageTests {
    @Test("GET / runs slow_version() once: first MISS takes the sleep, then HIT in well under it")
    func slowPage() async throws {
        try await TestServer.withRoutes(slowSeconds: 0.5) { server in
            let clock = ContinuousClock()
            var start = clock.now
            let first = try await server.request(.GET, "/")
            let firstTime = clock.now - start
            #expect(first.status == 200)
            #expect(first.header("X-Cache") == "MISS")
            #expect(first.header("Content-Type")?.hasPrefix("text/html") == true)
            #expect(first.text.contains("PostgreSQL"))
            #expect(firstTime >= .milliseconds(500))
            start = clock.now
            let second = try await server.request(.GET, "/")
            #expect(second.header("X-Cache") == "HIT")
            #expect(clock.now - start < .milliseconds(250))
        }
    }

    @Test("with the default options (leases on, 2 s lease), a slow page slower than the lease is cached: three at once, one query, then HIT")
    func slowerThanTheLease() async throws {
        try await TestServer.withRoutes(slowSeconds: 2.5) { server in
            let firsts = try await withThrowingTaskGroup(of: String?.self) { group in
                for _ in 0..<3 { group.addTask { try await server.request(.GET, "/").header("X-Cache") } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(firsts.allSatisfy { $0 == "MISS" }, "\(firsts)")
            let second = try await server.request(.GET, "/")
            #expect(second.header("X-Cache") == "HIT")
            let metrics = try await server.request(.GET, "/metrics").text
            #expect(metrics.contains("cacheload_cache_fills_dropped_total 0"), "\(metrics.split(separator: "\n").filter { $0.contains("fills") })")
            #expect(metrics.contains("cacheload_origin_queries_total{operation=\"slow_version\"} 1"),
                    "\(metrics.split(separator: "\n").filter { $0.contains("origin_queries") })")
        }
    }

    @Test("/stats reports server counters and Redis keyspace hits and misses")
    func stats() async throws {
        try await TestServer.withRoutes { server in
            for _ in 0..<3 { _ = try await server.request(.GET, "/product/30") }
            let json = jsonObject(try await server.request(.GET, "/stats"))
            let serverStats = try #require(json["server"] as? [String: Any])
            #expect(serverStats["hits"] as? Int == 2)
            #expect(serverStats["misses"] as? Int == 1)
            let redis = try #require(json["redis"] as? [String: Any])
            #expect(redis["keyspace_hits"] as? Int == 2)
            #expect(redis["keyspace_misses"] as? Int == 1)
        }
    }

    @Test("/metrics is Prometheus text with HELP, counters by result and a request histogram; promtool agrees")
    func metrics() async throws {
        try await TestServer.withRoutes { server in
            for _ in 0..<3 { _ = try await server.request(.GET, "/product/31") }
            let response = try await server.request(.GET, "/metrics")
            #expect(response.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
            let text = response.text
            #expect(text.contains("cacheload_cache_lookups_total{result=\"hit\"} 2"))
            #expect(text.contains("cacheload_cache_lookups_total{result=\"miss\"} 1"))
            #expect(text.contains("# HELP cacheload_http_request_duration_seconds"))
            #expect(text.contains("cacheload_http_request_duration_seconds_count{route=\"/product/{id}\",status=\"200\",cache=\"hit\"} 2"))
            #expect(text.contains("cacheload_origin_queries_total{operation=\"product_by_id\"} 1"))
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID()).txt")
            try Data(response.body).write(to: file)
            let check = try run("/bin/sh", ["-c", "promtool check metrics < \(file.path)"])
            #expect(!check.contains("error"))
            try? FileManager.default.removeItem(at: file)
        }
    }

    @Test("seeding twice keeps the rows and the function")
    func seedIsIdempotent() async throws {
        try await TestServer.withRoutes(products: 100) { server in
            let postgres = PostgresClient(configuration: try PostgresConfiguration(server.databaseURL, poolSize: 1))
            let again = try await CatalogSeeder(postgres: postgres).seed(products: 120, slowSeconds: 0)
            #expect(again.inserted == 20)
            #expect(again.total == 120)
            let views = try await postgres.query("SELECT count(*) AS n FROM pg_indexes WHERE indexname = 'products_views_idx'")
            #expect(try views.first?.decode(Int.self, "n") == 1)
            await postgres.shutdown()
        }
    }

    @Test("the labs' database.ini: [postgresql] becomes a libpq keyword string, [redis] redis_url is read")
    func iniFile() throws {
        let ini = try DatabaseINI(text: """
            ; the reference labs' config
            [postgresql]
            host = 127.0.0.1
            port=5432
            database = shop
            user = app
            password = it's secret

            [redis]
            redis_url = redis://127.0.0.1:6379/0
            """)
        #expect(ini.redisURL == "redis://127.0.0.1:6379/0")
        let keywords = try #require(ini.postgresConnectionString)
        #expect(keywords.contains("dbname='shop'"))
        #expect(keywords.contains("password='it\\'s secret'"))
        let configuration = try PostgresConfiguration(keywords)
        #expect(configuration.description.contains("dbname=shop"))
        #expect(!configuration.description.contains("secret"))
        #expect(throws: DatabaseINIError.self) { try DatabaseINI(text: "host=x") }
        #expect(throws: DatabaseINIError.self) { try DatabaseINI(text: "[postgresql\nhost=x") }
        #expect(throws: DatabaseINIError.self) { try DatabaseINI(text: "[redis]\njust words") }
    }
}
