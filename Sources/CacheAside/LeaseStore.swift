import Foundation
import Logging
import NIOCore
import Redis
import Synchronization

/// Leases on cache keys, after memcache's (Nishtala et al., NSDI '13): fleet-wide single flight
/// and no stale fills.
///
/// A miss takes the key's lease; only the holder queries the origin, and its fill is a
/// compare-and-set that stores the value only while it still holds the lease. A write-through or an invalidation deletes the lease in the same
/// atomic step as it changes the value, so a load that read the old row before the write cannot
/// put it back afterwards. Instances that find the lease taken wait for the holder's fill; a
/// holder that dies lets its lease expire, and the next caller takes over.
///
/// The lease key is `{key}:lease`: its hash tag puts it in the key's own cluster slot, so the
/// scripts that touch both run on one node. It is a one-element list holding the holder's token,
/// handled with write commands only (`LPUSHX`, `RPUSH`, `LREM`, `DEL`): Redis counts keyspace
/// hits and misses for reads, and the lease must not add lookups that the cache's own hit and
/// miss counts would not reconcile with.
package final class LeaseStore: Sendable {
    /// A lease this process holds.
    package struct Lease: Sendable {
        package let key: String
        package let leaseKey: String
        package let token: String
    }

    /// What asking for a lease gave.
    package enum Acquisition: Sendable {
        case granted(Lease)
        /// Another caller holds it: wait for its fill.
        case held
        /// The key has a value again (another instance filled it since this caller's miss): read it.
        case filled
        /// Leases cannot be used for this key now (Redis failed, or the lease key holds something
        /// that is not a lease): load and fill as without leases.
        case unavailable
    }

    let redis: RedisClient
    /// How long a lease lives: longer than an origin load takes, short enough that a dead
    /// holder's waiters do not wait long.
    let duration: Duration
    /// Lease keys found holding other data: their keys are served without leases.
    private let foreign: Mutex<Set<String>> = Mutex([])
    private let logger: Logger

    init(redis: RedisClient, duration: Duration, logger: Logger) {
        self.redis = redis
        self.duration = duration
        self.logger = logger
    }

    /// `{key}:lease` — or `key:lease` when the key has a hash tag of its own; `nil` when no lease
    /// key shares the key's slot.
    static func leaseKey(for key: String) -> String? {
        let candidate = key.contains("{") ? "\(key):lease" : "{\(key)}:lease"
        return HashSlot.of(candidate) == HashSlot.of(key) ? candidate : nil
    }

    /// Asks for `key`'s lease.
    /// - Parameter unlessFilled: answer ``Acquisition/filled`` when the key has a value (a miss
    ///   asks so; a refresh of a value still there does not).
    func acquire(_ key: String, unlessFilled: Bool = true) async -> Acquisition {
        guard let leaseKey = Self.leaseKey(for: key), !foreign.withLock({ $0.contains(leaseKey) }) else { return .unavailable }
        let token = "cacheload-lease:\(UUID().uuidString)"
        let milliseconds = String(max(1, Int(duration / .milliseconds(1))))
        // First: has another instance filled the key since this caller missed? SETRANGE with an
        // empty string changes nothing and answers the value's length — a write command, so,
        // unlike EXISTS or GET, no keyspace hit or miss is counted for it. Then LPUSHX adds only
        // to a list that exists: the lease is held (and the push undone).
        let script = """
            if ARGV[3] == '1' then
              local length = redis.pcall('SETRANGE', KEYS[2], 0, '')
              if type(length) == 'number' and length > 0 then return 2 end
            end
            if redis.call('LPUSHX', KEYS[1], ARGV[1]) > 0 then
              redis.call('LPOP', KEYS[1])
              return 0
            end
            redis.call('RPUSH', KEYS[1], ARGV[1])
            redis.call('PEXPIRE', KEYS[1], ARGV[2])
            return 1
            """
        do {
            switch try await eval(script, keys: [leaseKey, key], [token, milliseconds, unlessFilled ? "1" : "0"].map { Array($0.utf8) }) {
            case .integer(1): return .granted(Lease(key: key, leaseKey: leaseKey, token: token))
            case .integer(2): return .filled
            case .integer: return .held
            case .error(let message):
                // WRONGTYPE: the lease key holds someone's data.
                markForeign(leaseKey, because: message)
                return .unavailable
            default: return .unavailable
            }
        } catch {
            return .unavailable
        }
    }

    /// After a wait for a holder that never filled: a lease key without an expiry is not a lease
    /// of ours (ours always expire) — that key is then cached without leases.
    func checkHolder(of key: String) async {
        guard let leaseKey = Self.leaseKey(for: key),
              case .integer(-1)? = try? await redis.send(RedisCommand("PTTL", leaseKey)) else { return }
        markForeign(leaseKey, because: "it has no expiry")
    }

    private func markForeign(_ leaseKey: String, because reason: String) {
        guard foreign.withLock({ $0.insert(leaseKey).inserted }) else { return }
        logger.warning("a lease key holds data that is not a lease: that key is cached without leases",
                       metadata: ["lease_key": "\(leaseKey)", "reason": "\(reason)"])
    }

    /// Stores `value` under the lease's key if the lease is still held, and ends the lease.
    /// - Returns: `false` when the lease was lost (expired, or deleted by a write): nothing stored.
    func fill(_ lease: Lease, _ value: [UInt8], expireSeconds: Int) async throws -> Bool {
        let script = """
            if redis.call('LREM', KEYS[2], 0, ARGV[1]) > 0 then
              redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
              redis.call('DEL', KEYS[2])
              return 1
            end
            return 0
            """
        let reply = try await eval(script, keys: [lease.key, lease.leaseKey], [Array(lease.token.utf8), value, Array(String(expireSeconds).utf8)])
        if case .error(let message) = reply { throw RedisError(.unexpectedReply, "lease fill: \(message)") }
        return reply == .integer(1)
    }

    /// Gives a lease back without filling (the origin load failed), if it is still this caller's.
    func release(_ lease: Lease) async {
        let script = "if redis.call('LREM', KEYS[1], 0, ARGV[1]) > 0 then return redis.call('DEL', KEYS[1]) end return 0"
        _ = try? await eval(script, keys: [lease.leaseKey], [Array(lease.token.utf8)])
    }

    /// Write-through: ends any lease on `key` and stores `value`, atomically, so a fill of a load
    /// that began before this write is refused.
    func writeThrough(_ key: String, _ value: [UInt8], expireSeconds: Int) async throws {
        guard let leaseKey = Self.leaseKey(for: key) else {
            try await redis.set(key, value, expireSeconds: expireSeconds)
            return
        }
        let script = "redis.call('DEL', KEYS[2]) return redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])"
        let reply = try await eval(script, keys: [key, leaseKey], [value, Array(String(expireSeconds).utf8)])
        if case .error(let message) = reply { throw RedisError(.unexpectedReply, "write-through: \(message)") }
    }

    /// `EVAL script numkeys keys… arguments…` (routed by its first key in a cluster).
    private func eval(_ script: String, keys: [String], _ arguments: [[UInt8]]) async throws -> RedisReply {
        try await redis.send(RedisCommand(arguments: [Array("EVAL".utf8), Array(script.utf8), Array(String(keys.count).utf8)]
            + keys.map { Array($0.utf8) } + arguments))
    }

    /// The keys an invalidation of `key` deletes: the value and its lease (one slot, one `DEL`).
    static func keysToInvalidate(_ key: String) -> [String] {
        [key] + (leaseKey(for: key).map { [$0] } ?? [])
    }
}
