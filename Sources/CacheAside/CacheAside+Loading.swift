import Logging
import NIOCore
import Redis

// The miss path: a load under the fleet's lease (or alone), and the background refreshes of
// stale-while-revalidate and early refresh.
extension CacheAside {
    /// The origin load behind a miss: under the key's lease when leases are on — waiting for
    /// another instance's fill while it holds the lease — else directly.
    /// - Parameter overwriting: the key holds bytes that are no entry (the lease is taken even
    ///   though the key is not empty).
    func loadAndFill(_ key: String, ttl: TTLPolicy?, overwriting: Bool = false,
                             load: @escaping @Sendable () async throws -> [UInt8]?) async throws -> [UInt8]? {
        guard let leases else { return try await loadAndStore(key, ttl: ttl, lease: nil, load: load) }
        let deadline = ContinuousClock.now + configuration.leaseWait
        var pause = Duration.milliseconds(2)
        var overwriting = overwriting
        while true {
            switch await leases.acquire(key, unlessFilled: !overwriting) {
            case .granted(let lease):
                return try await loadAndStore(key, ttl: ttl, lease: lease, load: load)
            case .filled:
                // Another instance filled the key between this miss and the lease.
                if case .some(let value) = await filledValue(key) { return value }
                // Gone again, or bytes that are no entry: take the lease whatever the key holds.
                overwriting = true
            case .unavailable:
                return try await loadAndStore(key, ttl: ttl, lease: nil, load: load)
            case .held:
                metrics.leaseWait()
                guard ContinuousClock.now + pause < deadline else {
                    // The holder is stuck past the load timeout: answer from the origin, and
                    // leave the fill to it.
                    metrics.leaseTimeout()
                    await leases.checkHolder(of: key)
                    return try await load()
                }
                try await Task.sleep(for: pause)
                // The holder renews while it loads: wait as long as it does, polling less
                // often as the wait grows. The next acquire sees its fill (a write command,
                // so polls count no keyspace misses).
                pause = min(pause * 2, .milliseconds(50))
            }
        }
    }

    /// What another caller filled `key` with: `.some(nil)` for a cached "not found", `nil` when
    /// the key is (still) empty, holds bytes that are no entry, or Redis did not answer.
    func filledValue(_ key: String) async -> [UInt8]?? {
        guard let filled = try? await redis.get(key) else { return nil }
        switch CacheEntry(filled) {
        case .value(let value, _): return Array(value.readableBytesView)
        case .notFound: return .some(nil)
        case .unreadable: return nil
        }
    }

    /// Loads from the origin and fills — under `lease`, renewed while the load runs; a fill the
    /// lease no longer allows is dropped, and the value is served all the same.
    func loadAndStore(_ key: String, ttl: TTLPolicy?, lease: LeaseStore.Lease?,
                              load: @escaping @Sendable () async throws -> [UInt8]?) async throws -> [UInt8]? {
        let started = ContinuousClock.now
        guard let lease, let leases else {
            let value = try await load()
            await fill(key, value, ttl: ttl, loadTime: ContinuousClock.now - started)
            return value
        }
        let renewer = LeaseRenewer(lease: lease, leases: leases, until: started + configuration.loadTimeout, metrics: metrics)
        let value: [UInt8]?
        do {
            value = try await renewer.whileRunning(load)
        } catch {
            await leases.release(lease)
            throw error
        }
        await fill(key, value, ttl: ttl, mode: .underLease(lease, mayOutliveLease: !renewer.sawLeaseLost), loadTime: ContinuousClock.now - started)
        return value
    }

    /// Refreshes `key` from the origin without making anyone wait: one refresh per key in this
    /// process — none when one finished after this caller read the value (`readAt`) — and with
    /// leases one in the fleet (a key whose lease is taken, or marked refreshed, is skipped).
    func refreshInBackground(_ key: String, ttl: TTLPolicy?, readAt: ContinuousClock.Instant,
                                     load: @escaping @Sendable () async throws -> [UInt8]?) {
        Task { [self] in
            _ = try? await refreshes.run(key, startedAt: readAt) { [self] in
                let lease: LeaseStore.Lease?
                switch await leases?.acquire(key, unlessFilled: false) {
                case .granted(let granted)?: lease = granted
                case .held?, .filled?: return false
                case .unavailable?, nil: lease = nil
                }
                _ = try await loadAndStore(key, ttl: ttl, lease: lease, load: load)
                return true
            }
        }
    }
}
