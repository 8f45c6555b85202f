import Foundation
import Logging
import NIOCore
import Redis
import Synchronization

/// Leases on cache keys, after memcache's (Nishtala et al., NSDI '13): fleet-wide single flight
/// and no stale fills.
///
/// A miss takes the key's lease; only the holder queries the origin, and its fill is a
/// compare-and-set that stores the value only while it still holds the lease. The holder renews
/// the lease while its load runs (``renew(_:)``), so a lease outlives the load however slow the
/// origin is. A write-through or an invalidation replaces the lease with a short-lived tombstone
/// in the same atomic step as it changes the value, so a load that read the old row before the
/// write cannot put it back afterwards. Instances that find the lease taken wait for the holder's
/// fill; a holder that dies stops renewing, its lease expires, and the next caller takes over.
///
/// A holder whose lease expired only because Redis did not answer its renewals (its token never
/// found gone) still stores its value when nobody else did: no lease, no tombstone, no value.
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
        /// Taken to refresh a value still there (stale-while-revalidate, early refresh): its
        /// fill leaves a "refreshed" marker for one lease time instead of freeing the lease, so
        /// requests that read the old value just before the fill do not refresh it again.
        var refresh = false
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
        // First: has another instance filled the key since this caller missed? SETRANGE with an
        // empty string changes nothing and answers the value's length — a write command, so,
        // unlike EXISTS or GET, no keyspace hit or miss is counted for it. Then LPUSHX adds only
        // to a list that exists: the lease is held (and the push undone).
        let script = Self.acquireScript
        do {
            switch try await eval(script, keys: [leaseKey, key], [token, milliseconds, unlessFilled ? "1" : "0", Self.tombstone].map { Array($0.utf8) }) {
            case .integer(1): return .granted(Lease(key: key, leaseKey: leaseKey, token: token, refresh: !unlessFilled))
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

    /// What a renewal found.
    enum Renewal: Sendable {
        /// The lease is still this holder's and lives another ``duration``.
        case renewed
        /// The token is gone (a write revoked the lease, or it expired and another caller took
        /// it): this holder's value must not be stored.
        case lost
        /// Redis did not answer: the lease may expire meanwhile.
        case unknown
    }

    /// Extends a held lease by ``duration`` if it is still this holder's.
    func renew(_ lease: Lease) async -> Renewal {
        let script = Self.renewScript
        switch try? await eval(script, keys: [lease.leaseKey], [Array(lease.token.utf8), Array(milliseconds.utf8)]) {
        case .integer(1)?: return .renewed
        case .integer?: return .lost
        default: return .unknown
        }
    }

    /// How a fill under a lease ended.
    enum FillOutcome: Sendable, Equatable {
        /// Stored under the lease (the lease ended with it).
        case stored
        /// The lease had expired without a write in between and nobody else filled the key:
        /// stored all the same (`SET NX`).
        case storedAfterExpiry
        /// Not stored: a write revoked the lease, or another caller holds it or filled the key.
        case dropped
    }

    /// Stores `value` under the lease's key if the lease is still held, and ends the lease.
    /// - Parameter mayOutliveLease: the holder never saw its token gone (only Redis failing to
    ///   answer a renewal could have let the lease expire): store when no lease, no tombstone
    ///   and no value are there.
    func fill(_ lease: Lease, _ value: [UInt8], expireSeconds: Int, mayOutliveLease: Bool) async throws -> FillOutcome {
        let script = Self.fillScript
        let reply = try await eval(script, keys: [lease.key, lease.leaseKey],
                                   [Array(lease.token.utf8), value, Array(String(expireSeconds).utf8), mayOutliveLease ? [0x31] : [0x30],
                                    lease.refresh ? Array(Self.refreshed.utf8) : [], Array(milliseconds.utf8)])
        switch reply {
        case .error(let message): throw RedisError(.unexpectedReply, "lease fill: \(message)")
        case .integer(1): return .stored
        case .integer(2): return .storedAfterExpiry
        default: return .dropped
        }
    }

    /// Gives a lease back without filling (the origin load failed), if it is still this caller's.
    func release(_ lease: Lease) async {
        let script = Self.releaseScript
        _ = try? await eval(script, keys: [lease.leaseKey], [Array(lease.token.utf8)])
    }

    /// Write-through: revokes any lease on `key` and stores `value`, atomically, so a fill of a
    /// load that began before this write is refused.
    func writeThrough(_ key: String, _ value: [UInt8], expireSeconds: Int) async throws {
        guard let leaseKey = Self.leaseKey(for: key) else {
            try await redis.set(key, value, expireSeconds: expireSeconds)
            return
        }
        let script = Self.writeThroughScript
        let reply = try await eval(script, keys: [key, leaseKey], [value, Array(String(expireSeconds).utf8), Array(milliseconds.utf8), Array(Self.tombstone.utf8)])
        if case .error(let message) = reply { throw RedisError(.unexpectedReply, "write-through: \(message)") }
    }

    /// Invalidation: deletes `key` and revokes any lease on it, atomically (the same tombstone as
    /// a write-through leaves: a load that read the row before the change does not fill after it).
    func invalidate(_ key: String) async throws {
        guard let leaseKey = Self.leaseKey(for: key) else {
            _ = try await redis.del([key])
            return
        }
        let script = Self.invalidateScript
        let reply = try await eval(script, keys: [key, leaseKey], [[], [], Array(milliseconds.utf8), Array(Self.tombstone.utf8)])
        if case .error(let message) = reply { throw RedisError(.unexpectedReply, "invalidate: \(message)") }
    }

    /// What a lease key holds for one lease time after a refresh filled the key: a request
    /// that read the old value just before asks for the lease, finds it taken and does not
    /// refresh again (one refresh per expiry, fleet-wide). A miss is told the key is filled.
    static let refreshed = "cacheload-lease:refreshed"

    /// What a lease key holds after a write or an invalidation, for one lease time: a holder
    /// that loaded before the change sees it at its fill and drops its value; the next miss
    /// takes the lease over.
    static let tombstone = "cacheload-lease:revoked"

    /// The script's tail that replaces `KEYS[2]` with a tombstone living `ARGV[3]` ms (`ARGV[4]`).
    private static let revokeLease = """
        redis.call('DEL', KEYS[2])
        redis.call('RPUSH', KEYS[2], ARGV[4])
        redis.call('PEXPIRE', KEYS[2], ARGV[3])
        return 1
        """

    // The scripts, loaded once and run by their SHA1 (``RedisScript``).
    private static let acquireScript = RedisScript("""
        if ARGV[3] == '1' then
          local length = redis.pcall('SETRANGE', KEYS[2], 0, '')
          if type(length) == 'number' and length > 0 then return 2 end
        end
        -- A tombstone left by a write or invalidation: nobody holds the lease.
        redis.call('LREM', KEYS[1], 0, ARGV[4])
        if redis.call('LPUSHX', KEYS[1], ARGV[1]) > 0 then
          redis.call('LPOP', KEYS[1])
          return 0
        end
        redis.call('RPUSH', KEYS[1], ARGV[1])
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        return 1
        """)

    private static let renewScript = RedisScript("""
        if redis.call('LREM', KEYS[1], 0, ARGV[1]) > 0 then
          redis.call('RPUSH', KEYS[1], ARGV[1])
          redis.call('PEXPIRE', KEYS[1], ARGV[2])
          return 1
        end
        return 0
        """)

    private static let fillScript = RedisScript("""
        if redis.call('LREM', KEYS[2], 0, ARGV[1]) > 0 then
          redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
          redis.call('DEL', KEYS[2])
          if ARGV[5] ~= '' then
            redis.call('RPUSH', KEYS[2], ARGV[5])
            redis.call('PEXPIRE', KEYS[2], ARGV[6])
          end
          return 1
        end
        if ARGV[4] == '1' then
          if redis.call('LPUSHX', KEYS[2], ARGV[1]) > 0 then
            redis.call('LPOP', KEYS[2])
            return 0
          end
          if redis.call('SET', KEYS[1], ARGV[2], 'NX', 'EX', ARGV[3]) then return 2 end
        end
        return 0
        """)

    private static let releaseScript = RedisScript("if redis.call('LREM', KEYS[1], 0, ARGV[1]) > 0 then return redis.call('DEL', KEYS[1]) end return 0")

    private static let writeThroughScript = RedisScript("redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) " + LeaseStore.revokeLease)

    private static let invalidateScript = RedisScript("redis.call('DEL', KEYS[1]) " + LeaseStore.revokeLease)

    /// ``duration`` in milliseconds, as the scripts take it.
    private var milliseconds: String { String(max(1, Int(duration / .milliseconds(1)))) }

    /// Runs `script` on the node that owns `keys[0]` (by its SHA1; the source when a node lacks it).
    private func eval(_ script: RedisScript, keys: [String], _ arguments: [[UInt8]]) async throws -> RedisReply {
        try await script.run(on: redis, keys: keys, arguments: arguments)
    }

    /// The keys an invalidation of `key` deletes: the value and its lease (one slot, one `DEL`).
    static func keysToInvalidate(_ key: String) -> [String] {
        [key] + (leaseKey(for: key).map { [$0] } ?? [])
    }
}
