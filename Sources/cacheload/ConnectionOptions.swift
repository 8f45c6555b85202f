import ArgumentParser
import Foundation
import Postgres
import Redis
import Server

/// `--redis`, `--postgres` and `--config`, shared by every subcommand that talks to the stores.
///
/// Precedence: the flag, then the `--config` INI file, then the environment (`REDIS_URL`,
/// `DATABASE_URL`, libpq's `PG*`), then the local default.
struct ConnectionOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Redis URL: redis://[[user]:password@]host[:port][/db], or rediss://… for TLS (?ssl_ca_certs=FILE).", valueName: "url"))
    var redis: String?

    @Option(help: ArgumentHelp("PostgreSQL URL (postgresql://user@host:5432/db?sslmode=require) or libpq keyword string.", valueName: "url"))
    var postgres: String?

    @Option(help: ArgumentHelp("The reference labs' INI file with [postgresql] and [redis] redis_url sections.", valueName: "file"))
    var config: String?

    static let defaultRedis = "redis://127.0.0.1:6379/0"
    static let defaultPostgres = "postgresql://postgres@127.0.0.1:5432/postgres"

    private func ini() throws -> DatabaseINI? {
        guard let config else { return nil }
        let text: String
        do {
            text = try String(contentsOfFile: config, encoding: .utf8)
        } catch {
            throw ValidationError("cannot read --config \(config): \(error.localizedDescription)")
        }
        do {
            return try DatabaseINI(text: text)
        } catch {
            throw ValidationError("--config \(config): \(error)")
        }
    }

    func redisConfiguration(poolSize: Int = 4) throws -> RedisConfiguration {
        let environment = ProcessInfo.processInfo.environment
        let url = try redis ?? ini()?.redisURL ?? environment["REDIS_URL"] ?? Self.defaultRedis
        let configuration: RedisConfiguration
        do {
            configuration = try RedisConfiguration(url: url, poolSize: poolSize)
        } catch {
            throw ValidationError("\(error)")
        }
        // Not a usage error (no usage text after it): the URL is right, the file it names is not.
        try configuration.check()
        return configuration
    }

    func postgresConfiguration(poolSize: Int = 8) throws -> PostgresConfiguration {
        let environment = ProcessInfo.processInfo.environment
        let usesPGVariables = environment.keys.contains { $0.hasPrefix("PG") && $0 != "PGDATA" }
        let connection = try postgres ?? ini()?.postgresConnectionString ?? environment["DATABASE_URL"]
            ?? (usesPGVariables ? "" : Self.defaultPostgres)
        do {
            return try PostgresConfiguration(connection, poolSize: poolSize)
        } catch {
            throw ValidationError("\(error)")
        }
    }
}

/// `--log-level`, shared by the long-running subcommands.
struct LoggingOptions: ParsableArguments {
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"
}

/// Prints a line and flushes at once: stdout is block-buffered when piped, and progress that
/// arrives at the end is no progress.
func say(_ line: String) {
    print(line)
    fflush(nil)
}
