import ConnectionPool
import Logging
import NIOPosix

/// A PostgreSQL client: a bounded pool of libpq connections whose blocking calls run on a
/// dedicated thread pool, so no caller — and no event loop — ever waits inside libpq.
///
/// ```swift
/// let client = try PostgresClient(configuration: .init("postgresql://postgres@127.0.0.1/postgres"))
/// let rows = try await client.query("SELECT name FROM products WHERE id = \(42)")
/// await client.shutdown()
/// ```
package final class PostgresClient: Sendable {
    /// The configuration the client was created with.
    package let configuration: PostgresConfiguration
    /// The configuration new connections use: ``configuration`` with the latest credentials.
    private let credentials: RotatingCredentials<PostgresConfiguration>
    /// Connection failures are logged at an outage's start and end, not one line per query.
    private let pool: BlockingConnectionPool<PostgresConnection>

    /// Creates the client. No connection is opened until the first statement runs.
    /// - Parameter credentialsSource: asked for a user and password when a connection is refused
    ///   with SQLSTATE 28P01 (password authentication failed); the connect is then retried once.
    package init(configuration: PostgresConfiguration, logger: Logger = Logger(label: "cacheload.postgres"),
                credentialsSource: CredentialsSource? = nil) {
        self.configuration = configuration
        self.credentials = RotatingCredentials(configuration, source: credentialsSource, logger: logger,
                                               notice: "PostgreSQL refused the password; fetching the credentials again") {
            $0.credentials = ($1, $2)
        }
        self.pool = BlockingConnectionPool(size: configuration.poolSize, name: "PostgreSQL", logger: logger) { failure in
            switch failure {
            case .closed: PostgresError(.poolClosed, "the PostgreSQL client was shut down")
            case .timeout(let reason): PostgresError(.poolTimeout, reason)
            }
        }
    }

    /// Runs a statement whose interpolated values are sent as bind parameters.
    package func query(_ query: PostgresQuery) async throws -> PostgresRows {
        try await withConnection { try $0.query(query) }
    }

    /// Runs a named prepared statement with the given parameters.
    package func execute(
        _ statement: PostgresPreparedStatement,
        _ binds: any PostgresBindable...
    ) async throws -> PostgresRows {
        let texts = binds.map(\.postgresText)
        return try await withConnection { try $0.execute(statement, binds: texts) }
    }

    /// Open, in-use and waiting counts of the pool.
    package func poolStatistics() async -> (open: Int, inUse: Int, waiting: Int) {
        pool.statistics
    }

    /// Closes every connection and stops the thread pool. Call once, when done.
    package func shutdown() async {
        await pool.shutdown()
    }

    /// Opens a connection; a refused password (SQLSTATE 28P01) is fetched again and retried once.
    private func open() async throws -> PostgresConnection {
        try await credentials.open(on: pool, refused: { ($0 as? PostgresError)?.sqlState == "28P01" }) {
            try PostgresConnection(configuration: $0)
        }
    }

    private func withConnection<Result: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) throws -> Result
    ) async throws -> Result {
        try await pool.withConnection(timeout: configuration.acquireTimeout, open: open,
                                      breaks: { ($0 as? PostgresError)?.breaksConnection }, body)
    }
}
