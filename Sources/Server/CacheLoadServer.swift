import CacheAside
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Origins
import Postgres
import Redis
import ServiceLifecycle
import UnixSignals
import Synchronization
import Telemetry

/// The cache-aside server: Hummingbird routes over ``CacheAside`` and the origin's catalog.
///
/// A `Service`, run with its clients (and the drain, and the CloudWatch pusher) in one
/// `ServiceGroup` — ``services`` — which stops them gracefully on a signal:
///
/// ```swift
/// let server = CacheLoadServer(configuration: configuration)
/// try await ServiceGroup(configuration: server.serviceGroupConfiguration()).run()
/// ```
package struct CacheLoadServer: Service, CustomStringConvertible {
    package let configuration: ServerConfiguration
    /// The registry behind `/metrics`; other components of the process may add families to it.
    package let registry: MetricsRegistry
    private let logger: Logger
    private let onListening: @Sendable (Int) async -> Void
    private let cloudWatch: CloudWatchPusher?
    private let drain: ShutdownDrain
    /// The clients the routes use; made here (nothing starts), run and stopped by ``services``.
    let dependencies: ServerDependencies
    /// The dependencies while the server runs (for ``originQueryCount``).
    private let running = NIOLockedValueBox<ServerDependencies?>(nil)

    /// - Parameter onListening: called with the bound port once the server accepts connections.
    /// What ServiceLifecycle logs for this service: no secrets.
    package var description: String { "CacheLoadServer(\(configuration))" }

    /// - Parameter drain: the drain before a graceful stop (``services`` runs it after the server):
    ///   while it drains, `/health` answers 503 and every answer closes its connection.
    package init(configuration: ServerConfiguration, registry: MetricsRegistry = MetricsRegistry(),
                logger: Logger = Logger(label: "cacheload.serve"), cloudWatch: CloudWatchPusher? = nil,
                drain: ShutdownDrain = ShutdownDrain(duration: .zero),
                onListening: @escaping @Sendable (Int) async -> Void = { _ in }) {
        self.cloudWatch = cloudWatch
        self.drain = drain
        self.configuration = configuration
        self.registry = registry
        self.logger = logger
        self.onListening = onListening
        dependencies = ServerDependencies(configuration: configuration, registry: registry, logger: logger)
    }

    /// The services of the server's one `ServiceGroup`, in order. A group stops its services in
    /// reverse: first the drain, then the server (in-flight requests finish), then its clients
    /// (``ServerDependencies/services``: Redis, the origin, the AWS clients), last the pusher,
    /// whose final flush counts everything the server answered.
    package var services: [any Service] {
        clientServices + [self, drain]
    }

    /// What the server stands on, in the order a group starts them: the pusher, then the
    /// clients (``ServerDependencies/services``).
    private var clientServices: [any Service] {
        (cloudWatch.map { [$0] } ?? []) + dependencies.services
    }

    /// The server's routes as an application with no listener, for a caller that drives them
    /// in process (HummingbirdTesting's `.router` mode): the same router over the same
    /// dependencies as ``run()``, whose clients run as the application's services, and Redis's
    /// mode read before the first request, as ``run()`` does.
    package func routesApplication() -> some ApplicationProtocol {
        var app = Application(router: router(), services: clientServices, logger: logger)
        app.beforeServerStarts { [dependencies] in try await dependencies.redis.checkMode() }
        return app
    }

    private func router() -> Router<ServerRequestContext> {
        buildRouter(dependencies, configuration: configuration, registry: registry, cloudWatch: cloudWatch, drain: drain)
    }

    /// The one `ServiceGroup` of `serve`: `first` (what the process owns beside the server, such
    /// as its credential chain: started first, stopped last) and ``services``, stopped gracefully
    /// on SIGTERM or Ctrl-C, and cancelled if the graceful stop outlasts the drain plus the
    /// longest origin load (the slowest request in flight) plus 2 s — so a stuck stop ends
    /// before a supervisor's kill (the unit's TimeoutStopSec is above this bound).
    package func serviceGroupConfiguration(first: [any Service] = []) -> ServiceGroupConfiguration {
        var group = ServiceGroupConfiguration(services: first + services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = gracefulShutdownBound
        return group
    }

    /// How long a graceful stop may take: the drain, then the slowest request in flight.
    package var gracefulShutdownBound: Duration {
        drain.duration + configuration.cache.loadTimeout + .seconds(2)
    }

    /// Origin queries the running server has made, as its catalog counts them; 0
    /// before it starts and after it stops.
    package var originQueryCount: Int {
        running.withLockedValue { $0?.catalog.queryCount } ?? 0
    }

    /// The cache's counters while the server runs; `nil` before it starts and after it stops.
    package var cacheCounts: CacheMetrics.Snapshot? {
        running.withLockedValue { $0?.cache.metrics.snapshot }
    }

    /// Serves until the surrounding `ServiceGroup` shuts down gracefully (or the task is
    /// cancelled); the group then stops the clients, after this.
    package func run() async throws {
        let server = try buildServer(configuration)  // a certificate that cannot be used stops it before anything starts
        try await dependencies.redis.checkMode()
        running.withLockedValue { $0 = dependencies }
        defer { running.withLockedValue { $0 = nil } }
        if let cloudWatch { pushCacheCounts(of: dependencies.cache, to: cloudWatch) }
        let app = buildApplication(router: router(), server: server, configuration: configuration, logger: logger, onListening: onListening)
        let redisMode = await Self.modeDescription(dependencies.redis)
        logger.info("starting", metadata: [
            "listen": "\(configuration.host):\(configuration.port)", "protocols": "\(configuration.protocols.summary)", "redis": "\(configuration.redis)",
            "redis_mode": "\(redisMode)",
            "origin": "\(configuration.origin)", "cache": "\(configuration.cache.enabled ? "on" : "off")",
            "admin": "\(configuration.adminToken == nil ? "disabled" : "enabled")",
        ])
        do { try await app.run() } catch { throw ListenError.from(error, host: configuration.host, port: configuration.port) }
        logger.info("stopped")
    }

    /// `standalone`, `cluster (3 primaries)`, or `unknown` while Redis cannot be reached.
    private static func modeDescription(_ redis: RedisClient) async -> String {
        let clustered: Bool
        do {
            clustered = try await redis.isCluster()
        } catch {
            // The cause as Redis gave it: a wrong password is not an unreachable server.
            return "unknown (\(error); asked again on first use)"
        }
        guard clustered else { return "standalone" }
        return "cluster (\((try? await redis.dataNodes().count).map { "\($0) primaries" } ?? "topology not read yet"))"
    }

    /// Hits, misses and errors reach CloudWatch as the change since the previous flush.
    private func pushCacheCounts(of cache: CacheAside, to cloudWatch: CloudWatchPusher) {
        let previous = Mutex(cache.metrics.snapshot)
        cloudWatch.addSource { [cache] in
            let now = cache.metrics.snapshot
            let before = previous.withLock { value in
                defer { value = now }
                return value
            }
            return [CloudWatchPusher.Name.hits: Double(now.hits - before.hits),
                    CloudWatchPusher.Name.misses: Double(now.misses - before.misses),
                    CloudWatchPusher.Name.errors: Double(now.errors - before.errors)]
        }
    }
}
