import Foundation
import HTTPCurl
import LoadGen
import MySQL
import Testing
import TestSupport

/// The fleet's coordination — leases and stale-while-revalidate, proven against PostgreSQL in
/// ``FleetTests`` — with MySQL behind the cache: three `serve --mysql` processes, one Redis, the
/// services' MariaDB, a table lock of the test's own holding every origin query.
@Suite("A fleet over MySQL: leases and stale-while-revalidate", .serialized)
struct MySQLFleetTests {
    @Test("a fleet over MySQL: 300 cold requests on three instances make one origin query (leases); past the TTL every instance answers STALE while one refresh runs")
    func fleetOverMySQL() async throws {
        let redis = try RedisServerProcess()
        let database = try await TestMySQLDatabase.create(products: 50, slowSeconds: 0.1)
        let instances = try (0..<3).map { _ in
            try ServeProcess(redis: redis.url, postgres: TestServices.databaseURL,
                             arguments: ["--mysql", database.url, "--ttl", "2", "--ttl-jitter", "0", "--stale-while-revalidate", "30"])
        }
        // One connection of the test's own holds the table: every origin query waits until it is
        // released, so all 300 requests overlap for certain.
        let admin = MySQLClient(configuration: try MySQLConfiguration(url: database.url, poolSize: 1))
        func total(_ field: String) async throws -> Int { try await instances.total(field) }
        _ = try await admin.run("LOCK TABLES products WRITE")
        async let a = burst(instances[0], product: 7, requests: 100)
        async let b = burst(instances[1], product: 7, requests: 100)
        async let c = burst(instances[2], product: 7, requests: 100)
        try await poll { try await total("misses") >= 300 }
        _ = try await admin.run("UNLOCK TABLES")
        let results = try await [a, b, c]
        #expect(results.map(\.counts.status2xx) == [100, 100, 100] && results.allSatisfy { $0.counts.errors == 0 }, "\(results.map(\.counts))")
        #expect(try await total("origin_queries") == 1, "one origin query fleet-wide")
        #expect(try await total("lease_waits") > 0)

        // The table held again, then asked until the 2 s TTL has passed: the first STALE answer
        // starts the one refresh, which waits on the table; answers that come are not waiting for it.
        _ = try await admin.run("LOCK TABLES products WRITE")
        var first: String?
        try await poll {
            first = try await instances[0].request(.GET, "/product/7", timeout: .seconds(5)).header("X-Cache")
            return first != "HIT"
        }
        #expect(first == "STALE")
        let answers = try await withThrowingTaskGroup(of: String?.self) { group in
            for index in 0..<30 { group.addTask { try await instances[index % 3].request(.GET, "/product/7", timeout: .seconds(5)).header("X-Cache") } }
            return try await group.reduce(into: [String?]()) { $0.append($1) }
        }
        #expect(answers.allSatisfy { $0 == "STALE" }, "\(answers)")
        _ = try await admin.run("UNLOCK TABLES")
        try await poll {
            let (queries, fills) = (try await total("origin_queries"), try await total("fills"))
            return queries >= 2 && fills >= 2
        }
        #expect(try await total("origin_queries") == 2, "one refresh fleet-wide")
        #expect(try await instances[1].request(.GET, "/product/7").header("X-Cache") == "HIT")

        for instance in instances { await instance.stop() }
        await admin.shutdown()
        redis.stop()
        await TestMySQLDatabase.drop(database.name)
    }
}
