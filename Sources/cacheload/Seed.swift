import ArgumentParser
import Origins
import Postgres
import Server

struct Seed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create the products table, its rows and slow_version() in PostgreSQL.",
        discussion: """
            Idempotent: existing rows are kept, missing ones added, slow_version() replaced.

            Examples:
              cacheload seed --postgres postgresql://postgres@127.0.0.1:5432/postgres
              cacheload seed --products 100000 --slow-seconds 2
            """)

    @OptionGroup var postgres: PostgresOptions

    @Option(help: "Number of products (ids 1...N).")
    var products: Int = 1005

    @Option(help: "Seconds slow_version() sleeps before returning version().")
    var slowSeconds: Double = 10

    func validate() throws {
        guard (1...10_000_000).contains(products) else { throw ValidationError("--products must be between 1 and 10000000") }
        guard slowSeconds >= 0, slowSeconds <= 600 else { throw ValidationError("--slow-seconds must be between 0 and 600") }
    }

    func run() async throws {
        let client = PostgresClient(configuration: try postgres.configuration(poolSize: 1))
        do {
            let outcome = try await CatalogSeeder(postgres: client).seed(products: products, slowSeconds: slowSeconds)
            say("seeded: \(outcome.inserted) products inserted, \(outcome.total) in the table; slow_version() sleeps \(slowSeconds) s")
            await client.shutdown()
        } catch {
            await client.shutdown()
            throw CommandFailure("\(error)")
        }
    }
}
