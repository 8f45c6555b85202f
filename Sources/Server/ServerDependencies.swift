import AWS
import CacheAside
import HTTPCurl
import Logging
import Origins
import Postgres
import Redis
import ServiceLifecycle
import Telemetry

/// Everything the routes use, made once per server: its clients, their connections and their
/// threads. Making it starts nothing (every client opens connections and threads on first use);
/// ``services`` runs and stops them in the server's `ServiceGroup`.
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
    /// The keys the near cache holds copies under (`--near-cache`).
    private static let nearCachePrefixes = [CacheKey.productPrefix, CacheKey.objectPrefix, CacheKey.slowPage]

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
        objectStore = configuration.s3.flatMap { s3 in credentials.map { S3ObjectStore(configuration: s3, credentials: $0) } }
    }

    /// The clients as services of the server's one group, in the order they start: the group
    /// stops them in reverse, after the server — the near cache's coherence first, then Redis
    /// and the origin, the AWS clients last.
    var services: [any Service] {
        var services: [any Service] = []
        if let credentialChain { services.append(ClientService("AWS credential chain") { await credentialChain.shutdown() }) }
        if let secrets { services.append(ClientService("Secrets Manager client") { await secrets.shutdown() }) }
        if let objectStore { services.append(ClientService("S3 client") { await objectStore.shutdown() }) }
        let store = catalog.store
        services.append(ClientService("origin client (\(store.engine))") { await store.shutdown() })
        services.append(ClientService("Redis client") { [redis] in await redis.shutdown() })
        if cache.near != nil { services.append(NearCacheCoherence(cache: cache, prefixes: Self.nearCachePrefixes)) }
        return services
    }

    /// Closes every connection and stops every thread the clients started, in the order the
    /// group would — for a caller that runs the routes without the group (router-mode tests).
    func shutdown() async {
        for case let client as ClientService in services.reversed() { await client.stop() }
    }
}
