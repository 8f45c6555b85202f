import ConnectionPool
import Logging

/// A MySQL client: a bounded pool of libmariadb connections whose blocking calls run on a
/// thread pool of the pool's size, so no caller — and no event loop — waits inside libmariadb.
///
/// ```swift
/// let client = MySQLClient(configuration: try MySQLConfiguration(url: "mysql://app:pw@db:3306/ecommerce"))
/// let rows = try await client.execute("SELECT name FROM products WHERE id = ?", 42)
/// await client.shutdown()
/// ```
///
/// Why threads and not libmariadb's non-blocking `…_start`/`…_cont` calls: see
/// docs/ARCHITECTURE.md (the miss path is one round trip per query either way; the thread pool
/// is the PostgreSQL client's design, proven, and keeps one model for both origins).
package final class MySQLClient: Sendable {
    package let configuration: MySQLConfiguration
    /// The configuration new connections use: ``configuration`` with the latest credentials.
    private let credentials: RotatingCredentials<MySQLConfiguration>
    private let pool: BlockingConnectionPool<MySQLConnection>

    /// Creates the client. No connection is opened until the first statement runs.
    package init(configuration: MySQLConfiguration, logger: Logger = Logger(label: "cacheload.mysql"),
                 credentialsSource: CredentialsSource? = nil) {
        self.configuration = configuration
        self.credentials = RotatingCredentials(configuration, source: credentialsSource, logger: logger,
                                               notice: "MySQL denied access; fetching the credentials again") {
            $0.user = $1
            $0.password = $2
        }
        self.pool = BlockingConnectionPool(size: configuration.poolSize, name: "MySQL", logger: logger) { failure in
            switch failure {
            case .closed: MySQLError(.poolClosed, "the MySQL client was shut down")
            case .timeout(let reason): MySQLError(.poolTimeout, reason)
            }
        }
    }

    /// Runs a prepared statement with `values` bound to its `?` placeholders.
    package func execute(_ sql: String, _ values: any MySQLBindable...) async throws -> MySQLResult {
        try await execute(sql, values)
    }

    /// Runs a prepared statement with `values` (as many as it has placeholders).
    package func execute(_ sql: String, _ values: [any MySQLBindable]) async throws -> MySQLResult {
        let bound = values.map(\.mysqlValue)
        return try await withConnection { try $0.execute(sql, bound) }
    }

    /// Runs SQL without parameters through the text protocol: DDL, which MySQL cannot prepare.
    package func run(_ sql: String) async throws -> MySQLResult {
        try await withConnection { try $0.run(sql) }
    }

    /// Runs several statements on one connection (a write and the read of what it wrote).
    package func withSession<Result: Sendable>(_ body: @escaping @Sendable (MySQLSession) throws -> Result) async throws -> Result {
        try await withConnection { try body(MySQLSession(connection: $0)) }
    }

    /// Open, in-use and waiting counts of the pool.
    package func poolStatistics() -> (open: Int, inUse: Int, waiting: Int) {
        pool.statistics
    }

    /// Closes every connection and stops the thread pool. Call once, when done.
    package func shutdown() async {
        await pool.shutdown()
    }

    /// Opens a connection; denied access (error 1045) fetches the credentials again and retries once.
    private func open() async throws -> MySQLConnection {
        try await credentials.open(on: pool, refused: { ($0 as? MySQLError)?.isAccessDenied == true }) {
            try MySQLConnection(configuration: $0)
        }
    }

    private func withConnection<Result: Sendable>(_ body: @escaping @Sendable (MySQLConnection) throws -> Result) async throws -> Result {
        try await pool.withConnection(timeout: configuration.acquireTimeout, open: open,
                                      breaks: { ($0 as? MySQLError)?.breaksConnection }, body)
    }
}

/// One connection for several statements in a row (``MySQLClient/withSession(_:)``).
package struct MySQLSession {
    fileprivate let connection: MySQLConnection

    package func execute(_ sql: String, _ values: any MySQLBindable...) throws -> MySQLResult {
        try connection.execute(sql, values.map(\.mysqlValue))
    }
}
