import Foundation

/// Where and how to connect to Redis, usually from a `redis://` or `rediss://` URL.
///
/// `redis[s]://[[user]:password@]host[:port][/db][?ssl_ca_certs=FILE&ssl_cert_reqs=required|none]`
/// — the form redis-py, Jedis and the Redis CLI accept (`rediss` is TLS, as ElastiCache with
/// transit encryption needs). The password is kept out of ``description``.
package struct RedisConfiguration: Sendable {
    /// TLS settings of a `rediss://` connection.
    package struct TLS: Sendable, Equatable {
        /// PEM file of the CA certificates to trust; `nil` trusts the system's store.
        package var caCertificatesFile: String?
        /// Check the server's certificate chain and name (`ssl_cert_reqs=none` turns it off,
        /// for self-signed test servers only).
        package var verifyCertificate: Bool

        package init(caCertificatesFile: String? = nil, verifyCertificate: Bool = true) {
            self.caCertificatesFile = caCertificatesFile
            self.verifyCertificate = verifyCertificate
        }
    }

    package var host: String
    package var port: Int
    /// ACL user name (Redis 6+, ElastiCache RBAC); `nil` authenticates as `default`.
    package var user: String?
    package var password: String?
    /// Logical database selected after connecting.
    package var database: Int
    /// Connections kept open; commands are pipelined on them, so a few serve many callers.
    package var poolSize: Int
    package var connectTimeout: Duration
    /// How long a command may wait for its reply before failing with `timeout`.
    package var commandTimeout: Duration
    /// First and largest delay between reconnect attempts (doubled each failure, jittered).
    package var reconnectBackoff: (initial: Duration, maximum: Duration)
    /// TLS, or `nil` for plain TCP.
    package var tls: TLS?
    /// One node, a cluster, or whichever the server says it is (`INFO cluster`).
    package var mode: RedisMode = .auto
    /// In a cluster: whether reads (`GET`, `MGET`) go to replicas, spreading load off the primaries.
    package var readFrom: RedisReadFrom = .primary
    /// Set on the connections of a replica pool: `READONLY` after connecting.
    var readsFromReplica = false

    package init(
        host: String = "127.0.0.1",
        port: Int = 6379,
        user: String? = nil,
        password: String? = nil,
        database: Int = 0,
        poolSize: Int = 4,
        connectTimeout: Duration = .seconds(1),
        commandTimeout: Duration = .seconds(1),
        reconnectBackoff: (initial: Duration, maximum: Duration) = (.milliseconds(50), .seconds(2)),
        tls: TLS? = nil
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
        self.tls = tls
    }

    /// Parses `redis[s]://[[user]:password@]host[:port][/db][?ssl_ca_certs=FILE&ssl_cert_reqs=…]`.
    /// - Throws: `invalidURL` with what is wrong and the expected form.
    package init(url: String, poolSize: Int = 4) throws {
        let expected = "expected redis://[[user]:password@]host[:port][/db] or rediss://… for TLS"
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            throw RedisError(.invalidURL, "cannot parse \"\(Self.redact(url))\"; \(expected)")
        }
        guard scheme == "redis" || scheme == "rediss" else {
            throw RedisError(.invalidURL, "unsupported scheme \"\(scheme)\"; \(expected)")
        }
        var tls: TLS? = scheme == "rediss" ? TLS() : nil
        for item in components.queryItems ?? [] {
            switch (item.name, item.value ?? "") {
            case ("ssl_ca_certs", let file) where tls != nil && !file.isEmpty:
                tls?.caCertificatesFile = file
            case ("ssl_cert_reqs", "required") where tls != nil:
                tls?.verifyCertificate = true
            case ("ssl_cert_reqs", "none") where tls != nil:
                tls?.verifyCertificate = false
            case ("ssl_ca_certs", _), ("ssl_cert_reqs", _):
                throw RedisError(.invalidURL, tls == nil
                    ? "\(item.name) needs a rediss:// URL; \(expected)"
                    : "\(item.name)=\(item.value ?? ""): expected ssl_ca_certs=FILE or ssl_cert_reqs=required|none; \(expected)")
            default:
                throw RedisError(.invalidURL, "unknown parameter \"\(item.name)\" (known: ssl_ca_certs, ssl_cert_reqs); \(expected)")
            }
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
            poolSize: poolSize,
            tls: tls
        )
    }

    /// The same settings (credentials, TLS, timeouts) for another node of a cluster.
    func forNode(_ node: ClusterNode, replica: Bool = false) -> RedisConfiguration {
        var configuration = self
        configuration.host = node.host
        configuration.port = node.port
        configuration.readsFromReplica = replica
        return configuration
    }
}

/// Whether `--redis` names one node or a cluster.
package enum RedisMode: String, Sendable, CaseIterable {
    /// Ask the node (`INFO cluster` → `cluster_enabled`) on first use.
    case auto
    /// One node (or a replication group's primary endpoint); no redirections are followed.
    case standalone
    /// Redis Cluster (ElastiCache cluster mode, Serverless): keys are routed by hash slot.
    case cluster
}

/// Where a cluster client sends reads.
package enum RedisReadFrom: String, Sendable, CaseIterable {
    /// Every command to the slot's primary: reads see every write at once.
    case primary
    /// `GET`/`MGET` to the slot's replicas (round robin; the primary when it has none): more
    /// read capacity, at the price of replication lag.
    case replica
}

extension RedisConfiguration {
    /// `REDIS_URL` if set, else `redis://127.0.0.1:6379/0`.
    package static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> RedisConfiguration {
        try RedisConfiguration(url: environment["REDIS_URL"] ?? "redis://127.0.0.1:6379/0")
    }
}

extension RedisConfiguration: CustomStringConvertible {
    /// The URL with the password masked: safe for logs and `/health`.
    package var description: String {
        var credentials = ""
        if password != nil { credentials = "\(user ?? ""):***@" } else if let user { credentials = "\(user)@" }
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "\(tls == nil ? "redis" : "rediss")://\(credentials)\(shownHost):\(port)/\(database)"
    }

    private static func redact(_ url: String) -> String {
        guard let at = url.lastIndex(of: "@"), let schemeEnd = url.range(of: "://") else { return url }
        return String(url[..<schemeEnd.upperBound]) + "***" + String(url[at...])
    }

    /// Checks what can be checked before the first connect — for `rediss://`, that the CA file
    /// exists, is readable and holds certificates — so a configuration mistake stops start-up
    /// with one line naming the file instead of surfacing later as a degraded cache.
    /// - Throws: ``RedisError`` saying what is wrong.
    package func check() throws {
        if let tls { _ = try RedisTLSContext(tls).context() }
    }
}
