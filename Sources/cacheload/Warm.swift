import ArgumentParser
import CommandOptions
import CacheAside
import Origins
import Postgres
import Redis
import Server
import Telemetry

struct Warm: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pre-fill Redis with the most viewed products.",
        discussion: """
            Writes product:{id} for the N products with the most views, with the same TTL and jitter the server uses, so the first requests after a deploy or a flush are hits. Exits 1 when Redis did not store them all.

            Example:
              cacheload warm --top 100 --redis redis://127.0.0.1:6379/0 \\
                  --postgres postgresql://postgres@127.0.0.1:5432/postgres
            """)

    @OptionGroup var connections: ConnectionOptions

    @Option(help: "How many of the most viewed products to cache.")
    var top: Int = 100

    @Option(help: "Time to live of the cached products, in seconds.")
    var ttl = WholeSeconds(3600)

    @Option(help: "TTL jitter as a fraction of --ttl.")
    var ttlJitter: Double = 0.1

    func validate() throws {
        guard (1...100_000).contains(top) else { throw ValidationError("--top must be between 1 and 100000") }
        guard ttl.seconds >= 1, (0...1).contains(ttlJitter) else { throw ValidationError("--ttl must be ≥ 1 and --ttl-jitter between 0 and 1") }
    }

    func run() async throws {
        let redis = RedisClient(configuration: try connections.redisConfiguration())
        let origin = try connections.origin(poolSize: 2)
        let cache = CacheAside(redis: redis, configuration: .init(ttl: TTLPolicy(seconds: ttl.seconds, jitter: ttlJitter)),
                               metrics: CacheMetrics(registry: MetricsRegistry()))
        let outcome: (selected: Int, stored: Int)
        do {
            outcome = try await origin.withCatalogStore { try await ProductWarmer(cache: cache, catalog: ProductCatalog(store: $0)).warm(top: top) }
        } catch {
            await redis.shutdown()
            throw CommandFailure(ProductCatalog.isMissingSchema(error) ? ProductCatalog.missingSchemaAdvice : "\(error)")
        }
        let cause = outcome.stored == outcome.selected ? nil : await redis.writeProblem()
        await redis.shutdown()
        guard outcome.stored == outcome.selected else {
            throw CommandFailure("\(outcome.selected - outcome.stored) of \(outcome.selected) products could not be written to Redis "
                + "(\(redis.configuration)): \(cause ?? "Redis gave no reason")")
        }
        say("warmed: \(outcome.stored) products cached (ttl \(ttl) s ± \(Int(ttlJitter * 100))%)")
    }
}
