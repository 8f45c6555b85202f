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
    var postgres: PostgresConfiguration
    var logger: Logger

    /// Runs `body` with the port of a server that has the cache on or off, then stops it.
    /// `body` also gets the server's origin-query count, read from the catalog that counts them.
    func with<T: Sendable>(
        cache: Bool, registry: MetricsRegistry = MetricsRegistry(), pusher: CloudWatchPusher? = nil,
        s3: S3Configuration? = nil, port: Int = 0,
        _ body: (_ port: Int, _ originQueries: @escaping @Sendable () -> Int) async throws -> T
    ) async throws -> T {
        var configuration = ServerConfiguration(host: "127.0.0.1", port: port, redis: redis, postgres: postgres,
                                                cache: .init(enabled: cache))
        configuration.s3 = s3
        configuration.awsRegion = AWSCredentialChain.region()
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let server = CacheLoadServer(configuration: configuration, registry: registry, logger: logger, cloudWatch: pusher) { port in
            continuation.yield(port)
            continuation.finish()
        }
        let group = ServiceGroup(configuration: .init(services: [server], logger: logger))
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

/// The demo could not go on; the message says why.
package struct DemoError: Error, CustomStringConvertible {
    package let description: String
    init(_ description: String) { self.description = description }
}
