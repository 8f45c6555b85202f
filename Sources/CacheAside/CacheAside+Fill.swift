import Logging
import NIOCore
import Redis

// Storing an entry: its TTL, freshness and stale window, and how it may be written.
extension CacheAside {
    /// How a value may be written.
    enum FillMode {
        /// A plain `SET` (leases off, or Redis refused the lease).
        case plain
        /// A compare-and-set under the lease the load held; `mayOutliveLease`: when the lease
        /// expired only because Redis did not answer its renewals, store with `SET NX` if
        /// nothing took the key meanwhile.
        case underLease(LeaseStore.Lease, mayOutliveLease: Bool)
        /// A write through after the origin accepted a change: ends any lease on the key.
        case writeThrough
    }

    /// Stores a loaded value or a written one, or caches a "not found" (`value` nil).
    /// - Returns: whether Redis stored it.
    @discardableResult
    func fill(_ key: String, _ value: [UInt8]?, ttl: TTLPolicy? = nil, mode: FillMode = .plain, loadTime: Duration = .zero) async -> Bool {
        let ttlSeconds = value == nil ? configuration.negativeTTLSeconds : (ttl ?? configuration.ttl).next()
        let bytes = CacheEntry.encode(value, freshness: value == nil ? nil : freshness(ttlSeconds: ttlSeconds, loadTime: loadTime))
        // A "not found" carries no freshness, so it gets no stale window either.
        let expireSeconds = value == nil ? ttlSeconds : storedSeconds(ttlSeconds)
        do {
            switch (mode, leases) {
            case (.underLease(let lease, let mayOutlive), let leases?):
                switch try await leases.fill(lease, bytes, expireSeconds: expireSeconds, mayOutliveLease: mayOutlive) {
                case .stored: break
                case .storedAfterExpiry: metrics.fillAfterLeaseExpiry()
                case .dropped:
                    // A write or invalidation ended the lease after this load read the origin,
                    // or another caller took the lease over and fills the key.
                    metrics.fillDropped()
                    return false
                }
            case (.writeThrough, let leases?):
                try await leases.writeThrough(key, bytes, expireSeconds: expireSeconds)
            case (.plain, _), (_, nil):
                try await redis.set(key, bytes, expireSeconds: expireSeconds)
            }
            metrics.fill()
            return true
        } catch {
            metrics.error()
            logger.debug("cache fill failed", metadata: ["key": "\(key)", "error": "\(error)"])
            return false
        }
    }

    /// The freshness header a value gets, when stale-while-revalidate or early refresh need it.
    func freshness(ttlSeconds: Int, loadTime: Duration) -> CacheEntry.Freshness? {
        guard configuration.tracksFreshness else { return nil }
        return CacheEntry.Freshness(freshUntil: CacheEntry.nowMilliseconds() + Int64(ttlSeconds) * 1000,
                                    loadMilliseconds: Int((loadTime / .milliseconds(1)).rounded(.up)))
    }

    /// How long Redis keeps a value: its TTL, plus the stale-while-revalidate window.
    func storedSeconds(_ ttlSeconds: Int) -> Int {
        ttlSeconds + (configuration.staleWhileRevalidateSeconds ?? 0)
    }
}
