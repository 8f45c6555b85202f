import CacheAside
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import Origins
import Postgres
import Redis
import ServiceLifecycle
import Synchronization
import Telemetry

/// The cache-aside server: Hummingbird routes over ``CacheAside`` and the PostgreSQL catalog.
///
/// A `Service`: run it in a `ServiceGroup`, which stops it gracefully on a signal.
///
/// ```swift
/// let server = CacheLoadServer(configuration: configuration)
/// try await ServiceGroup(configuration: .init(services: [server], gracefulShutdownSignals: [.sigterm, .sigint],
///                                             logger: logger)).run()
/// ```
public struct CacheLoadServer: Service, CustomStringConvertible {
    public let configuration: ServerConfiguration
    /// The registry behind `/metrics`; other components of the process may add families to it.
    public let registry: MetricsRegistry
    private let logger: Logger
    private let onListening: @Sendable (Int) async -> Void
    private let cloudWatch: CloudWatchPusher?

    /// - Parameter onListening: called with the bound port once the server accepts connections.
    /// What ServiceLifecycle logs for this service: no secrets.
    public var description: String { "CacheLoadServer(\(configuration))" }

    public init(configuration: ServerConfiguration, registry: MetricsRegistry = MetricsRegistry(),
                logger: Logger = Logger(label: "cacheload.serve"), cloudWatch: CloudWatchPusher? = nil,
                onListening: @escaping @Sendable (Int) async -> Void = { _ in }) {
        self.cloudWatch = cloudWatch
        self.configuration = configuration
        self.registry = registry
        self.logger = logger
        self.onListening = onListening
    }

    /// Serves until the surrounding `ServiceGroup` shuts down gracefully (or the task is cancelled),
    /// then closes the Redis and PostgreSQL clients.
    public func run() async throws {
        let redis = RedisClient(configuration: configuration.redis)
        let postgres = PostgresClient(configuration: configuration.postgres, logger: logger)
        let metrics = ServerMetrics(registry: registry)
        let catalog = ProductCatalog(postgres: postgres) { operation, seconds, failed in
            metrics.recordOrigin(operation: operation, seconds: seconds, failed: failed)
        }
        let cache = CacheAside(redis: redis, configuration: configuration.cache,
                               metrics: CacheMetrics(registry: registry), logger: logger)
        if let cloudWatch {
            // Hits, misses and errors reach CloudWatch as the change since the previous flush.
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
        // One credential chain and one S3 client for the process, stopped with the server: made
        // per request they would start a thread pool per S3 miss and re-resolve credentials each time.
        let credentialChain = configuration.s3 != nil && configuration.awsCredentials == nil ? AWSCredentialChain() : nil
        let objectStore = configuration.s3.map { s3 in
            S3ObjectStore(configuration: s3, credentials: configuration.awsCredentials ?? credentialChain!.credentials)
        }
        let router = makeRouter(cache: cache, catalog: catalog, redis: redis, postgres: postgres, metrics: metrics,
                                objectStore: objectStore)

        let app = Application(
            router: router,
            server: HTTPServerBuilder { [idleTimeout = configuration.idleTimeout] responder in
                HTTP1ChannelWithHTTP10Semantics(inner: HTTP1Channel(
                    responder: responder, configuration: .init(idleTimeout: .nanoseconds(Int64(idleTimeout.seconds * 1e9)))))
            },
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port), serverName: "cacheload", backlog: 4096),
            onServerRunning: { [onListening] channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
        logger.info("starting", metadata: [
            "listen": "\(configuration.host):\(configuration.port)", "redis": "\(configuration.redis)",
            "postgres": "\(configuration.postgres)", "cache": "\(configuration.cache.enabled ? "on" : "off")",
            "admin": "\(configuration.adminToken == nil ? "disabled" : "enabled")",
        ])
        var failure: (any Error)?
        do { try await app.run() } catch { failure = error }
        await redis.shutdown()
        await postgres.shutdown()
        await objectStore?.shutdown()
        await credentialChain?.shutdown()
        if let failure { throw failure }
        logger.info("stopped")
    }

    private func makeRouter(cache: CacheAside, catalog: ProductCatalog, redis: RedisClient,
                            postgres: PostgresClient, metrics: ServerMetrics,
                            objectStore: S3ObjectStore?) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: RequestMetricsMiddleware(metrics: metrics, cloudWatch: cloudWatch))

        let products = ProductRoutes(cache: cache, catalog: catalog, maxBodyBytes: configuration.maxBodyBytes)
        router.get("/product/:id", use: products.get)
        let status = StatusRoutes(cache: cache, catalog: catalog, redis: redis, postgres: postgres, registry: registry, metrics: metrics)
        router.get("/stats", use: status.stats)
        router.get("/health", use: status.health)
        router.get("/metrics", use: status.metricsText)
        let slowPage = SlowPageRoute(cache: cache, catalog: catalog, ttl: configuration.slowPageTTL)
        router.get("/", use: slowPage.page)

        let objects = ObjectRoutes(
            cache: cache,
            store: objectStore,
            maxCacheBytes: configuration.s3MaxCacheBytes, maxObjectBytes: 16 * 1024 * 1024,
            notCached: registry.counter("objects_not_cached", help: "S3 objects served without caching because they exceed the size limit."))
        router.get("/object/:key", use: objects.get)

        let warm = WarmRoute(cache: cache, catalog: catalog)
        router.group()
            .add(middleware: AdminAuthorization(token: configuration.adminToken))
            .put("/product/:id", use: products.put)
            .delete("/product/:id", use: products.delete)
            .post("/admin/warm", use: warm.warm)
            .put("/object/:key", use: objects.put)
        return router
    }
}
