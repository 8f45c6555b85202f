import ArgumentParser
import Foundation
import Logging
import MySQL
import Origins
import Postgres
import Server

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
