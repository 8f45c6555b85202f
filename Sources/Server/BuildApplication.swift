import CacheAside
import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
import Logging
import NIOCore
import Telemetry

// Composition, as Hummingbird's application template has it: the router and the application
// are built here; CacheLoadServer owns their dependencies' lifetime and runs the result.

/// The request context of `serve`: Hummingbird's basic one, plus the protocol that carried
/// the request (for `http_requests_by_protocol`).
struct ServerRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// `h2` or `http/1.1`.
    let httpProtocol: String

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        // An HTTP/2 stream is a child channel of its connection, which is the listener's child;
        // an HTTP/1 connection is the listener's child itself.
        httpProtocol = source.channel.parent?.parent == nil ? "http/1.1" : "h2"
    }
}

/// The HTTP application: HTTP/1.1 with HTTP/1.0 keep-alive semantics in clear, HTTP/2 and
/// HTTP/1.1 over TLS (ALPN), or h2c; the idle timeout, the listen address, and `onListening`
/// told the bound port.
func buildApplication(router: Router<ServerRequestContext>, server: HTTPServerBuilder, configuration: ServerConfiguration, logger: Logger,
                      onListening: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
    Application(
        router: router,
        server: server,
        configuration: ApplicationConfiguration(
            address: .hostname(configuration.host, port: configuration.port), serverName: "cacheload", backlog: 4096),
        onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
        logger: logger)
}

/// The listener's channels for ``ServerConfiguration/protocols``.
/// - Throws: ``HTTPProtocolsError`` when the certificate or key cannot be used.
func buildServer(_ configuration: ServerConfiguration) throws -> HTTPServerBuilder {
    let idleTimeout = TimeAmount(configuration.idleTimeout)
    let http2 = HTTP2ChannelConfiguration(idleTimeout: configuration.idleTimeout, streamConfiguration: .init(idleTimeout: idleTimeout))
    switch configuration.protocols {
    case .http1:
        return HTTPServerBuilder { responder in
            HTTP1ChannelWithHTTP10Semantics(inner: HTTP1Channel(responder: responder, configuration: .init(idleTimeout: idleTimeout)))
        }
    case .tls:
        let tls = try configuration.protocols.serverTLSConfiguration()!
        return try .http2Upgrade(tlsConfiguration: tls, configuration: http2)
    case .h2c:
        return .plaintextHTTP2(configuration: http2)
    }
}

/// The server's routes over its dependencies: products, status (`/stats`, `/health`,
/// `/metrics`), the slow page, S3 objects, and the admin writes behind the token.
///
/// While `drain` drains, `/health` answers 503 and every answer closes its connection.
func buildRouter(_ dependencies: ServerDependencies, configuration: ServerConfiguration, registry: MetricsRegistry,
                 cloudWatch: CloudWatchPusher?, drain: ShutdownDrain = ShutdownDrain(duration: .zero)) -> Router<ServerRequestContext> {
    let (cache, catalog, redis, metrics) = (dependencies.cache, dependencies.catalog, dependencies.redis, dependencies.metrics)
    let router = Router(context: ServerRequestContext.self)
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
