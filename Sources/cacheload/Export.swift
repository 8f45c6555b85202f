import ArgumentParser
import CommandOptions
import Logging
import Redis
import Server
import ServiceLifecycle
import Telemetry
import UnixSignals

struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sidecar: publish Redis INFO and a server's /stats as Prometheus metrics and CloudWatch datums.",
        discussion: """
            For deployments where the application is not cacheload serve: the hit ratio comes from Redis keyspace_hits/keyspace_misses (as ElastiCache's CacheHitRate does), or from the server's /stats when --server is given. CloudWatch receives increases only; the first reading is the baseline.

            Examples:
              cacheload export --redis redis://127.0.0.1:6379/0 --listen 127.0.0.1:9121
              cacheload export --redis "$REDIS_URL" --server http://127.0.0.1:8080 \\
                  --cloudwatch --environment prod
            """)

    @OptionGroup var redisOptions: RedisOptions

    @Option(help: ArgumentHelp("A cacheload server whose /stats is read.", valueName: "url"))
    var server: String?

    @Option(help: ArgumentHelp("Serve Prometheus metrics at http://ADDR/metrics.", valueName: "host:port"))
    var listen: String = "127.0.0.1:9121"

    @Option(help: "Seconds between reads.")
    var interval: Int = 10

    @OptionGroup var cloudWatch: CloudWatchOptions

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        _ = try ListenAddress.parse(listen, option: "--listen")
        guard interval >= 1 else { throw ValidationError("--interval must be at least 1 second") }
        if let server, !(server.hasPrefix("http://") || server.hasPrefix("https://")) {
            throw ValidationError("--server \"\(server)\": expected an http:// or https:// URL")
        }
    }

    func run() async throws {
        logging.bootstrap()
        let logger = Logger(label: "cacheload.export")
        let registry = MetricsRegistry()
        let address = try ListenAddress.parse(listen, option: "--listen")
        try address.checkAvailable()
        let redis = RedisClient(configuration: try redisOptions.configuration(poolSize: 1))
        let pusher = cloudWatch.pusher(registry: registry, logger: logger)
        let exporter = StatsExporter(redis: redis, serverURL: server, interval: .seconds(interval), registry: registry,
                                     cloudWatch: pusher, logger: logger)
        var services: [any Service] = [ClientService("Redis client") { await redis.shutdown() }, exporter,
                                       MetricsEndpoint(host: address.host, port: address.port, registry: registry, logger: logger)]
        if let pusher { services.append(pusher) }
        say("cacheload export: metrics at http://\(address.host):\(address.port)/metrics, reading \(redis.configuration)\(server.map { " and \($0)/stats" } ?? "")")
        try await ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)).run()
    }
}
