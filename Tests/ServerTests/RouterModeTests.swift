import CacheAside
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Postgres
import Redis
@testable import Server
import Telemetry
import Testing
import TestSupport

/// The routes as `buildRouter` composes them, driven in HummingbirdTesting's router mode: no
/// socket, the real Redis and PostgreSQL behind them.
@Suite("buildRouter in router mode (no socket), over real Redis and PostgreSQL")
struct RouterModeTests {
    @Test("a product MISS then HIT, /health healthy, an admin write without the token 401, an unknown route 404")
    func routes() async throws {
        let redisServer = try RedisServerProcess()
        let database = try await TestDatabase.create(products: 5)
        let configuration = ServerConfiguration(
            host: "127.0.0.1", port: 0, redis: try RedisConfiguration(url: redisServer.url, poolSize: 1),
            postgres: try PostgresConfiguration(database.url, poolSize: 2), adminToken: "router-token")
        var logger = Logger(label: "cacheload.router-test")
        logger.logLevel = .warning
        let registry = MetricsRegistry()
        let dependencies = ServerDependencies(configuration: configuration, registry: registry, logger: logger)
        let app = Application(router: buildRouter(dependencies, configuration: configuration, registry: registry, cloudWatch: nil),
                              logger: logger)
        try await app.test(.router) { client in
            try await client.execute(uri: "/product/3", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[HTTPField.Name("X-Cache")!] == "MISS")
                #expect(String(buffer: response.body).contains("\"id\":3"))
            }
            try await client.execute(uri: "/product/3", method: .get) { response in
                #expect(response.headers[HTTPField.Name("X-Cache")!] == "HIT")
            }
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok && String(buffer: response.body).contains("healthy"))
            }
            try await client.execute(uri: "/product/3", method: .delete) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/nowhere", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
        await dependencies.shutdown()
        await TestDatabase.drop(database.name)
    }
}
