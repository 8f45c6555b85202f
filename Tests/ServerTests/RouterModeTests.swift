import CacheAside
import Foundation
import HTTPTypes
import Hummingbird
import HTTPCurl
import HummingbirdTesting
import Logging
import Postgres
import Redis
import ServiceLifecycle
@testable import Server
import Telemetry
import Testing
import TestSupport

/// The routes as `buildRouter` composes them, driven in HummingbirdTesting's router mode: no
/// socket, the real Redis and PostgreSQL behind them.
@Suite("buildRouter in router mode (no socket), over real Redis and PostgreSQL")
struct RouterModeTests {
    /// A fresh Redis and a five-product database behind the server's dependencies, as `serve` builds them.
    private struct Fixture {
        let setup: TestServerSetup
        let registry = MetricsRegistry()
        let dependencies: ServerDependencies
        var configuration: ServerConfiguration { setup.configuration }
        var logger: Logger { setup.logger }

        init() async throws {
            setup = try await TestServerSetup(adminToken: "router-token", products: 5)
            dependencies = ServerDependencies(configuration: setup.configuration, registry: registry, logger: setup.logger)
        }

        func tearDown() async {
            await dependencies.shutdown()
            await setup.tearDown()
        }
    }

    @Test("a product MISS then HIT, /health healthy, an admin write without the token 401, an unknown route 404")
    func routes() async throws {
        let fixture = try await Fixture()
        let (configuration, logger, registry, dependencies) = (fixture.configuration, fixture.logger, fixture.registry, fixture.dependencies)
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
        await fixture.tearDown()
    }

    @Test("serve's one ServiceGroup: pusher, server, drain, bounded by the drain plus the origin timeout plus 2 s")
    func serviceGroupBound() throws {
        var cache = CacheAside.Configuration()
        cache.loadTimeout = .seconds(30)
        let configuration = ServerConfiguration(redis: try RedisConfiguration(url: TestServices.redisURL),
                                                postgres: try PostgresConfiguration(TestServices.databaseURL), cache: cache)
        let server = CacheLoadServer(configuration: configuration, logger: Logger(label: "test"),
                                     drain: ShutdownDrain(duration: .seconds(12))) { _ in }
        let names = server.services.map { "\($0)" }
        #expect(names.count == 4 && names.prefix(2) == ["origin client (postgres)", "Redis client"] && names[3].contains("ShutdownDrain"),
                "no pusher without --cloudwatch: the clients, the server, then the drain: \(names)")
        #expect(server.serviceGroupConfiguration().maximumGracefulShutdownDuration == .seconds(44),
                "12 s of drain, 30 s for the slowest origin load, 2 s: below the unit's TimeoutStopSec (47 s)")
    }

    @Test("the clients are services of the server's group: they start before it, stop after it, and are closed when the group returns")
    func clientsInTheGroup() async throws {
        let fixture = try await Fixture()
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let server = CacheLoadServer(configuration: fixture.configuration, logger: fixture.logger) { port in
            continuation.yield(port)
            continuation.finish()
        }
        let group = ServiceGroup(configuration: .init(services: server.services, logger: fixture.logger))
        let running = Task { try await group.run() }
        let port = try #require(await ports.first { _ in true })
        let http = CurlClient(concurrency: 1)
        let answer = try await http.execute(CurlRequest(url: "http://127.0.0.1:\(port)/product/2", timeout: .seconds(10)))
        await http.shutdown()
        #expect(answer.status == 200, "the server answered with its clients running")
        _ = try await server.dependencies.redis.get("still-open")
        await group.triggerGracefulShutdown()
        try await running.value
        await #expect(throws: RedisError.self, "the group shut the Redis client down after the server") {
            _ = try await server.dependencies.redis.get("closed")
        }
        await fixture.tearDown()
    }

    @Test("a graceful shutdown begins the drain: /health 503 draining, products still served with Connection: close")
    func drainAfterShutdownBegins() async throws {
        let fixture = try await Fixture()
        let (configuration, logger, registry, dependencies) = (fixture.configuration, fixture.logger, fixture.registry, fixture.dependencies)
        let drain = ShutdownDrain(duration: .seconds(60), logger: logger)
        let app = Application(router: buildRouter(dependencies, configuration: configuration, registry: registry, cloudWatch: nil, drain: drain),
                              logger: logger)
        let group = ServiceGroup(configuration: .init(services: [drain], logger: logger))
        let running = Task { try await group.run() }
        try await app.test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok && response.headers[.connection] == nil)
            }
            await group.triggerGracefulShutdown()
            let deadline = ContinuousClock.now + .seconds(10)
            while !drain.isDraining, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            try #require(drain.isDraining)
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body).contains("\"status\":\"draining\""))
            }
            try await client.execute(uri: "/product/2", method: .get) { response in
                #expect(response.status == .ok && response.headers[.connection] == "close")
            }
        }
        running.cancel()  // cuts the 60 s drain short
        _ = try? await running.value
        await fixture.tearDown()
    }
}
