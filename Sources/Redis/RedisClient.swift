import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A Redis client: a few pipelined connections shared by any number of concurrent callers.
///
/// Commands never block a thread: they are written on NIO channels and awaited. A thousand
/// concurrent `get`s need no more connections than ``RedisConfiguration/poolSize``, because each
/// connection carries many commands in flight and matches replies in order.
///
/// ```swift
/// let redis = RedisClient(configuration: try .init(url: "redis://127.0.0.1:6379/0"))
/// try await redis.set("product:1", Array("{}".utf8), expireSeconds: 60)
/// let value = try await redis.get("product:1")
/// await redis.shutdown()
/// ```
package final class RedisClient: Sendable {
    /// The configuration the client was created with.
    package let configuration: RedisConfiguration
    private let slots: [RedisConnectionSlot]
    private let nextSlot = NIOLockedValueBox(0)

    /// Creates the client; connections open on first use and reopen by themselves after a drop.
    package init(
        configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        let tlsContext = configuration.tls.map(RedisTLSContext.init)
        self.slots = (0..<configuration.poolSize).map { _ in
            RedisConnectionSlot(configuration: configuration, tlsContext: tlsContext, eventLoop: eventLoopGroup.next())
        }
    }

    /// Sends any command and returns its reply as is; an error reply comes back as `.error`.
    /// - Throws: ``RedisError`` for connection failures and timeouts, never for error replies.
    package func send(_ command: RedisCommand) async throws -> RedisReply {
        let connection = try await pickConnection()
        return try await connection.send(command).get()
    }

    /// `GET key`: the value, or `nil` when the key does not exist.
    package func get(_ key: String) async throws -> ByteBuffer? {
        switch try await checked(.get(key)) {
        case .string(let buffer): return buffer
        case .null: return nil
        case let other: throw unexpected(other, for: "GET")
        }
    }

    /// `SET key value [EX seconds]`.
    package func set(_ key: String, _ value: [UInt8], expireSeconds: Int? = nil) async throws {
        _ = try await checked(.set(key, value, expireSeconds: expireSeconds))
    }

    /// `DEL key…`: how many keys existed.
    @discardableResult
    package func del(_ keys: String...) async throws -> Int {
        try await del(keys)
    }

    /// `DEL key…` for a list of keys: how many existed.
    @discardableResult
    package func del(_ keys: [String]) async throws -> Int {
        try await integer(.del(keys))
    }

    /// `MGET key…`: one value or `nil` per key, in order.
    package func mget(_ keys: [String]) async throws -> [ByteBuffer?] {
        guard case .array(let items) = try await checked(.mget(keys)) else {
            throw RedisError(.unexpectedReply, "MGET did not return an array")
        }
        return items.map { if case .string(let buffer) = $0 { buffer } else { nil } }
    }

    /// `INFO [section]` parsed into `field: value` pairs (`keyspace_hits`, `used_memory`, …).
    package func info(_ section: String? = nil) async throws -> [String: String] {
        guard let text = try await checked(.info(section)).text else {
            throw RedisError(.unexpectedReply, "INFO did not return text")
        }
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return fields
    }

    /// `SCAN cursor MATCH pattern COUNT count`: one step of an iteration over the keyspace;
    /// start with cursor `"0"` and stop when the returned cursor is `"0"` again.
    package func scan(cursor: String, match pattern: String, count: Int = 1000) async throws -> (cursor: String, keys: [String]) {
        guard case .array(let reply) = try await checked(RedisCommand("SCAN", cursor, "MATCH", pattern, "COUNT", String(count))),
              reply.count == 2, let next = reply[0].text, case .array(let keys) = reply[1] else {
            throw RedisError(.unexpectedReply, "SCAN did not return a cursor and a key list")
        }
        return (next, keys.compactMap(\.text))
    }

    /// `PING`: succeeds when Redis answers `PONG`.
    package func ping() async throws {
        _ = try await checked(.ping)
    }

    /// `FLUSHDB`: removes every key of the selected database.
    package func flushdb() async throws {
        _ = try await checked(.flushdb)
    }

    /// Closes every connection; later commands fail with `clientClosed`.
    package func shutdown() async {
        slots.forEach { $0.close() }
    }

    // MARK: - Helpers

    /// A ready connection, trying each slot before connecting one.
    private func pickConnection() async throws -> RedisConnection {
        let start = nextSlot.withLockedValue { value -> Int in
            defer { value &+= 1 }
            return value
        }
        for offset in 0..<slots.count {
            if let connection = slots[(start &+ offset) % slots.count].readyConnection {
                return connection
            }
        }
        return try await slots[start % slots.count].connection().get()
    }

    private func checked(_ command: RedisCommand) async throws -> RedisReply {
        let reply = try await send(command)
        if case .error(let message) = reply {
            throw RedisError(.server, "\(command.name): \(message)")
        }
        return reply
    }

    private func integer(_ command: RedisCommand) async throws -> Int {
        let reply = try await checked(command)
        guard case .integer(let value) = reply else { throw unexpected(reply, for: command.name) }
        return value
    }

    private func unexpected(_ reply: RedisReply, for name: String) -> RedisError {
        RedisError(.unexpectedReply, "\(name) returned \(reply)")
    }
}
