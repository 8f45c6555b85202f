import ArgumentParser
import CommandOptions
import Origins
import Server

struct Seed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create the products table, its rows and slow_version() in PostgreSQL or MySQL.",
        discussion: """
            Idempotent: existing rows are kept, missing ones added, slow_version() replaced. In MySQL the table is the labs' (id INT AUTO_INCREMENT, name VARCHAR(100), price DECIMAL(10,2), description TEXT, views INT, INDEX idx_views), the five named products first.

            Examples:
              cacheload seed --postgres postgresql://postgres@127.0.0.1:5432/postgres
              cacheload seed --origin "mysql://admin:$PW@db/ecommerce"
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
        let origin = try postgres.origin(poolSize: 1)
        do {
            let outcome = try await origin.withCatalogStore { try await $0.seed(products: products, slowSeconds: slowSeconds) }
            say("seeded: \(outcome.inserted) products inserted, \(outcome.total) in the table; slow_version() sleeps \(slowSeconds) s")
        } catch {
            throw CommandFailure("\(error)")
        }
    }
}
