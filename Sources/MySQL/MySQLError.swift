/// A MySQL failure: the server's or the client library's error number and SQLSTATE, or a pool
/// or configuration problem. Messages come from libmariadb and never carry the password.
package struct MySQLError: Error, CustomStringConvertible, Sendable {
    package enum Kind: Sendable, Equatable {
        /// A bad URL, option or file: fix the configuration.
        case configuration
        /// Connecting failed (refused, TLS, access denied: see ``number``).
        case connect
        /// A statement failed; ``number`` and ``sqlState`` say why.
        case statement
        /// No connection became free in time.
        case poolTimeout
        /// The client was shut down.
        case poolClosed
        /// A column held something the caller could not read.
        case decoding
    }

    package let kind: Kind
    /// MySQL's error number (1045 access denied, 1146 no such table, 2013 lost connection, …).
    package let number: Int?
    /// The five-character SQLSTATE, when the server or library gave one.
    package let sqlState: String?
    package let message: String

    package init(_ kind: Kind, number: Int? = nil, sqlState: String? = nil, _ message: String) {
        self.kind = kind
        self.number = number
        self.sqlState = sqlState.flatMap { $0.isEmpty || $0 == "00000" ? nil : $0 }
        self.message = message
    }

    package var description: String {
        let code = [number.map(String.init), sqlState.map { "(\($0))" }].compactMap { $0 }.joined(separator: " ")
        let prefix = switch kind {
        case .configuration: "MySQL configuration"
        case .connect: "cannot connect to MySQL"
        case .statement: "MySQL"
        case .poolTimeout: "MySQL pool timeout"
        case .poolClosed: "MySQL pool closed"
        case .decoding: "MySQL decoding"
        }
        let text = code.isEmpty ? "\(prefix): \(message)" : "\(prefix) error \(code): \(message)"
        return number == 2026 ? text + Self.tlsAdvice : text
    }

    /// What to check when TLS fails (2026): libmariadb says only that validation failed.
    private static let tlsAdvice = " (check that ssl-ca is the CA bundle that signed the server's certificate — on RDS, the "
        + "region's bundle — and that the URL's host is a name on that certificate; ssl-mode=required skips both checks)"

    /// Access denied: the password may have been rotated (read the secret again).
    package var isAccessDenied: Bool { number == 1045 }

    /// Whether the connection cannot be used after this error: the client library's own errors
    /// (2000–2999: gone, lost, timed out) and the server killing or shutting down the connection.
    /// A statement error (no such table, a killed *query*) leaves the connection usable.
    package var breaksConnection: Bool {
        guard kind == .statement || kind == .connect, let number else { return kind == .connect }
        return (2000..<3000).contains(number) || [1053, 1077, 1927, 4031].contains(number)
    }
}
