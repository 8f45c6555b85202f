import AWS
import CacheAside
import HTTPCurl
import Logging
import Origins
import Postgres
import Redis
import Telemetry

/// Everything the routes use, made once per server and shut down together: the one owner of the
/// server's clients, their connections and their threads.
struct ServerDependencies: Sendable {
    let redis: RedisClient
    let cache: CacheAside
    let catalog: ProductCatalog
    let metrics: ServerMetrics
    let redisMetrics: RedisClientMetrics
    let objectStore: S3ObjectStore?
    /// One credential chain for the process (S3 and Secrets Manager share its cache).
    private let credentialChain: AWSCredentialChain?
    private let secrets: SecretsManagerClient?
    /// Feeds Redis' invalidation reports into the near cache (`--near-cache`), until shutdown.
    private let nearCacheCoherence: Task<Void, Never>?

    init(configuration: ServerConfiguration, registry: MetricsRegistry, logger: Logger) {
        let needsAWS = configuration.postgresSecretID != nil || (configuration.s3 != nil && configuration.awsCredentials == nil)
        let chain = needsAWS && configuration.awsCredentials == nil ? AWSCredentialChain() : nil
        let credentials: (@Sendable () async throws -> AWSCredentials)?
        if let injected = configuration.awsCredentials {
            credentials = injected
        } else if let chain {
            credentials = { try await chain.credentials() }
        } else {
            credentials = nil
        }
        let secrets = configuration.postgresSecretID.flatMap { _ in
            credentials.map { SecretsManagerClient(endpoint: SecretsManagerClient.endpoint(region: configuration.awsRegion),
                                                   region: configuration.awsRegion, credentials: $0) }
        }
        credentialChain = chain
        self.secrets = secrets
        redis = RedisClient(configuration: configuration.redis)
        var credentialsSource: (@Sendable () async throws -> (user: String, password: String))?
        if let secrets, let secretID = configuration.postgresSecretID {
            credentialsSource = { try await secrets.databaseCredentials(secretID) }
        }
        let store = configuration.origin.catalogStore(logger: logger, credentialsSource: credentialsSource)
        let metrics = ServerMetrics(registry: registry, originEngine: store.engine)
        self.metrics = metrics
        redisMetrics = RedisClientMetrics(redis: redis, registry: registry)
        catalog = ProductCatalog(store: store, logger: logger) { operation, seconds, failed in
            metrics.recordOrigin(operation: operation, seconds: seconds, failed: failed)
        }
        let cache = CacheAside(redis: redis, configuration: configuration.cache, metrics: CacheMetrics(registry: registry), logger: logger)
        self.cache = cache
        nearCacheCoherence = cache.near.map { _ in
            Task { await cache.keepNearCacheCoherent(prefixes: [CacheKey.productPrefix, CacheKey.objectPrefix, CacheKey.slowPage]) }
        }
        objectStore = configuration.s3.flatMap { s3 in credentials.map { S3ObjectStore(configuration: s3, credentials: $0) } }
    }

    /// Closes every connection and stops every thread pool the dependencies started.
    func shutdown() async {
        nearCacheCoherence?.cancel()
        await nearCacheCoherence?.value
        await redis.shutdown()
        await catalog.store.shutdown()
        await objectStore?.shutdown()
        await secrets?.shutdown()
        await credentialChain?.shutdown()
    }
}
