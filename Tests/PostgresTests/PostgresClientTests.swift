import Foundation
import Postgres
import Testing
import TestSupport

@Suite("PostgreSQL client against a real server")
struct PostgresClientTests {
    private func makeClient(_ url: String = TestServices.databaseURL, poolSize: Int = 4,
                            acquireTimeout: Duration = .seconds(5)) throws -> PostgresClient {
        PostgresClient(configuration: try PostgresConfiguration(url, poolSize: poolSize, acquireTimeout: acquireTimeout))
    }

    @Test("parameters round-trip: NULL, unicode, 1 MB text, numbers")
    func parameters() async throws {
        let client = try makeClient()
        defer { Task { await client.shutdown() } }
        let big = String(repeating: "abcdefghij", count: 100_000)
        let unicode = "Grüße, 世界 🚀 'quoted' \"double\" ; DROP TABLE x; --"
        let none: String? = nil
        let rows = try await client.query(
            "SELECT \(unicode)::text AS u, \(none)::text AS n, \(big)::text AS big, \(42)::int AS i, \(2.5)::float8 AS d, \(true)::bool AS b")
        let row = try #require(rows.first)
        #expect(try row.string("u") == unicode)
        #expect(try row.string("n") == nil)
        #expect(try row.string("big")?.count == 1_000_000)
        #expect(try row.decode(Int.self, "i") == 42)
        #expect(try row.decode(Double.self, "d") == 2.5)
        #expect(try row.decode(Bool.self, "b") == true)
    }

    @Test("a named prepared statement is parsed once per connection and reused")
    func preparedStatementReuse() async throws {
        let client = try makeClient(poolSize: 1)
        defer { Task { await client.shutdown() } }
        let statement = PostgresPreparedStatement(name: "add_one", sql: "SELECT $1::int + 1 AS n")
        for value in 0..<5 {
            let rows = try await client.execute(statement, value)
            #expect(try rows.first?.decode(Int.self, "n") == value + 1)
        }
        // Same (single) connection: the server lists the statement exactly once.
        let listed = try await client.query(
            "SELECT count(*) AS c FROM pg_prepared_statements WHERE name = \("add_one")")
        #expect(try listed.first?.decode(Int.self, "c") == 1)
    }

    @Test("server errors carry SQLSTATE: unique violation 23505, syntax error 42601")
    func sqlState() async throws {
        let client = try makeClient()
        defer { Task { await client.shutdown() } }
        let table = "t_\(UUID().uuidString.prefix(8).lowercased())"
        _ = try await client.query(PostgresQuery(unsafeSQL: "CREATE TABLE \(table) (id int PRIMARY KEY)"))
        let insert = PostgresQuery(unsafeSQL: "INSERT INTO \(table) VALUES ($1)", binds: [1])
        #expect(try await client.query(insert).affectedRows == 1)
        do {
            _ = try await client.query(insert)
            Issue.record("a duplicate key was accepted")
        } catch let error as PostgresError {
            #expect(error.code == .server)
            #expect(error.sqlState == "23505")
            #expect(error.message.contains("duplicate key"))
        }
        do {
            _ = try await client.query("SELEC 1")
            Issue.record("invalid SQL was accepted")
        } catch let error as PostgresError {
            #expect(error.sqlState == "42601")
        }
        // The connection that saw the errors is still usable.
        #expect(try await client.query("SELECT 1 AS one").first?.decode(Int.self, "one") == 1)
        _ = try await client.query(PostgresQuery(unsafeSQL: "DROP TABLE \(table)"))
    }

    @Test("interpolated values never become SQL")
    func injectionIsInert() async throws {
        let client = try makeClient()
        defer { Task { await client.shutdown() } }
        let hostile = "1; DROP TABLE pg_class; --"
        let query: PostgresQuery = "SELECT \(hostile)::text AS v"
        #expect(query.sql == "SELECT $1::text AS v")
        #expect(try await client.query(query).first?.string("v") == hostile)
    }

    @Test("an exhausted pool times out with poolTimeout instead of hanging")
    func poolExhaustion() async throws {
        let client = try makeClient(poolSize: 1, acquireTimeout: .milliseconds(200))
        defer { Task { await client.shutdown() } }
        let holder = Task { try await client.query("SELECT pg_sleep(3)") }
        while await client.poolStatistics().inUse < 1 { await Task.yield() }
        let clock = ContinuousClock()
        let start = clock.now
        do {
            _ = try await client.query("SELECT 1")
            Issue.record("a second query ran on a pool of one busy connection")
        } catch let error as PostgresError {
            #expect(error.code == .poolTimeout)
        }
        #expect(clock.now - start < .seconds(2))
        _ = try await holder.value
    }

    @Test("many concurrent queries share a small pool")
    func concurrentQueries() async throws {
        let client = try makeClient(poolSize: 4)
        defer { Task { await client.shutdown() } }
        let sum = try await withThrowingTaskGroup(of: Int.self) { group in
            for value in 1...200 {
                group.addTask { try await client.query("SELECT \(value)::int AS v").first!.decode(Int.self, "v")! }
            }
            return try await group.reduce(0, +)
        }
        #expect(sum == 200 * 201 / 2)
        #expect(await client.poolStatistics().open <= 4)
    }

    @Test("connection strings: URL, keyword form, PG* environment; bad ones rejected; password masked")
    func configurationForms() async throws {
        let url = URL(string: TestServices.databaseURL)!
        let keywords = "host=127.0.0.1 port=\(url.port!) user=postgres dbname=postgres"
        let viaKeywords = try makeClient(keywords)
        #expect(try await viaKeywords.query("SELECT 1 AS one").count == 1)
        await viaKeywords.shutdown()

        setenv("PGHOST", "127.0.0.1", 1)
        setenv("PGPORT", "\(url.port!)", 1)
        setenv("PGUSER", "postgres", 1)
        let viaEnvironment = PostgresClient(configuration: try PostgresConfiguration.fromEnvironment([:]))
        #expect(try await viaEnvironment.query("SELECT current_user AS u").first?.string("u") == "postgres")
        await viaEnvironment.shutdown()

        #expect(throws: PostgresError.self) { try PostgresConfiguration("host=localhost port") }
        #expect(throws: PostgresError.self) { try PostgresConfiguration("postgresql://[::1") }
        let secret = try PostgresConfiguration("postgresql://app:s3cret@db.example:5432/shop?sslmode=require")
        #expect(!secret.description.contains("s3cret"))
        #expect(secret.description.contains("sslmode=require"))
    }

    @Test("server stopped: typed error within the timeout, then recovery once it is back")
    func serverRestart() async throws {
        let cluster = try PostgresClusterProcess()
        let client = PostgresClient(configuration: try PostgresConfiguration(
            cluster.url, poolSize: 2, connectTimeout: .seconds(2)))
        defer { Task { await client.shutdown() } }
        #expect(try await client.query("SELECT 1 AS one").count == 1)

        try cluster.stop()
        let clock = ContinuousClock()
        let start = clock.now
        do {
            _ = try await client.query("SELECT 1 AS one")
            Issue.record("a query succeeded with the server stopped")
        } catch let error as PostgresError {
            #expect(error.code == .connectionLost || error.code == .connectionFailed)
        }
        #expect(clock.now - start < .seconds(3))
        // Still down: new connections are refused, promptly.
        await #expect(throws: PostgresError.self) { try await client.query("SELECT 1 AS one") }

        try cluster.start()
        #expect(try await client.query("SELECT 2 AS two").first?.decode(Int.self, "two") == 2)
    }
}
