import ArgumentParser
import Server
import Foundation
import Logging
import Postgres
import Redis

// The command-line options every subcommand that connects to the stores shares, and where their
// settings come from. Here, beside ServerConfiguration and the INI reader, because resolving a
// connection (flag, file, environment, default) is the server's concern, not the executable's.

/// `--redis`, `--postgres` and `--config`, for the subcommands that talk to both stores.
///
/// Precedence: the flag, then the `--config` INI file, then the environment (`REDIS_URL`,
/// `DATABASE_URL`, libpq's `PG*`), then the local default.
package struct ConnectionOptions: ParsableArguments {
    package init() {}

    @Option(help: RedisOptions.help)
    package var redis: String?

    @Option(help: PostgresOptions.help)
    package var postgres: String?

    @OptionGroup package var originChoice: OriginOptions

    @Option(help: configHelp)
    package var config: String?

    @OptionGroup package var topology: RedisTopologyOptions

    @OptionGroup package var misspelled: MisspelledConnectionOptions

    /// Resolves both connections while parsing, so a bad URL or `--config` file is a usage
    /// error whose usage line names the subcommand (resolved in `run()`, it would name none).
    package func validate() throws {
        _ = try redisConfiguration()
        _ = try origin()
    }

    package func redisConfiguration(poolSize: Int = 4) throws -> RedisConfiguration {
        try topology.applied(to: ConnectionSources(config: config).redis(flag: redis, poolSize: poolSize))
    }

    package func postgresConfiguration(poolSize: Int = 8) throws -> PostgresConfiguration {
        try ConnectionSources(config: config).postgres(flag: originChoice.postgresURL ?? postgres, poolSize: poolSize)
    }

    /// The database behind the cache: MySQL when `--mysql`/`--origin mysql://…` names it, else PostgreSQL.
    package func origin(poolSize: Int = 8) throws -> OriginDatabase {
        try originChoice.resolve(poolSize: poolSize, postgresNamed: postgres != nil || config != nil) { flag in
            try ConnectionSources(config: config).postgres(flag: flag ?? postgres, poolSize: poolSize)
        }
    }
}

/// `--redis` and `--config`, for the subcommands that talk to Redis alone.
package struct RedisOptions: ParsableArguments {
    package init() {}

    package static let help = ArgumentHelp(
        "Redis URL: redis://[[user]:password@]host[:port][/db], or rediss://… for TLS (?ssl_ca_certs=FILE). Default: REDIS_URL, else redis://127.0.0.1:6379/0.",
        valueName: "url")

    @Option(help: help)
    package var redis: String?

    @Option(help: configHelp)
    package var config: String?

    @OptionGroup package var topology: RedisTopologyOptions

    @OptionGroup package var misspelled: MisspelledConnectionOptions

    /// Resolves the connection while parsing (see ``ConnectionOptions/validate()``).
    package func validate() throws {
        _ = try configuration()
    }

    package func configuration(poolSize: Int = 4) throws -> RedisConfiguration {
        try topology.applied(to: ConnectionSources(config: config).redis(flag: redis, poolSize: poolSize))
    }
}

/// `--redis-mode` and `--redis-read-from`: one node or a cluster, and where cluster reads go.
package struct RedisTopologyOptions: ParsableArguments {
    package init() {}

    @Option(help: ArgumentHelp(
        "auto (ask the node: INFO cluster), standalone, or cluster (Redis Cluster, ElastiCache cluster mode or Serverless: keys routed by hash slot, MOVED/ASK followed).",
        valueName: "mode"))
    package var redisMode: String = "auto"

    @Option(help: ArgumentHelp(
        "In a cluster: primary (every command to the slot's primary) or replica (GETs to its replicas: more read capacity, replication lag).",
        valueName: "where"))
    package var redisReadFrom: String = "primary"

    package func validate() throws {
        guard RedisMode(rawValue: redisMode) != nil else {
            throw ValidationError("--redis-mode \"\(redisMode)\": expected auto, standalone or cluster")
        }
        guard RedisReadFrom(rawValue: redisReadFrom) != nil else {
            throw ValidationError("--redis-read-from \"\(redisReadFrom)\": expected primary or replica")
        }
    }

    package func applied(to configuration: RedisConfiguration) throws -> RedisConfiguration {
        var configuration = configuration
        configuration.mode = RedisMode(rawValue: redisMode) ?? .auto
        configuration.readFrom = RedisReadFrom(rawValue: redisReadFrom) ?? .primary
        if configuration.mode == .cluster, configuration.database != 0 {
            throw ValidationError("--redis-mode cluster: Redis Cluster has only database 0; drop /\(configuration.database) from the URL")
        }
        return configuration
    }
}

/// `--postgres` and `--config`, for the subcommands that talk to PostgreSQL alone.
package struct PostgresOptions: ParsableArguments {
    package init() {}

    package static let help = ArgumentHelp(
        "PostgreSQL URL (postgresql://user@host:5432/db?sslmode=require) or libpq keyword string. Default: DATABASE_URL or PG* variables, else postgresql://postgres@127.0.0.1:5432/postgres.",
        valueName: "url")

    @Option(help: help)
    package var postgres: String?

    @OptionGroup package var originChoice: OriginOptions

    @Option(help: configHelp)
    package var config: String?

    @OptionGroup package var misspelled: MisspelledConnectionOptions

    /// Resolves the connection while parsing (see ``ConnectionOptions/validate()``).
    package func validate() throws {
        _ = try origin()
    }

    package func configuration(poolSize: Int = 8) throws -> PostgresConfiguration {
        try ConnectionSources(config: config).postgres(flag: originChoice.postgresURL ?? postgres, poolSize: poolSize)
    }

    /// The database: MySQL when `--mysql`/`--origin mysql://…` names it, else PostgreSQL.
    package func origin(poolSize: Int = 8) throws -> OriginDatabase {
        try originChoice.resolve(poolSize: poolSize, postgresNamed: postgres != nil || config != nil) { flag in
            try ConnectionSources(config: config).postgres(flag: flag ?? postgres, poolSize: poolSize)
        }
    }
}

/// The names other tools give these options, hidden: given one, the error names ours
/// (ArgumentParser's own suggestion goes by spelling: `--redis-url` would get `--redis-pool`).
package struct MisspelledConnectionOptions: ParsableArguments {
    package init() {}

    @Option(name: .customLong("redis-url"), help: .hidden) var redisURL: String?
    @Option(name: .customLong("database-url"), help: .hidden) var databaseURL: String?
    @Option(name: .customLong("postgres-url"), help: .hidden) var postgresURL: String?

    package func validate() throws {
        if redisURL != nil { throw ValidationError("unknown option --redis-url: the Redis URL is given with --redis URL (or REDIS_URL)") }
        if databaseURL != nil || postgresURL != nil {
            throw ValidationError("unknown option --\(databaseURL != nil ? "database-url" : "postgres-url"): the PostgreSQL URL is given with --postgres URL (or DATABASE_URL)")
        }
    }
}

private let configHelp = ArgumentHelp("The reference labs' INI file with [postgresql] and [redis] redis_url sections.", valueName: "file")

/// Where connection settings come from, in order: flag, INI file, environment, local default.
private struct ConnectionSources {
    let config: String?

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

    func redis(flag: String?, poolSize: Int) throws -> RedisConfiguration {
        let url = try flag ?? ini()?.redisURL ?? ProcessInfo.processInfo.environment["REDIS_URL"] ?? Self.defaultRedis
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

    func postgres(flag: String?, poolSize: Int) throws -> PostgresConfiguration {
        let environment = ProcessInfo.processInfo.environment
        let usesPGVariables = environment.keys.contains { $0.hasPrefix("PG") && $0 != "PGDATA" }
        // A mysql:// DATABASE_URL names the MySQL origin (OriginOptions), not PostgreSQL's.
        let databaseURL = environment["DATABASE_URL"].flatMap { $0.hasPrefix("mysql://") ? nil : $0 }
        let connection = try flag ?? ini()?.postgresConnectionString ?? databaseURL
            ?? (usesPGVariables ? "" : Self.defaultPostgres)
        do {
            return try PostgresConfiguration(connection, poolSize: poolSize)
        } catch {
            throw ValidationError("\(error)")
        }
    }
}

/// `--log-level`, shared by the long-running subcommands.
package struct LoggingOptions: ParsableArguments {
    package init() {}

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    package var logLevel: String = "info"

    package func validate() throws {
        guard Logger.Level(rawValue: logLevel.lowercased()) != nil else {
            throw ValidationError("--log-level \"\(logLevel)\": expected trace, debug, info, notice, warning, error or critical")
        }
    }

    /// Sends the process's logs to standard error at the chosen level (once per process).
    package func bootstrap() {
        let level = Logger.Level(rawValue: logLevel.lowercased()) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = LineLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
