import Logging
import NIOPosix

/// A connection whose calls block (libpq, libmariadb), run one caller at a time.
package protocol BlockingConnection: PooledConnection {
    /// Whether the connection may go back to the pool after a call.
    var isHealthy: Bool { get }
}

/// A ``ConnectionPool`` of blocking connections and the thread pool their calls run on (one
/// thread per connection), so no caller — and no event loop — ever waits inside a C client.
/// Connection failures are logged as outages (``OutageLog``), not one line per call.
package final class BlockingConnectionPool<Connection: BlockingConnection>: Sendable {
    private let pool: ConnectionPool<Connection>
    /// Started by the first call, not by `init`.
    private let threads: LazyThreadPool
    private let outage: OutageLog
    private let name: String

    /// - Parameters:
    ///   - name: the database as log lines name it ("PostgreSQL").
    ///   - failure: the client's own error for a refused caller.
    package init(size: Int, name: String, logger: Logger, failure: @escaping @Sendable (PoolFailure) -> any Error) {
        pool = ConnectionPool(size: size, failure: failure)
        threads = LazyThreadPool(numberOfThreads: size)
        outage = OutageLog(name, logger: logger)
        self.name = name
    }

    /// Runs blocking work (opening a connection) on the pool's threads.
    package func run<Result: Sendable>(_ work: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await threads.runIfActive(work)
    }

    /// Leases a connection (waiting up to `timeout`, opening one with `open` when the pool has
    /// room), runs `body` with it on a pool thread, and returns it — dropped when `breaks` says
    /// the client's error broke it (`nil`: not the client's error; the connection's health decides).
    package func withConnection<Result: Sendable>(
        timeout: Duration, open: () async throws -> Connection, breaks: (any Error) -> Bool?,
        _ body: @escaping @Sendable (Connection) throws -> Result
    ) async throws -> Result {
        let connection: Connection
        switch try await pool.lease(timeout: timeout) {
        case .connection(let leased):
            connection = leased
        case .permit:
            do {
                connection = try await open()
            } catch {
                pool.openFailed()
                outage.failed(error, "cannot open a \(name) connection")
                throw error
            }
        }
        do {
            let result = try await threads.runIfActive { try body(connection) }
            pool.release(connection, healthy: connection.isHealthy)
            outage.succeeded()
            return result
        } catch {
            let broken = breaks(error) ?? !connection.isHealthy
            if broken { outage.failed(error, "\(name) connection lost; dropping idle connections") }
            pool.release(connection, healthy: !broken && connection.isHealthy)
            throw error
        }
    }

    /// Whether the pool's threads have been started (by a first call).
    package var hasThreads: Bool { threads.isRunning }

    /// Open, in-use and waiting counts.
    package var statistics: (open: Int, inUse: Int, waiting: Int) {
        let snapshot = pool.snapshot
        return (snapshot.open, snapshot.inUse, snapshot.waiting)
    }

    /// Closes every idle connection, fails waiters, and stops the threads. Call once.
    package func shutdown() async {
        pool.close()
        await threads.shutdown()
    }
}
