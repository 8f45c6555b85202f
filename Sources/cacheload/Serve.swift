import AWS
import ArgumentParser
import CacheAside
import Foundation
import Logging
import Origins
import Server
import Telemetry
import ServiceLifecycle
import UnixSignals

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the cache-aside server: Redis in front of PostgreSQL.",
        discussion: """
            Routes: GET /product/{id} (X-Cache: HIT|MISS|BYPASS), PUT and DELETE /product/{id} and POST /admin/warm?top=N (with --admin-token), GET / (the slow page), /stats, /health, /metrics, GET /object/{key} (with --s3-bucket).

            Examples:
              cacheload serve --listen 127.0.0.1:8080 --redis redis://127.0.0.1:6379/0 \\
                  --postgres postgresql://postgres@127.0.0.1:5432/postgres
              cacheload serve --cache off     # every request from PostgreSQL
              CACHELOAD_ADMIN_TOKEN=s3cret cacheload serve --config database.ini
            """)

    @Option(help: ArgumentHelp("Address to listen on (host:port; port 0 picks a free one).", valueName: "host:port"))
    var listen: String = "127.0.0.1:8080"

    @OptionGroup var connections: ConnectionOptions

    @Option(name: .customLong("port"), help: .hidden)
    var misspelledPort: String?

    @Option(help: "Time to live of cached products, in seconds.")
    var ttl: Int = 3600

    @Option(help: "TTL jitter as a fraction of --ttl (0.1 = ±10%), so keys filled together expire apart.")
    var ttlJitter: Double = 0.1

    @Option(help: "Time to live of a cached 'not found', in seconds.")
    var negativeTtl: Int = 30

    @Option(help: "Time to live of the slow page GET /, in seconds.")
    var slowPageTtl: Int = 10

    @Option(help: ArgumentHelp("Cache on, or off to serve every request from PostgreSQL.", valueName: "on|off"))
    var cache: String = "on"

    @Option(help: "Bearer token for the admin routes (or CACHELOAD_ADMIN_TOKEN). Without one they are disabled.")
    var adminToken: String?

    @Option(help: "Seconds a connection may go without a complete request part before it is closed (bounds slowloris clients).")
    var idleTimeout: Int = 30

    @Option(help: "Redis connections (commands are pipelined on each).")
    var redisPool: Int = 4

    @Option(help: "PostgreSQL connections.")
    var postgresPool: Int = 16

    @Option(help: "S3 bucket behind GET /object/{key} (endpoint from AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL).")
    var s3Bucket: String?

    @Option(help: "Objects larger than this many bytes are served from S3 without being cached.")
    var s3MaxCacheBytes: Int = 512 * 1024

    @Option(help: ArgumentHelp(
        "Secrets Manager secret with the PostgreSQL username and password (or CACHELOAD_POSTGRES_SECRET_ARN), read again when PostgreSQL refuses the password, so an RDS rotation needs no restart.",
        valueName: "arn"))
    var postgresSecret: String?

    @OptionGroup var cloudWatch: CloudWatchOptions

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        if let misspelledPort {
            throw ValidationError("unknown option --port: serve listens on --listen HOST:PORT, e.g. --listen 127.0.0.1:\(misspelledPort)")
        }
        guard ["on", "off"].contains(cache) else { throw ValidationError("--cache must be on or off, not \"\(cache)\"") }
        guard ttl >= 1 else { throw ValidationError("--ttl must be at least 1 second") }
        guard (0...1).contains(ttlJitter) else { throw ValidationError("--ttl-jitter must be between 0 and 1") }
        guard negativeTtl >= 1, slowPageTtl >= 1 else { throw ValidationError("TTLs must be at least 1 second") }
        guard idleTimeout >= 1 else { throw ValidationError("--idle-timeout must be at least 1 second") }
        guard redisPool >= 1, postgresPool >= 1 else { throw ValidationError("pool sizes must be at least 1") }
        _ = try ListenAddress.parse(listen, option: "--listen")
    }

    func run() async throws {
        logging.bootstrap()
        let address = try ListenAddress.parse(listen, option: "--listen")
        try address.checkAvailable()
        let token = adminToken ?? ProcessInfo.processInfo.environment["CACHELOAD_ADMIN_TOKEN"]
        var configuration = ServerConfiguration(
            host: address.host, port: address.port,
            redis: try connections.redisConfiguration(poolSize: redisPool),
            postgres: try connections.postgresConfiguration(poolSize: postgresPool),
            cache: CacheAside.Configuration(
                enabled: cache == "on", ttl: TTLPolicy(seconds: ttl, jitter: ttlJitter), negativeTTLSeconds: negativeTtl),
            slowPageTTL: TTLPolicy(seconds: slowPageTtl, jitter: 0),
            adminToken: token, idleTimeout: .seconds(idleTimeout))
        configuration.awsRegion = AWSCredentialChain.region()
        configuration.postgresSecretID = postgresSecret ?? ProcessInfo.processInfo.environment["CACHELOAD_POSTGRES_SECRET_ARN"]
        if let s3Bucket {
            configuration.s3 = S3Configuration(bucket: s3Bucket, region: configuration.awsRegion, endpoint: S3Configuration.endpoint())
            configuration.s3MaxCacheBytes = s3MaxCacheBytes
        }
        let logger = Logger(label: "cacheload.serve")
        let registry = MetricsRegistry()
        let pusher = cloudWatch.pusher(registry: registry, logger: logger)
        let server = CacheLoadServer(configuration: configuration, registry: registry, logger: logger, cloudWatch: pusher) { [cache] port in
            say("cacheload serve: listening on http://\(address.host):\(port) (cache \(cache))")
        }
        var services: [any Service] = [server]
        if let pusher { services.append(pusher) }
        try await ServiceGroup(configuration: .init(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)).run()
    }
}
