import CacheAside
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import Telemetry

// Composition, as Hummingbird's application template has it: the router and the application
// are built here; CacheLoadServer owns their dependencies' lifetime and runs the result.

/// The HTTP application: HTTP/1.1 with HTTP/1.0 keep-alive semantics, the idle timeout, the
/// listen address, and `onListening` told the bound port.
func buildApplication(router: Router<BasicRequestContext>, configuration: ServerConfiguration, logger: Logger,
                      onListening: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
    Application(
        router: router,
        server: HTTPServerBuilder { [idleTimeout = configuration.idleTimeout] responder in
            HTTP1ChannelWithHTTP10Semantics(inner: HTTP1Channel(
                responder: responder, configuration: .init(idleTimeout: TimeAmount(idleTimeout))))
        },
        configuration: ApplicationConfiguration(
            address: .hostname(configuration.host, port: configuration.port), serverName: "cacheload", backlog: 4096),
        onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
        logger: logger)
}

/// The server's routes over its dependencies: products, status (`/stats`, `/health`,
/// `/metrics`), the slow page, S3 objects, and the admin writes behind the token.
///
/// While `drain` drains, `/health` answers 503 and every answer closes its connection.
func buildRouter(_ dependencies: ServerDependencies, configuration: ServerConfiguration, registry: MetricsRegistry,
                 cloudWatch: CloudWatchPusher?, drain: ShutdownDrain = ShutdownDrain(duration: .zero)) -> Router<BasicRequestContext> {
    let (cache, catalog, redis, metrics) = (dependencies.cache, dependencies.catalog, dependencies.redis, dependencies.metrics)
    let router = Router(context: BasicRequestContext.self)
    router.add(middleware: RequestMetricsMiddleware(metrics: metrics, cloudWatch: cloudWatch))
    router.add(middleware: DrainMiddleware(drain: drain))

    let products = ProductRoutes(cache: cache, catalog: catalog, maxBodyBytes: configuration.maxBodyBytes)
    router.get("/product/:id", use: products.get)
    let status = StatusRoutes(cache: cache, catalog: catalog, redis: redis, registry: registry, metrics: metrics,
                              redisMetrics: dependencies.redisMetrics, drain: drain)
    router.get("/stats", use: status.stats)
    router.get("/health", use: status.health)
    router.get("/metrics", use: status.metricsText)
    let slowPage = SlowPageRoute(cache: cache, catalog: catalog, ttl: configuration.slowPageTTL)
    router.get("/", use: slowPage.page)

    let objects = ObjectRoutes(
        cache: cache,
        store: dependencies.objectStore,
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
