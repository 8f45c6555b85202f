import Foundation
import Logging
import MySQL
import Origins
import Postgres

/// The database behind the cache: PostgreSQL or MySQL (MariaDB, RDS MySQL).
package enum OriginDatabase: Sendable, CustomStringConvertible {
    case postgres(PostgresConfiguration)
    case mysql(MySQLConfiguration)

    package var description: String {
        switch self {
        case .postgres(let configuration): "\(configuration)"
        case .mysql(let configuration): "\(configuration)"
        }
    }

    /// This origin with no query outlasting `timeout` (the wait of the requests that share it):
    /// PostgreSQL's statement timeout when none is set, MySQL's read timeout.
    package func boundingQueries(by timeout: Duration) -> OriginDatabase {
        switch self {
        case .postgres(var configuration):
            configuration.statementTimeout = configuration.statementTimeout ?? timeout
            return .postgres(configuration)
        case .mysql(var configuration):
            configuration.readTimeout = timeout
            return .mysql(configuration)
        }
    }

    /// Runs `body` with a catalog store over a new client of this database, and closes the client
    /// afterwards, whether `body` returned or threw.
    package func withCatalogStore<Result: Sendable>(_ body: (any CatalogStore) async throws -> Result) async throws -> Result {
        let store = catalogStore()
        do {
            let result = try await body(store)
            await store.shutdown()
            return result
        } catch {
            await store.shutdown()
            throw error
        }
    }

    /// The catalog's store over a new client of this database; its `shutdown()` closes the client.
    /// - Parameter credentialsSource: asked for fresh credentials when the password is refused.
    package func catalogStore(logger: Logger = Logger(label: "cacheload.origin"),
                              credentialsSource: (@Sendable () async throws -> (user: String, password: String))? = nil) -> any CatalogStore {
        switch self {
        case .postgres(let configuration):
            PostgresCatalogStore(postgres: PostgresClient(configuration: configuration, logger: logger, credentialsSource: credentialsSource))
        case .mysql(let configuration):
            MySQLCatalogStore(mysql: MySQLClient(configuration: configuration, logger: logger, credentialsSource: credentialsSource))
        }
    }
}
