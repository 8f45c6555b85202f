import Foundation
import HTTPCurl
import Testing
import TestSupport

@Suite("Degraded mode: the cache is never a dependency")
struct DegradedModeTests {
    @Test("Redis killed: answers keep coming from PostgreSQL as BYPASS, then HIT again after restart")
    func redisOutage() async throws {
        try await TestServer.withRoutes { server in
            #expect(try await server.request(.GET, "/product/20").header("X-Cache") == "MISS")
            #expect(try await server.request(.GET, "/product/20").header("X-Cache") == "HIT")

            server.redisServer.stop()
            for _ in 0..<10 {
                let response = try await server.request(.GET, "/product/20")
                #expect(response.status == 200)
                #expect(response.header("X-Cache") == "BYPASS")
            }
            let health = try await server.request(.GET, "/health")
            #expect(health.status == 200)
            #expect(jsonObject(health)["status"] as? String == "degraded")
            let stats = try await server.serverStats()
            #expect(stats["errors"] as? Int ?? 0 >= 10)
            #expect(stats["bypasses"] as? Int == 10)

            try server.redisServer.start()
            // The server reconnects by itself; poll with a deadline until the cache is back.
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(10)
            var statuses: [String] = []
            while clock.now < deadline, statuses.last != "HIT" {
                statuses.append(try await server.request(.GET, "/product/20").header("X-Cache") ?? "")
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(statuses.last == "HIT")
            #expect(statuses.allSatisfy { ["BYPASS", "MISS", "HIT"].contains($0) })
            #expect(jsonObject(try await server.request(.GET, "/health"))["status"] as? String == "healthy")
        }
    }

    @Test("PostgreSQL unreachable under load: the outage is logged once, not once per request", arguments: ["on", "off"])
    func databaseOutageLoggedOnce(_ cache: String) async throws {
        let serve = try ServeProcess(redis: TestServices.redisURL, postgres: "postgresql://postgres@127.0.0.1:9/postgres",
                                     arguments: ["--cache", cache])
        let client = CurlClient(concurrency: 8)
        try await withThrowingTaskGroup(of: Int.self) { group in
            for id in 0..<300 {
                group.addTask { try await client.execute(CurlRequest(url: "\(serve.baseURL)/product/\(100_000 + id)")).status }
            }
            for try await status in group { #expect(status == 503) }
        }
        await client.shutdown()
        _ = await serve.stop()
        let lines = serve.output.split(separator: "\n").filter { $0.contains("PostgreSQL") }
        #expect(lines.count == 1, "\(lines.count) lines about PostgreSQL for 300 failed requests: \(lines.prefix(3))")
    }

    @Test("PostgreSQL stopped: cached products still 200, misses 503 JSON, health 503; recovery automatic")
    func postgresOutage() async throws {
        let cluster = try PostgresClusterProcess()
        try await TestServer.withRoutes(postgresURL: cluster.url, products: 50) { server in
            #expect(try await server.request(.GET, "/product/1").status == 200)

            try cluster.stop()
            let hit = try await server.request(.GET, "/product/1")
            #expect(hit.status == 200)
            #expect(hit.header("X-Cache") == "HIT")
            let miss = try await server.request(.GET, "/product/2")
            #expect(miss.status == 503)
            #expect((jsonObject(miss)["error"] as? String)?.contains("database is unavailable") == true)
            let health = try await server.request(.GET, "/health")
            #expect(health.status == 503)
            #expect(jsonObject(health)["status"] as? String == "unhealthy")

            try cluster.start()
            #expect(try await server.request(.GET, "/product/2").status == 200)
            #expect(try await server.request(.GET, "/health").status == 200)
        }
    }
}
