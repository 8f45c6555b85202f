import Logging
import NIOCore
import Redis

// Writes through and invalidations: what keeps the cache from serving a value the origin changed.
extension CacheAside {
    /// Writes a new value through to the cache (after the origin accepted it).
    ///
    /// With leases on, `current` re-reads the origin once the value is stored: two writers of
    /// one key on different instances may store in the opposite order of their commits, and the
    /// last to store then finds the row changed and invalidates the key (its read follows every
    /// commit whose store came before its own), so the cache never keeps a value the row lost.
    /// - Returns: whether Redis stored it (`false` when it is unreachable; the next lookup misses).
    @discardableResult
    package func store(_ key: String, _ value: [UInt8], current: (@Sendable () async throws -> [UInt8]?)? = nil) async -> Bool {
        guard configuration.enabled, await fill(key, value, mode: .writeThrough) else { return false }
        // Redis reports the write to every instance's near cache; this one's drops its copy now,
        // so its own next read cannot beat the report.
        near?.invalidate([key])
        if leases != nil, let current, let row = try? await current(), row != value {
            metrics.writeRaced()
            await invalidate(key)
        }
        return true
    }

    /// Removes `key` from the cache so the next lookup reloads it.
    /// - Returns: whether Redis confirmed the removal (`false` when it is unreachable).
    @discardableResult
    package func invalidate(_ key: String) async -> Bool {
        guard configuration.enabled else { return true }
        do {
            // The lease goes with the value: a load that read the row before this change must
            // not fill afterwards (one DEL: the lease key shares the value's slot).
            let revoked: Void? = if let leases { try? await leases.invalidate(key) } else { nil }
            if revoked == nil {
                // Leases off, or Redis refused the script (out of memory refuses every script
                // that writes, but not DEL): the plain delete still removes value and lease.
                try await redis.del(LeaseStore.keysToInvalidate(key))
            }
            near?.invalidate([key])
            return true
        } catch {
            metrics.error()
            logger.warning("cache invalidation failed; the entry expires with its TTL", metadata: ["key": "\(key)", "error": "\(error)"])
            return false
        }
    }

    /// Removes every cached entry whose key starts with `prefix` (a `SCAN` — of every primary
    /// in a cluster — never `KEYS` or `FLUSHALL`: other data in the same Redis stays).
    /// - Returns: how many entries Redis removed.
    /// - Throws: ``RedisError`` when Redis cannot be reached; entries removed before that stay removed.
    package func invalidate(prefix: String) async throws -> Int {
        var removed = 0
        try await redis.scanKeys(matching: Self.globEscaped(prefix) + "*") { keys in
            removed += try await redis.del(keys)
        }
        return removed
    }

    /// `prefix` with Redis glob characters escaped, so it matches literally.
    static func globEscaped(_ prefix: String) -> String {
        var escaped = ""
        for character in prefix {
            if "*?[]\\".contains(character) { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }
}
