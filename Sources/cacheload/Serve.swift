import AWS
import ArgumentParser
import CommandOptions
import CacheAside
import Foundation
import Logging
import Origins
import Server
import Telemetry
import Postgres
import ServiceLifecycle
import UnixSignals

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the cache-aside server: Redis in front of PostgreSQL or MySQL.",
        discussion: """
            Routes: GET /product/{id} (X-Cache: HIT|MISS|BYPASS|STALE), PUT and DELETE /product/{id} and POST /admin/warm?top=N (with --admin-token), GET / (the slow page), /stats, /health, /metrics, GET /object/{key} (with --s3-bucket).

            Examples:
              cacheload serve --listen 127.0.0.1:8080 --redis redis://127.0.0.1:6379/0 \\
                  --postgres postgresql://postgres@127.0.0.1:5432/postgres
              cacheload serve --mysql "mysql://app:$PW@db/ecommerce"   # MySQL
              cacheload serve --cache off     # every request from the origin
              cacheload serve --stale-while-revalidate 30 --early-refresh 1
              cacheload serve --drain-seconds 12   # behind a load balancer
              cacheload serve --tls-cert cert.pem --tls-key key.pem   # HTTPS, h2
              CACHELOAD_ADMIN_TOKEN=s3cret cacheload serve --config database.ini
            """)

    @OptionGroup var listener: ListenOptions

    @OptionGroup var connections: ConnectionOptions

    @Option(name: .customLong("port"), help: .hidden)
    var misspelledPort: String?

    @OptionGroup var caching: CacheOptions

    @Option(help: "Bearer token for the admin routes (or CACHELOAD_ADMIN_TOKEN). Without one they are disabled.")
    var adminToken: String?

    @Option(help: "Seconds to keep serving after SIGTERM or Ctrl-C while /health answers 503 (draining) and every answer closes its connection, so a load balancer takes the instance out before it stops listening; at least the balancer's health-check interval x unhealthy threshold. 0 stops at once.")
    var drainSeconds: Int = 0

    @Option(help: "Redis connections (commands are pipelined on each).")
    var redisPool: Int = 4

    @Option(help: "Origin database connections (PostgreSQL or MySQL).")
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
        guard redisPool >= 1, postgresPool >= 1 else { throw ValidationError("pool sizes must be at least 1") }
        guard (0...3600).contains(drainSeconds) else { throw ValidationError("--drain-seconds must be from 0 to 3600") }
    }

    func run() async throws {
        logging.bootstrap()
        let address = try listener.address
        try address.checkAvailable()
        let token = adminToken ?? ProcessInfo.processInfo.environment["CACHELOAD_ADMIN_TOKEN"]
        let cache = try caching.configuration()
        var configuration = ServerConfiguration(
            host: address.host, port: address.port, redis: try connections.redisConfiguration(poolSize: redisPool),
            origin: try connections.origin(poolSize: postgresPool).boundingQueries(by: cache.loadTimeout),
            cache: cache, slowPageTTL: caching.slowPageTTL, adminToken: token, idleTimeout: .seconds(listener.idleTimeout))
        configuration.protocols = listener.protocols
        configuration.awsRegion = AWSCredentialChain.region()
        configuration.postgresSecretID = postgresSecret ?? ProcessInfo.processInfo.environment["CACHELOAD_POSTGRES_SECRET_ARN"]
        if let s3Bucket {
            configuration.s3 = S3Configuration(bucket: s3Bucket, region: configuration.awsRegion, endpoint: S3Configuration.endpoint())
            configuration.s3MaxCacheBytes = s3MaxCacheBytes
        }
        let logger = Logger(label: "cacheload.serve")
        let registry = MetricsRegistry()
        let chain = AWSCredentialChain()  // one per process: S3, Secrets Manager and CloudWatch share its cache
        configuration.awsCredentials = { try await chain.credentials() }
        let pusher = cloudWatch.pusher(registry: registry, logger: logger, credentials: chain)
        let server = CacheLoadServer(configuration: configuration, registry: registry, logger: logger, cloudWatch: pusher,
                                     drain: ShutdownDrain(duration: .seconds(drainSeconds), logger: logger)) { [configuration] port in
            say(configuration.listeningLine(port: port))
        }
        let credentials = ClientService("AWS credential chain") { await chain.shutdown() }  // stopped last
        try await ServiceGroup(configuration: server.serviceGroupConfiguration(first: [credentials])).run()
    }
}
