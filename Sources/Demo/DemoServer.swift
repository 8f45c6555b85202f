import AWS
import CacheAside
import Logging
import Origins
import Postgres
import Redis
import Server
import ServiceLifecycle
import Telemetry

/// A `cacheload serve` in this process for one phase of the demo: started on a free (or given)
/// port, stopped gracefully when the phase ends, whatever way it ends.
struct DemoServer {
    var redis: RedisConfiguration
    var origin: OriginDatabase
    var logger: Logger
    /// The demo's one credential chain (one per process), for the servers' S3.
    var chain: AWSCredentialChain

    /// Runs `body` with the port of a server that has the cache on or off, then stops it.
    /// `body` also gets the server's origin-query count, read from the catalog that counts them.
    func with<T: Sendable>(
        cache: Bool, registry: MetricsRegistry = MetricsRegistry(), pusher: CloudWatchPusher? = nil,
        s3: S3Configuration? = nil, port: Int = 0,
        _ body: (_ port: Int, _ originQueries: @escaping @Sendable () -> Int) async throws -> T
    ) async throws -> T {
        var configuration = ServerConfiguration(host: "127.0.0.1", port: port, redis: redis, origin: origin,
                                                cache: .init(enabled: cache))
        configuration.s3 = s3
        configuration.awsRegion = AWSCredentialChain.region()
        configuration.awsCredentials = { [chain] in try await chain.credentials() }
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let server = CacheLoadServer(configuration: configuration, registry: registry, logger: logger, cloudWatch: pusher) { port in
            continuation.yield(port)
            continuation.finish()
        }
        let group = ServiceGroup(configuration: .init(services: server.services, logger: logger))
        let task = Task { try await group.run() }
        guard let port = await ports.first(where: { _ in true }) else {
            _ = try? await task.value
            throw DemoError("the server did not start")
        }
        let result: Result<T, any Error>
        do {
            result = .success(try await body(port, { server.originQueryCount }))
        } catch {
            result = .failure(error)
        }
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        return try result.get()
    }
}

extension DemoServer {
    /// The admin token of the fleet's servers (for `POST /admin/warm`).
    static let fleetAdminToken = "demo-fleet-admin"

    /// Runs `body` with the ports of `count` servers in one service group sharing this Redis and
    /// PostgreSQL — a fleet — with their origin queries summed and their misses and stale answers
    /// summed; then stops them.
    func fleet<T: Sendable>(
        count: Int, cache: CacheAside.Configuration,
        _ body: (_ ports: [Int], _ originQueries: @escaping @Sendable () -> Int,
                 _ stats: @escaping @Sendable () -> (misses: Int, stale: Int)) async throws -> T
    ) async throws -> T {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let servers = (0..<count).map { _ in
            CacheLoadServer(configuration: ServerConfiguration(host: "127.0.0.1", port: 0, redis: redis, origin: origin, cache: cache,
                                                               adminToken: Self.fleetAdminToken),
                            logger: logger) { port in continuation.yield(port) }
        }
        let group = ServiceGroup(configuration: .init(services: servers.flatMap(\.services), logger: logger))
        let task = Task { try await group.run() }
        var started: [Int] = []
        for await port in ports {
            started.append(port)
            if started.count == count { break }
        }
        let result: Result<T, any Error>
        do {
            guard started.count == count else { throw DemoError("the fleet's servers did not start") }
            result = .success(try await body(started, { servers.reduce(0) { $0 + $1.originQueryCount } }, {
                servers.reduce((misses: 0, stale: 0)) { sum, server in
                    let counts = server.cacheCounts
                    return (sum.misses + (counts?.misses ?? 0), sum.stale + (counts?.stale ?? 0))
                }
            }))
        } catch {
            result = .failure(error)
        }
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        return try result.get()
    }
}

/// The demo could not go on; the message says why.
package struct DemoError: Error, CustomStringConvertible {
    package let description: String
    init(_ description: String) { self.description = description }
}
