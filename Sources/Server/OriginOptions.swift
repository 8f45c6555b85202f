import ArgumentParser
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

/// `--origin URL` and `--mysql URL`: which database the subcommand talks to. Without either,
/// `--postgres` (and its sources: `--config`, `DATABASE_URL`, `PG*`) decides, unless
/// `DATABASE_URL` itself is a `mysql://` URL.
package struct OriginOptions: ParsableArguments {
    package init() {}

    @Option(help: ArgumentHelp(
        "The database behind the cache, by URL: postgresql://… (as --postgres) or mysql://user:password@host:3306/db?ssl-mode=verify-identity&ssl-ca=FILE (as --mysql).",
        valueName: "url"))
    package var origin: String?

    @Option(help: ArgumentHelp(
        "MySQL or MariaDB origin: mysql://user:password@host:3306/db[?ssl-mode=disabled|preferred|required|verify-ca|verify-identity&ssl-ca=FILE]; what it leaves out from the [client] section of an option file (&defaults-file=FILE, else ~/.my.cnf), then MYSQL_HOST, MYSQL_TCP_PORT, MYSQL_PWD, USER. TLS is verified by default for any host that is not loopback.",
        valueName: "url"))
    package var mysql: String?

    package func validate() throws {
        if origin != nil, mysql != nil { throw ValidationError("--origin and --mysql both name the origin: give one") }
        if let origin, !origin.hasPrefix("mysql://"), !origin.hasPrefix("postgres://"), !origin.hasPrefix("postgresql://") {
            throw ValidationError("--origin \"\(origin)\": expected a postgresql:// or mysql:// URL")
        }
        _ = try mysqlConfiguration(poolSize: 1, postgresNamed: true)  // the flags only; the group checks the environment
    }

    /// The MySQL origin the flags name — or a `mysql://` `DATABASE_URL`, unless a flag or file
    /// (`postgresNamed`: `--postgres`, `--config`) names PostgreSQL, since flags beat the
    /// environment; `nil` for PostgreSQL.
    package func mysqlConfiguration(poolSize: Int, postgresNamed: Bool) throws -> MySQLConfiguration? {
        let environment = ProcessInfo.processInfo.environment
        let databaseURL = environment["DATABASE_URL"].flatMap { $0.hasPrefix("mysql://") ? $0 : nil }
        let fromEnvironment = origin == nil && !postgresNamed ? databaseURL : nil
        guard let url = mysql ?? origin.flatMap({ $0.hasPrefix("mysql://") ? $0 : nil }) ?? fromEnvironment else {
            return nil
        }
        do {
            return try MySQLConfiguration(url: url, poolSize: poolSize)
        } catch {
            throw ValidationError("--\(mysql != nil ? "mysql" : origin != nil ? "origin" : "mysql (DATABASE_URL)"): \(error)")
        }
    }

    /// The PostgreSQL URL `--origin` gives, to be resolved as `--postgres` is.
    package var postgresURL: String? {
        origin.flatMap { $0.hasPrefix("mysql://") ? nil : $0 }
    }

    /// The origin: MySQL when named, else PostgreSQL resolved by `postgres` (given `--origin`'s URL).
    /// - Parameter postgresNamed: whether `--postgres` or `--config` names PostgreSQL.
    package func resolve(poolSize: Int, postgresNamed: Bool,
                         postgres: (_ flag: String?) throws -> PostgresConfiguration) throws -> OriginDatabase {
        if let mysql = try mysqlConfiguration(poolSize: poolSize, postgresNamed: postgresNamed) { return .mysql(mysql) }
        return .postgres(try postgres(postgresURL))
    }
}
