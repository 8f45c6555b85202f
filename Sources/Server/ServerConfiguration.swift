import AWS
import CacheAside
import HTTPCurl
import Origins
import Postgres
import Redis

/// Everything `cacheload serve` needs to know.
package struct ServerConfiguration: Sendable {
    /// Address to listen on.
    package var host: String
    /// Port to listen on; 0 picks a free one (reported through `onListening`).
    package var port: Int
    package var redis: RedisConfiguration
    /// The database behind the cache: PostgreSQL or MySQL.
    package var origin: OriginDatabase
    /// Cache-aside settings for products (TTL, jitter, negative TTL, on/off).
    package var cache: CacheAside.Configuration
    /// TTL of the slow page `GET /` (the result of `slow_version()`).
    package var slowPageTTL: TTLPolicy
    /// Bearer token for PUT/DELETE /product and POST /admin/warm; `nil` disables those routes.
    package var adminToken: String?
    /// Largest accepted request body (PUT /product).
    package var maxBodyBytes: Int
    /// Idle keep-alive connections are closed after this long.
    package var idleTimeout: Duration
    /// HTTP/1.1 in clear, HTTPS with HTTP/2 by ALPN, or h2c.
    package var protocols: HTTPProtocols = .http1
    /// The S3 origin behind `/object/{key}`; `nil` leaves those routes answering 404.
    package var s3: S3Configuration?
    /// Objects larger than this are served from S3 without being cached.
    package var s3MaxCacheBytes: Int
    /// Credentials for S3 and Secrets Manager (the AWS chain by default).
    package var awsCredentials: (@Sendable () async throws -> AWSCredentials)?
    /// Secrets Manager secret (`username`/`password`, as RDS writes it) read again when the
    /// origin refuses the password — RDS rotates its managed password every seven days.
    package var postgresSecretID: String?
    /// Region of S3 and Secrets Manager.
    package var awsRegion: String

    package init(
        host: String = "127.0.0.1", port: Int = 8080,
        redis: RedisConfiguration, origin: OriginDatabase,
        cache: CacheAside.Configuration = .init(),
        slowPageTTL: TTLPolicy = TTLPolicy(seconds: 10, jitter: 0),
        adminToken: String? = nil, maxBodyBytes: Int = 64 * 1024, idleTimeout: Duration = .seconds(30)
    ) {
        self.host = host
        self.port = port
        self.redis = redis
        self.origin = origin
        self.cache = cache
        self.slowPageTTL = slowPageTTL
        self.adminToken = adminToken.flatMap { $0.isEmpty ? nil : $0 }
        self.maxBodyBytes = maxBodyBytes
        self.idleTimeout = idleTimeout
        self.s3 = nil
        self.s3MaxCacheBytes = 512 * 1024
        self.awsCredentials = nil
        self.postgresSecretID = nil
        self.awsRegion = "us-east-1"
    }
}

extension ServerConfiguration {
    /// The line `serve` prints once it listens on `port`:
    /// `cacheload serve: listening on http://127.0.0.1:8080 (cache on)`.
    package func listeningLine(port: Int) -> String {
        let spoken = protocols == .http1 ? "" : ", \(protocols.summary)"
        return "cacheload serve: listening on \(protocols.scheme)://\(host):\(port) (cache \(cache.enabled ? "on" : "off")\(spoken))"
    }

    /// A configuration in front of PostgreSQL.
    package init(
        host: String = "127.0.0.1", port: Int = 8080,
        redis: RedisConfiguration, postgres: PostgresConfiguration,
        cache: CacheAside.Configuration = .init(),
        adminToken: String? = nil, idleTimeout: Duration = .seconds(30)
    ) {
        self.init(host: host, port: port, redis: redis, origin: .postgres(postgres), cache: cache, adminToken: adminToken,
                  idleTimeout: idleTimeout)
    }
}

extension ServerConfiguration: CustomStringConvertible, CustomReflectable {
    /// Safe for logs: passwords and the admin token are masked (ServiceLifecycle logs its
    /// services, and through them this, at debug level).
    package var description: String {
        "ServerConfiguration(http://\(host):\(port), redis: \(redis), origin: \(origin), cache: \(cache.enabled ? "on" : "off"), "
            + "admin: \(adminToken == nil ? "disabled" : "token ***"), s3: \(s3.map { $0.bucket } ?? "none"))"
    }

    package var customMirror: Mirror { Mirror(self, children: ["description": description]) }
}
