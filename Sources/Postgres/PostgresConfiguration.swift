import CLibPQ
import Foundation

/// Where and how to connect: a libpq connection string plus pool settings.
///
/// The connection string may be a URL (`postgresql://user@host:5432/db?sslmode=require`) or a
/// libpq keyword string (`host=127.0.0.1 port=5432 dbname=postgres`). Anything it leaves out is
/// taken from libpq's own `PG*` environment variables, so `sslmode`, `sslrootcert` and the rest
/// pass straight through.
package struct PostgresConfiguration: Sendable, CustomStringConvertible {
    /// The connection string as given (URL or keyword form; may be empty to use `PG*` only).
    package var connectionString: String
    /// Most connections the pool keeps open.
    package var poolSize: Int
    /// How long a caller waits for a free connection before ``PostgresError/Code/poolTimeout``.
    package var acquireTimeout: Duration
    /// How long a connection attempt may take (libpq `connect_timeout`, whole seconds, at least 1).
    package var connectTimeout: Duration
    /// Server-side statement timeout; `nil` leaves the server's setting alone.
    package var statementTimeout: Duration?
    /// User and password that replace those of the connection string (fetched again after a
    /// rotation); `nil` uses the connection string's.
    package var credentials: (user: String, password: String)?

    /// Creates a configuration from a URL or keyword connection string.
    /// - Throws: ``PostgresError`` with code `invalidConfiguration` when libpq cannot parse it.
    package init(
        _ connectionString: String,
        poolSize: Int = 8,
        acquireTimeout: Duration = .seconds(5),
        connectTimeout: Duration = .seconds(5),
        statementTimeout: Duration? = nil
    ) throws {
        try Self.validate(connectionString)
        self.connectionString = connectionString
        self.poolSize = max(1, poolSize)
        self.acquireTimeout = acquireTimeout
        self.connectTimeout = connectTimeout
        self.statementTimeout = statementTimeout
    }

    /// `DATABASE_URL` if set, otherwise an empty string so that libpq reads `PGHOST`, `PGPORT`,
    /// `PGUSER`, `PGPASSWORD`, `PGDATABASE`, `PGSSLMODE`, … itself.
    package static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> PostgresConfiguration {
        try PostgresConfiguration(environment["DATABASE_URL"] ?? "")
    }

    /// The parameters libpq will use, with the password masked: safe for logs and `/health`.
    package var description: String {
        guard let options = Self.parse(connectionString).options else { return "<invalid>" }
        return options
            .filter { !$0.value.isEmpty }
            .map { $0.key == "password" ? "password=***" : "\($0.key)=\($0.value)" }
            .sorted()
            .joined(separator: " ")
    }

    /// Keyword/value pairs for `PQconnectdbParams`: our defaults first, so that anything in the
    /// connection string (expanded from `dbname`) overrides them.
    var connectParameters: [(String, String)] {
        var parameters: [(String, String)] = [
            ("connect_timeout", String(max(1, Int(connectTimeout.components.seconds)))),
            ("application_name", "cacheload"),
            ("keepalives", "1"),
            ("keepalives_idle", "10"),
        ]
        if let statementTimeout {
            let millis = Int64(statementTimeout / .milliseconds(1))
            parameters.append(("options", "-c statement_timeout=\(millis)"))
        }
        parameters.append(("dbname", connectionString))
        // After dbname: libpq lets later keywords override what the connection string expanded to.
        if let credentials {
            parameters += [("user", credentials.user), ("password", credentials.password)]
        }
        return parameters
    }

    private static func validate(_ connectionString: String) throws {
        // libpq reads an unknown scheme as a keyword string ("missing "=" after …"): name the scheme instead.
        if let schemeEnd = connectionString.range(of: "://"),
           !connectionString[..<schemeEnd.lowerBound].contains(where: { $0 == " " || $0 == "=" }) {
            let scheme = connectionString[..<schemeEnd.lowerBound].lowercased()
            guard scheme == "postgresql" || scheme == "postgres" else {
                throw PostgresError(.invalidConfiguration, "unknown scheme \"\(scheme)://\": expected postgresql://user@host:5432/db (or postgres://)")
            }
        }
        if let error = parse(connectionString).error {
            throw PostgresError(.invalidConfiguration, error)
        }
    }

    private static func parse(_ connectionString: String) -> (options: [String: String]?, error: String?) {
        if connectionString.isEmpty { return ([:], nil) }
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(connectionString, &errorMessage) else {
            let message = errorMessage.map { String(cString: $0) } ?? "cannot parse connection string"
            if let errorMessage { PQfreemem(errorMessage) }
            return (nil, message)
        }
        defer { PQconninfoFree(options) }
        var result: [String: String] = [:]
        var cursor = options
        while let keyword = cursor.pointee.keyword {
            if let value = cursor.pointee.val {
                result[String(cString: keyword)] = String(cString: value)
            }
            cursor += 1
        }
        return (result, nil)
    }
}
