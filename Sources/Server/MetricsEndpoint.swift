import HTTPTypes
import Hummingbird
import Logging
import ServiceLifecycle
import Telemetry

/// A small HTTP server with one route, `GET /metrics`, for processes that are not the cache
/// server: `cacheload load --metrics-listen` and `cacheload export --listen`.
package struct MetricsEndpoint: Service {
    let host: String
    let port: Int
    let registry: MetricsRegistry
    let beforeScrape: @Sendable () async -> Void
    let logger: Logger

    /// - Parameter beforeScrape: runs before each exposition, to refresh gauges.
    package init(host: String, port: Int, registry: MetricsRegistry, logger: Logger,
                beforeScrape: @escaping @Sendable () async -> Void = {}) {
        self.host = host
        self.port = port
        self.registry = registry
        self.logger = logger
        self.beforeScrape = beforeScrape
    }

    package func run() async throws {
        let router = Router(context: BasicRequestContext.self)
        router.get("/metrics") { [registry, beforeScrape] _, _ -> Response in
            await beforeScrape()
            return Response(status: .ok, headers: [.contentType: MetricsRegistry.contentType],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.exposition())))
        }
        let app = Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "cacheload"),
                              logger: logger)
        do {
            try await app.run()
        } catch {
            throw ListenError.from(error, host: host, port: port)
        }
    }
}

extension MetricsEndpoint {
    /// An endpoint at `address` (checked free first: a busy port is an error, not a silent miss)
    /// run by a `ServiceGroup` of its own beside the caller's work (`load --metrics-listen`,
    /// whose run is not a service); ``Running/stop()`` ends it gracefully.
    package static func startInBackground(at address: ListenAddress, registry: MetricsRegistry) throws -> Running {
        try address.checkAvailable()
        var logger = Logger(label: "cacheload.metrics")
        logger.logLevel = .warning
        let endpoint = MetricsEndpoint(host: address.host, port: address.port, registry: registry, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [endpoint], logger: logger))
        return Running(group: group, task: Task { try await group.run() })
    }

    /// An endpoint's group while it runs.
    package struct Running: Sendable {
        let group: ServiceGroup
        let task: Task<Void, any Error>

        /// Stops serving (a scrape in progress finishes) and waits until the listener is closed.
        package func stop() async {
            await group.triggerGracefulShutdown()
            _ = try? await task.value
        }
    }
}
