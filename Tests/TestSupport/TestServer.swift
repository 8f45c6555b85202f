import CacheAside
import Foundation
import HTTPCurl
import Origins
import Postgres
import Server
import ServiceLifecycle

/// A real `cacheload serve` for one test: its own redis-server process and its own freshly
/// seeded PostgreSQL database, so tests run in parallel without seeing each other's keys.
package final class TestServer: Sendable {
    package let port: Int
    package let http: CurlClient
    /// A separate client for /stats and friends, so a test that fills `http` can still look.
    private let control = CurlClient(concurrency: 2)
    private let setup: TestServerSetup
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    /// Starts the server once it listens.
    /// - Parameters:
    ///   - postgresURL: a database to use as is (a private cluster, say); by default a new
    ///     database is created in the shared cluster and seeded.
    ///   - slowSeconds: how long `slow_version()` sleeps.
    ///   - redisURL: a Redis (or cluster) to use instead of the test's own redis-server.
    package static func start(
        cache: CacheAside.Configuration = .init(),
        adminToken: String? = "test-admin-token",
        postgresURL: String? = nil,
        products: Int = 1005,
        slowSeconds: Double = 0.5,
        redisCommandTimeout: Duration = .milliseconds(500),
        httpConcurrency: Int = 8,
        s3Bucket: String? = nil,
        s3MaxCacheBytes: Int = 512 * 1024,
        awsSecret: String? = nil,
        idleTimeout: Duration = .seconds(30),
        redisURL: String? = nil
    ) async throws -> TestServer {
        var setup = try await TestServerSetup(
            cache: cache, adminToken: adminToken, postgresURL: postgresURL, products: products, slowSeconds: slowSeconds,
            redisCommandTimeout: redisCommandTimeout, s3Bucket: s3Bucket, s3MaxCacheBytes: s3MaxCacheBytes, awsSecret: awsSecret,
            redisURL: redisURL)
        setup.configuration.idleTimeout = idleTimeout
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let server = CacheLoadServer(configuration: setup.configuration, logger: setup.logger) { port in
            continuation.yield(port)
            continuation.finish()
        }
        let group = ServiceGroup(configuration: .init(services: server.services, logger: setup.logger))
        let task = Task { try await group.run() }
        guard let port = await ports.first(where: { _ in true }) else {
            task.cancel()
            throw ProcessFailure(command: "cacheload serve", output: "the server did not start")
        }
        return TestServer(port: port, setup: setup, http: CurlClient(concurrency: httpConcurrency), group: group, task: task)
    }

    private init(port: Int, setup: TestServerSetup, http: CurlClient, group: ServiceGroup, task: Task<Void, any Error>) {
        self.port = port
        self.setup = setup
        self.http = http
        self.group = group
        self.task = task
    }

    package var baseURL: String { "http://127.0.0.1:\(port)" }
    package var redisServer: RedisServerProcess { setup.redisServer }
    /// The Redis the server uses: ``redisServer``'s, or the one given to ``start``.
    package var redisURL: String { setup.redisURL }
    /// URL of this test's database.
    package var databaseURL: String { setup.databaseURL }
    package var adminToken: String? { setup.configuration.adminToken }

    /// Sends a request to the server; `token` adds `Authorization: Bearer`.
    package func request(_ method: CurlRequest.Method = .GET, _ path: String, body: String? = nil,
                        token: String? = nil, timeout: Duration = .seconds(10)) async throws -> CurlResponse {
        var headers: [(name: String, value: String)] = []
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        if body != nil { headers.append(("Content-Type", "application/json")) }
        return try await http.execute(CurlRequest(
            method: method, url: baseURL + path, headers: headers, body: body.map { Array($0.utf8) }, timeout: timeout))
    }

    /// `GET /stats` → the `server` object.
    package func serverStats() async throws -> [String: Any] {
        try serverObject(of: try await control.execute(CurlRequest(url: baseURL + "/stats")))
    }

    /// Stops the server, drops the test database and stops the test's redis-server.
    package func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        await http.shutdown()
        await control.shutdown()
        await setup.tearDown()
    }
}

/// Parses a JSON object response body.
package func jsonObject(_ response: CurlResponse) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
}

/// The `server` object of a `GET /stats` answer; a body that is not JSON throws.
func serverObject(of response: CurlResponse) throws -> [String: Any] {
    let json = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
    return json?["server"] as? [String: Any] ?? [:]
}

/// Fresh, seeded databases in the shared cluster, so tests never see each other's rows.
package enum TestDatabase {
    /// Creates a database with a unique name and seeds it; returns its name and URL.
    package static func create(products: Int = 1005, slowSeconds: Double = 0.5) async throws -> (name: String, url: String) {
        let database = try await createEmpty()
        try await seed(database.url, products: products, slowSeconds: slowSeconds)
        return database
    }

    /// A database with nothing in it (as before `cacheload seed`); returns its name and URL.
    package static func createEmpty() async throws -> (name: String, url: String) {
        let name = "cacheload_empty_\(UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: ""))"
        let admin = PostgresClient(configuration: try PostgresConfiguration(TestServices.databaseURL, poolSize: 1))
        _ = try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
        await admin.shutdown()
        var components = URLComponents(string: TestServices.databaseURL)!
        components.path = "/\(name)"
        return (name, components.string!)
    }

    /// The products table and `slow_version()`, as `cacheload seed` makes them.
    package static func seed(_ url: String, products: Int, slowSeconds: Double) async throws {
        let seeder = PostgresClient(configuration: try PostgresConfiguration(url, poolSize: 1))
        _ = try await CatalogSeeder(postgres: seeder).seed(products: products, slowSeconds: slowSeconds)
        await seeder.shutdown()
    }

    package static func drop(_ name: String) async {
        guard let admin = try? PostgresClient(configuration: PostgresConfiguration(TestServices.databaseURL, poolSize: 1)) else { return }
        _ = try? await admin.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"))
        await admin.shutdown()
    }
}
