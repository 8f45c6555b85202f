import Foundation

/// Where and how to connect to Redis, usually from a `redis://` URL.
///
/// `redis://[[user]:password@]host[:port][/db]` — the form redis-py, Jedis and the Redis CLI
/// accept. The password is kept out of ``description``.
public struct RedisConfiguration: Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// ACL user name (Redis 6+, ElastiCache RBAC); `nil` authenticates as `default`.
    public var user: String?
    public var password: String?
    /// Logical database selected after connecting.
    public var database: Int
    /// Connections kept open; commands are pipelined on them, so a few serve many callers.
    public var poolSize: Int
    public var connectTimeout: Duration
    /// How long a command may wait for its reply before failing with `timeout`.
    public var commandTimeout: Duration
    /// First and largest delay between reconnect attempts (doubled each failure, jittered).
    public var reconnectBackoff: (initial: Duration, maximum: Duration)

    public init(
        host: String = "127.0.0.1",
        port: Int = 6379,
        user: String? = nil,
        password: String? = nil,
        database: Int = 0,
        poolSize: Int = 4,
        connectTimeout: Duration = .seconds(1),
        commandTimeout: Duration = .seconds(1),
        reconnectBackoff: (initial: Duration, maximum: Duration) = (.milliseconds(50), .seconds(2))
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.poolSize = max(1, poolSize)
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.reconnectBackoff = reconnectBackoff
    }

    /// Parses `redis://[[user]:password@]host[:port][/db]`.
    /// - Throws: `invalidURL` with what is wrong and the expected form.
    public init(url: String, poolSize: Int = 4) throws {
        let expected = "expected redis://[[user]:password@]host[:port][/db]"
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            throw RedisError(.invalidURL, "cannot parse \"\(Self.redact(url))\"; \(expected)")
        }
        guard scheme == "redis" else {
            let hint = scheme == "rediss" ? "TLS (rediss://) is not supported yet" : "unsupported scheme \"\(scheme)\""
            throw RedisError(.invalidURL, "\(hint); \(expected)")
        }
        guard let host = components.host, !host.isEmpty else {
            throw RedisError(.invalidURL, "no host in \"\(Self.redact(url))\"; \(expected)")
        }
        var database = 0
        let path = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        if !path.isEmpty {
            guard let number = Int(path), number >= 0 else {
                throw RedisError(.invalidURL, "database \"\(path)\" is not a number; \(expected)")
            }
            database = number
        }
        let user = components.percentEncodedUser.flatMap { $0.isEmpty ? nil : $0.removingPercentEncoding }
        let password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding }
        self.init(
            host: host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")),
            port: components.port ?? 6379,
            user: user,
            password: password,
            database: database,
            poolSize: poolSize
        )
    }

    /// `REDIS_URL` if set, else `redis://127.0.0.1:6379/0`.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> RedisConfiguration {
        try RedisConfiguration(url: environment["REDIS_URL"] ?? "redis://127.0.0.1:6379/0")
    }

    /// The URL with the password masked: safe for logs and `/health`.
    public var description: String {
        var credentials = ""
        if password != nil { credentials = "\(user ?? ""):***@" } else if let user { credentials = "\(user)@" }
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "redis://\(credentials)\(shownHost):\(port)/\(database)"
    }

    private static func redact(_ url: String) -> String {
        guard let at = url.lastIndex(of: "@"), let schemeEnd = url.range(of: "://") else { return url }
        return String(url[..<schemeEnd.upperBound]) + "***" + String(url[at...])
    }
}
