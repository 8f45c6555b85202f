import NIOConcurrencyHelpers
import NIOCore

/// A Lua script run by its SHA1 (`EVALSHA`) instead of sending its source with every call.
///
/// The SHA1 is learned once from `SCRIPT LOAD` (the server computes it; it is the same on every
/// node). A node that does not hold the script — another shard of a cluster, a server restarted
/// or `SCRIPT FLUSH`ed — answers `NOSCRIPT`, and the call is repeated with the source (`EVAL`),
/// which caches it there; a server that refuses `SCRIPT LOAD` gets `EVAL` every time.
package final class RedisScript: Sendable {
    package let source: String
    private let loaded = NIOLockedValueBox<Loaded>(.notYet)

    private enum Loaded {
        case notYet
        case sha(String)
        /// `SCRIPT LOAD` was refused (an ACL without it, a proxy): the source is sent each time.
        case refused
    }

    package init(_ source: String) {
        self.source = source
    }

    /// The SHA1 the server gave, once one has.
    package var sha: String? {
        if case .sha(let sha) = loaded.withLockedValue({ $0 }) { return sha }
        return nil
    }

    /// Runs the script on the node that owns `keys[0]`.
    /// - Returns: the script's reply (an `.error` reply as is, as ``RedisClient/send(_:)`` does).
    /// - Throws: ``RedisError`` for connection failures and timeouts.
    package func run(on redis: RedisClient, keys: [String], arguments: [[UInt8]]) async throws -> RedisReply {
        switch loaded.withLockedValue({ $0 }) {
        case .refused:
            return try await redis.send(.eval(source, keys: keys, arguments: arguments))
        case .notYet:
            try await load(on: redis)
            return try await run(on: redis, keys: keys, arguments: arguments)
        case .sha(let sha):
            let reply = try await redis.send(.eval(source, sha: sha, keys: keys, arguments: arguments))
            guard case .error(let message) = reply, message.hasPrefix("NOSCRIPT") else { return reply }
            return try await redis.send(.eval(source, keys: keys, arguments: arguments))
        }
    }

    /// `SCRIPT LOAD`; concurrent first callers may each load it (the same SHA1, no harm).
    private func load(on redis: RedisClient) async throws {
        let reply = try await redis.send(RedisCommand("SCRIPT", "LOAD", source))
        let outcome: Loaded = if case .string(let sha) = reply, sha.readableBytes == 40 { .sha(String(buffer: sha)) } else { .refused }
        loaded.withLockedValue { $0 = outcome }
    }
}
