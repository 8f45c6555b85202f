import Logging
import Synchronization

/// Fetches a user and password again (a Secrets Manager secret that RDS rotates).
package typealias CredentialsSource = @Sendable () async throws -> (user: String, password: String)

/// The configuration new connections of a database client are opened with, and what happens when
/// the database refuses the password: the credentials are fetched again from the source, kept
/// for every later connection, and the open is retried once — a rotation needs no restart.
package final class RotatingCredentials<Configuration: Sendable>: Sendable {
    private let current: Mutex<Configuration>
    private let source: CredentialsSource?
    private let apply: @Sendable (inout Configuration, _ user: String, _ password: String) -> Void
    private let notice: String
    private let logger: Logger

    /// - Parameters:
    ///   - apply: puts fresh credentials into a configuration.
    ///   - notice: the log line when the password was refused and the credentials are fetched again.
    package init(_ configuration: Configuration, source: CredentialsSource?, logger: Logger, notice: String,
                 apply: @escaping @Sendable (inout Configuration, _ user: String, _ password: String) -> Void) {
        current = Mutex(configuration)
        self.source = source
        self.apply = apply
        self.notice = notice
        self.logger = logger
    }

    /// Opens a connection on `pool`'s threads with the current configuration; when `refused`
    /// says the password was refused and a source is set, fetches the credentials and retries once.
    package func open<Connection: BlockingConnection>(
        on pool: BlockingConnectionPool<Connection>, refused: (any Error) -> Bool,
        _ connect: @escaping @Sendable (Configuration) throws -> Connection
    ) async throws -> Connection {
        let configuration = current.withLock { $0 }
        do {
            return try await pool.run { try connect(configuration) }
        } catch where refused(error) {
            guard let source else { throw error }
            logger.notice("\(notice)")
            let fresh = try await source()
            let updated = current.withLock { configuration in
                apply(&configuration, fresh.user, fresh.password)
                return configuration
            }
            return try await pool.run { try connect(updated) }
        }
    }
}
