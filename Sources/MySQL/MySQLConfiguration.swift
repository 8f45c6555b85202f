import Foundation

/// Where and how to reach a MySQL server (MySQL 5.7/8.0, MariaDB, RDS MySQL).
///
/// From a URL — `mysql://user:password@host:3306/database?ssl-mode=verify-identity&ssl-ca=FILE` —
/// with what it leaves out taken, as the `mysql` client takes it, from the `[client]` section of
/// the option file (`defaults-file=PATH` in the URL, otherwise `~/.my.cnf` when there is one:
/// `host`, `port`, `user`, `password`, `database`, `ssl-mode`, `ssl-ca`, `connect-timeout`), then
/// from the environment (`MYSQL_HOST`, `MYSQL_TCP_PORT`, `MYSQL_PWD`, `USER`), then the defaults
/// (127.0.0.1:3306).
package struct MySQLConfiguration: Sendable, CustomStringConvertible, Equatable {
    /// How TLS is used, as MySQL's `--ssl-mode` names it.
    package enum SSLMode: String, Sendable, CaseIterable {
        /// No TLS.
        case disabled
        /// TLS when the server offers it, unverified (the default for a loopback host).
        case preferred
        /// TLS or no connection, the certificate unverified.
        case required
        /// TLS with the certificate verified against the CA bundle. libmariadb verifies the host
        /// name whenever it verifies the certificate, so this is `verify-identity`'s check.
        case verifyCA = "verify-ca"
        /// TLS with the certificate and the host name verified (the default for any host that
        /// is not loopback: RDS with its CA bundle).
        case verifyIdentity = "verify-identity"
    }

    package var host: String
    package var port: Int
    package var user: String
    package var password: String?
    package var database: String
    package var sslMode: SSLMode
    /// CA bundle (PEM) the server's certificate must chain to; `nil`: the system's trust store.
    package var sslCA: String?
    package var connectTimeout: Duration = .seconds(10)
    /// How long a statement's answer may take before the connection is dropped (the origin timeout).
    package var readTimeout: Duration = .seconds(30)
    package var writeTimeout: Duration = .seconds(30)
    package var poolSize: Int
    /// How long a caller waits for a free connection.
    package var acquireTimeout: Duration = .seconds(5)

    /// - Parameter environment: where the `MYSQL_*` defaults and `HOME` (for `~/.my.cnf`) come from.
    /// - Throws: `MySQLError(.configuration)` naming what is wrong; the password never appears.
    package init(url: String, poolSize: Int = 8, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard url.hasPrefix("mysql://"), let components = URLComponents(string: url) else {
            throw MySQLError(.configuration, "\"\(Self.redacted(url))\": expected mysql://user:password@host:3306/database")
        }
        let items = components.queryItems ?? []
        let file = try MySQLOptionFile.resolve(named: items.last { $0.name == "defaults-file" }?.value, environment: environment)
        func setting(_ key: String, _ variable: String?) -> String? {
            file?[key] ?? variable.flatMap { environment[$0] }
        }
        host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? setting("host", "MYSQL_HOST") ?? "127.0.0.1"
        if let port = components.port {
            self.port = port
        } else if let text = setting("port", "MYSQL_TCP_PORT") {
            guard let port = Int(text) else { throw MySQLError(.configuration, "port \"\(text)\" (option file or MYSQL_TCP_PORT) is not a port number") }
            self.port = port
        } else {
            port = 3306
        }
        guard (1...65535).contains(port) else { throw MySQLError(.configuration, "port \(port) is out of range") }
        user = components.percentEncodedUser.flatMap { $0.removingPercentEncoding } ?? setting("user", "USER") ?? "root"
        password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding } ?? setting("password", "MYSQL_PWD")
        database = components.path.isEmpty || components.path == "/" ? setting("database", nil) ?? "" : String(components.path.dropFirst())
        guard !database.isEmpty, !database.contains("/") else {
            throw MySQLError(.configuration, "\"\(Self.redacted(url))\": name the database, e.g. mysql://user@host:3306/ecommerce")
        }
        self.poolSize = poolSize
        sslMode = Self.isLoopback(host) ? .preferred : .verifyIdentity
        // The option file's TLS settings first, so that the URL's win.
        let fileOptions = ["ssl-mode", "ssl-ca", "connect-timeout"].compactMap { key in file?[key].map { URLQueryItem(name: key, value: $0) } }
        for item in fileOptions + items where item.name != "defaults-file" {
            try apply(item.name, item.value ?? "")
        }
        // As the mysql client: a CA given without a mode means "verify against it".
        if sslCA != nil, !(fileOptions + items).contains(where: { ["ssl-mode", "sslmode", "ssl_mode"].contains($0.name) }), sslMode == .preferred {
            sslMode = .verifyCA
        }
    }

    /// Sets one query option of the URL (`ssl-mode`, `ssl-ca`, `connect-timeout`).
    private mutating func apply(_ name: String, _ value: String) throws {
        switch name {
        case "ssl-mode", "sslmode", "ssl_mode":
            guard let mode = SSLMode(rawValue: value.lowercased().replacingOccurrences(of: "_", with: "-")) else {
                throw MySQLError(.configuration, "ssl-mode \"\(value)\": expected \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            sslMode = mode
        case "ssl-ca", "ssl_ca", "sslca":
            sslCA = value
        case "connect-timeout", "connect_timeout":
            guard let seconds = Int(value), seconds > 0 else { throw MySQLError(.configuration, "connect-timeout \"\(value)\": expected whole seconds") }
            connectTimeout = .seconds(seconds)
        default:
            throw MySQLError(.configuration, "unknown URL option \"\(name)\": expected ssl-mode, ssl-ca, connect-timeout or defaults-file")
        }
    }

    /// Whether the server is this machine (TLS then defaults to `preferred`, not verified).
    package static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// The URL without its password, for logs and errors.
    package var description: String {
        "mysql://\(user)\(password == nil ? "" : ":***")@\(host):\(port)/\(database)?ssl-mode=\(sslMode.rawValue)"
    }

    private static func redacted(_ url: String) -> String {
        url.replacing(/:[^:@\/]*@/, with: ":***@")
    }
}
