import Foundation

/// An error from the PostgreSQL client: what went wrong, what the server said, and what to do.
///
/// Server errors carry the five-character SQLSTATE (`23505` unique violation, `42601` syntax
/// error, `57P01` admin shutdown, …) so callers can react to the class of failure rather than to
/// message text. The description never contains the connection password.
package struct PostgresError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure. New kinds may be added; switch with a `default`.
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Base: Hashable, Sendable {
            case invalidConfiguration, connectionFailed, connectionLost, server
            case poolTimeout, poolClosed, decoding
        }
        let base: Base
        /// The connection string could not be parsed.
        package static let invalidConfiguration = Code(base: .invalidConfiguration)
        /// The server could not be reached or refused the login.
        package static let connectionFailed = Code(base: .connectionFailed)
        /// The connection broke while a query was in flight.
        package static let connectionLost = Code(base: .connectionLost)
        /// The server rejected the statement; see ``PostgresError/sqlState``.
        package static let server = Code(base: .server)
        /// No pooled connection became free within the acquire timeout.
        package static let poolTimeout = Code(base: .poolTimeout)
        /// The client was shut down.
        package static let poolClosed = Code(base: .poolClosed)
        /// A column value could not be converted to the requested Swift type.
        package static let decoding = Code(base: .decoding)

        package var description: String {
            switch base {
            case .invalidConfiguration: "invalid configuration"
            case .connectionFailed: "connection failed"
            case .connectionLost: "connection lost"
            case .server: "server error"
            case .poolTimeout: "pool timeout"
            case .poolClosed: "pool closed"
            case .decoding: "decoding error"
            }
        }
    }

    /// The kind of failure.
    package let code: Code
    /// The server's or libpq's message, trimmed.
    package let message: String
    /// The SQLSTATE of a server error, such as `23505`.
    package let sqlState: String?

    package init(_ code: Code, _ message: String, sqlState: String? = nil) {
        self.code = code
        self.message = message.trimmingCharacters(in: .whitespacesAndNewlines)
        self.sqlState = sqlState
    }

    /// Whether the connection that produced this error must be discarded.
    var breaksConnection: Bool {
        code == .connectionLost || code == .connectionFailed
    }

    package var description: String {
        var text = "PostgreSQL \(code)"
        if let sqlState { text += " [\(sqlState)]" }
        text += ": \(message)"
        switch code.base {
        case .connectionFailed:
            text += " (check that PostgreSQL is running and the URL, DATABASE_URL or PG* variables are right)"
        case .poolTimeout:
            text += " (all connections are busy: raise the pool size or the acquire timeout)"
        default:
            break
        }
        return text
    }
}
