import AWS
import CacheAside
import Foundation
import HTTPCurl
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import Postgres
import Redis
import Server

/// What a test's server stands on: its own redis-server, its own freshly seeded PostgreSQL
/// database (or the one given), and `serve`'s configuration over them.
/// ``TestServer`` and ``RoutedServer`` stand on one each; a test that composes the server's
/// parts itself may too.
package struct TestServerSetup: Sendable {
    package let redisServer: RedisServerProcess
    /// The Redis the server uses: ``redisServer``'s, or the one given.
    package let redisURL: String
    /// URL of this test's database.
    package let databaseURL: String
    /// Set when the database was created for this test (and is dropped after it).
    let databaseName: String?
    package var configuration: ServerConfiguration
    package let logger: Logger

    /// The parameters are ``TestServer/start(cache:adminToken:postgresURL:products:slowSeconds:redisCommandTimeout:httpConcurrency:s3Bucket:s3MaxCacheBytes:awsSecret:idleTimeout:redisURL:)``'s.
    package init(cache: CacheAside.Configuration = .init(), adminToken: String? = "test-admin-token", postgresURL: String? = nil,
                 products: Int = 1005, slowSeconds: Double = 0.5, redisCommandTimeout: Duration = .milliseconds(500),
                 s3Bucket: String? = nil, s3MaxCacheBytes: Int = 512 * 1024, awsSecret: String? = nil,
                 redisURL: String? = nil) async throws {
        // The database first: without the services (no DATABASE_URL) the run stops there, before
        // a redis-server is started that nothing would stop.
        if let postgresURL {
            databaseURL = postgresURL
            databaseName = nil
            try await TestDatabase.seed(postgresURL, products: products, slowSeconds: slowSeconds)
        } else {
            let database = try await TestDatabase.create(products: products, slowSeconds: slowSeconds)
            (databaseName, databaseURL) = (database.name, database.url)
        }
        do {
            redisServer = try RedisServerProcess()
        } catch {
            if let databaseName { await TestDatabase.drop(databaseName) }
            throw error
        }
        self.redisURL = redisURL ?? redisServer.url
        var redis = try RedisConfiguration(url: self.redisURL, poolSize: 2)
        redis.commandTimeout = redisCommandTimeout
        redis.connectTimeout = .milliseconds(500)
        redis.reconnectBackoff = (.milliseconds(20), .milliseconds(200))
        configuration = ServerConfiguration(
            host: "127.0.0.1", port: 0, redis: redis,
            postgres: try PostgresConfiguration(databaseURL, poolSize: 8, acquireTimeout: .seconds(5), connectTimeout: .seconds(2)),
            cache: cache, adminToken: adminToken)
        if let s3Bucket {
            configuration.s3 = S3Configuration(bucket: s3Bucket, region: TestServices.awsRegion, endpoint: TestServices.awsEndpoint)
            configuration.s3MaxCacheBytes = s3MaxCacheBytes
            let credentials = AWSCredentials(accessKeyID: TestServices.awsAccessKeyID, secretAccessKey: awsSecret ?? TestServices.awsSecretAccessKey)
            configuration.awsCredentials = { credentials }
        }
        var logger = Logger(label: "cacheload.test-server")
        logger.logLevel = .warning
        self.logger = logger
    }

    /// Drops the test's database (when it made one) and stops its redis-server.
    package func tearDown() async {
        if let databaseName { await TestDatabase.drop(databaseName) }
        redisServer.stop()
    }
}

/// `serve`'s routes driven in process by HummingbirdTesting's `.router` mode — no socket, no
/// HTTP parsing — over a real Redis and a seeded PostgreSQL, as a ``TestServer`` has them.
/// For what a route answers; what a connection does (keep-alive, HTTP/1.0, TLS, idle
/// timeouts, a load run against a port) needs a ``TestServer``.
package struct RoutedServer: Sendable {
    private let setup: TestServerSetup
    private let client: any TestClientProtocol

    fileprivate init(setup: TestServerSetup, client: any TestClientProtocol) {
        self.setup = setup
        self.client = client
    }

    package var redisServer: RedisServerProcess { setup.redisServer }
    /// The Redis the routes use.
    package var redisURL: String { setup.redisURL }
    /// URL of this test's database.
    package var databaseURL: String { setup.databaseURL }
    package var adminToken: String? { setup.configuration.adminToken }

    /// Sends a request through the router; `token` adds `Authorization: Bearer`.
    package func request(_ method: CurlRequest.Method = .GET, _ path: String, body: String? = nil,
                         token: String? = nil) async throws -> CurlResponse {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        if body != nil { headers[.contentType] = "application/json" }
        let response = try await client.executeRequest(
            uri: path, method: HTTPRequest.Method(method.rawValue)!, headers: headers, body: body.map { ByteBuffer(string: $0) })
        return CurlResponse(status: response.status.code, headers: response.headers.map { ($0.name.rawName, $0.value) },
                            body: Array(buffer: response.body))
    }

    /// `GET /stats` → the `server` object.
    package func serverStats() async throws -> [String: Any] {
        try serverObject(of: try await request(.GET, "/stats"))
    }
}

extension TestServer {
    /// Runs `body` against `serve`'s routes in router mode (see ``RoutedServer``); the parameters
    /// are ``start(cache:adminToken:postgresURL:products:slowSeconds:redisCommandTimeout:httpConcurrency:s3Bucket:s3MaxCacheBytes:awsSecret:idleTimeout:redisURL:)``'s. The server's
    /// clients run as the application's services for the length of `body`, then stop; the
    /// test's database and redis-server go after them, also when `body` throws.
    package static func withRoutes<Value: Sendable>(
        cache: CacheAside.Configuration = .init(),
        adminToken: String? = "test-admin-token",
        postgresURL: String? = nil,
        products: Int = 1005,
        slowSeconds: Double = 0.5,
        s3Bucket: String? = nil,
        s3MaxCacheBytes: Int = 512 * 1024,
        awsSecret: String? = nil,
        redisURL: String? = nil,
        _ body: @Sendable (RoutedServer) async throws -> Value
    ) async throws -> Value {
        let setup = try await TestServerSetup(
            cache: cache, adminToken: adminToken, postgresURL: postgresURL, products: products, slowSeconds: slowSeconds,
            redisCommandTimeout: .milliseconds(500), s3Bucket: s3Bucket, s3MaxCacheBytes: s3MaxCacheBytes, awsSecret: awsSecret,
            redisURL: redisURL)
        let server = CacheLoadServer(configuration: setup.configuration, logger: setup.logger)
        do {
            let value = try await server.routesApplication().test(.router) { client in
                try await body(RoutedServer(setup: setup, client: client))
            }
            await setup.tearDown()
            return value
        } catch {
            await setup.tearDown()
            throw error
        }
    }
}
