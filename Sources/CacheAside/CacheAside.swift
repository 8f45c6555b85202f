import Logging
import NIOCore
import Redis
import Synchronization

/// The cache-aside pattern over Redis, independent of HTTP: look up, on a miss load from the
/// origin once (single-flight in the process, a lease in Redis across a fleet) and fill with a
/// jittered TTL; remember "not found" briefly; write through and invalidate on change; serve a
/// just-expired value while one refresh runs (stale-while-revalidate) or refresh hot keys before
/// they expire (XFetch); and when Redis is down or slow, answer from the origin (`BYPASS`)
/// rather than fail.
package final class CacheAside: Sendable {
    /// Settings of the pattern.
    package struct Configuration: Sendable {
        /// `false` sends every lookup to the origin (the "before" of a before/after comparison).
        package var enabled: Bool
        /// TTL of filled entries.
        package var ttl: TTLPolicy
        /// TTL of the "not found" marker that shields the origin from floods of unknown keys.
        package var negativeTTLSeconds: Int
        /// The longest an origin load may take (the server gives PostgreSQL this as its statement
        /// timeout). Waits for another caller's load — in this process or under another instance's
        /// lease — are bounded by it, so a load that finishes is served to everyone waiting for it.
        package var loadTimeout: Duration
        /// Fleet-wide single flight and no stale fills (``LeaseStore``); `nil` turns leases off.
        /// The holder renews its lease every third of this while its load runs (at most
        /// ``loadTimeout``), so a lease outlives the load it guards however slow the origin; a
        /// holder that dies stops renewing and its lease expires this long after.
        package var leaseTime: Duration?
        /// Seconds an entry past its TTL is still served (`STALE`) while one refresh runs.
        package var staleWhileRevalidateSeconds: Int?
        /// XFetch's β: a hit refreshes early with a probability that grows as expiry nears, faster
        /// for keys whose load is slow (1 is the paper's default; larger refreshes earlier).
        package var earlyRefreshBeta: Double?
        /// Bounds of the near cache (`--near-cache`); `nil` keeps none.
        package var nearCache: NearCache.Limits?

        package init(enabled: Bool = true, ttl: TTLPolicy = TTLPolicy(seconds: 3600),
                    negativeTTLSeconds: Int = 30, loadTimeout: Duration = .seconds(30),
                    leaseTime: Duration? = .seconds(2), staleWhileRevalidateSeconds: Int? = nil, earlyRefreshBeta: Double? = nil) {
            self.enabled = enabled
            self.ttl = ttl
            self.negativeTTLSeconds = max(1, negativeTTLSeconds)
            self.loadTimeout = loadTimeout
            self.leaseTime = leaseTime
            self.staleWhileRevalidateSeconds = staleWhileRevalidateSeconds
            self.earlyRefreshBeta = earlyRefreshBeta
        }

        /// Whether values carry their freshness (for stale-while-revalidate or early refresh).
        var tracksFreshness: Bool { staleWhileRevalidateSeconds != nil || earlyRefreshBeta != nil }

        /// How long a miss waits for another instance's lease before loading by itself: the
        /// holder's load may take ``loadTimeout`` (its lease renewed meanwhile), and a dead
        /// holder's lease expires within ``leaseTime`` (the next caller then takes it over).
        var leaseWait: Duration { loadTimeout + (leaseTime ?? .zero) * 2 + .milliseconds(500) }

        /// How long a caller in this process waits for another's load of the same key: the
        /// leader may first wait for a lease and then load, and its value is worth the wait.
        var followerWait: Duration { (leaseTime == nil ? loadTimeout : leaseWait + loadTimeout) + .seconds(1) }
    }

    package let configuration: Configuration
    package let metrics: CacheMetrics
    let redis: RedisClient
    private let singleFlight: SingleFlight<[UInt8]?>
    /// Background refreshes (stale-while-revalidate, early refresh): at most one per key here,
    /// and one fleet-wide through the lease.
    private let refreshes: SingleFlight<Bool>
    private let leases: LeaseStore?
    /// Copies of values in this process (`--near-cache`), kept coherent by Redis' invalidations.
    package let near: NearCache?
    let logger: Logger
    /// Redis outages, logged when they start and end, not once per request.
    private let outage: RedisOutage

    /// Makes the cache; with ``Configuration/nearCache`` its near cache serves nothing until
    /// ``keepNearCacheCoherent(prefixes:)`` runs and Redis confirmed it reports changes.
    package init(redis: RedisClient, configuration: Configuration, metrics: CacheMetrics,
                logger: Logger = Logger(label: "cacheload.cache")) {
        self.redis = redis
        // A copy never outlives the longest TTL a value can get. With the cache off there is
        // nothing to copy, and no invalidation connection is opened.
        self.near = (configuration.enabled ? configuration.nearCache : nil).map {
            NearCache(limits: $0, maximumAge: .seconds(Double(configuration.ttl.seconds) * (1 + configuration.ttl.jitter)))
        }
        self.configuration = configuration
        self.metrics = metrics
        // Followers wait out a leader that waits for a lease and then loads.
        self.singleFlight = SingleFlight(timeout: configuration.followerWait)
        self.refreshes = SingleFlight(timeout: configuration.followerWait)
        self.leases = configuration.leaseTime.map { LeaseStore(redis: redis, duration: $0, logger: logger) }
        self.logger = logger
        self.outage = RedisOutage(redis: redis.configuration, logger: logger)
    }

    /// The value for `key`: from Redis when there, else from `load` (once for all concurrent
    /// callers), stored for next time. `load` returns `nil` when the origin has no such item.
    /// - Throws: what `load` throws when the cache cannot answer either, or
    ///   ``CacheAsideError`` when waiting for another caller's load timed out.
    /// - Parameter ttl: overrides the configured TTL for this key (a short-lived page, say).
    package func fetch(
        _ key: String,
        ttl: TTLPolicy? = nil,
        load: @escaping @Sendable () async throws -> [UInt8]?
    ) async throws -> CacheResult {
        guard configuration.enabled else {
            metrics.bypass()
            return CacheResult(value: try await load().map(ByteBuffer.init(bytes:)), status: .bypass)
        }
        let lookedAt = ContinuousClock.now
        if let copy = near?.value(key) {
            return answer(CacheEntry(copy), key: key, tier: .near, ttl: ttl, readAt: lookedAt, load: load)
        }
        let ticket = near?.ticket()
        let cached: ByteBuffer?
        do {
            cached = try await redis.get(key)
            outage.answered()
        } catch {
            metrics.error()
            metrics.bypass()
            outage.failed(error)
            logger.debug("cache lookup failed; answering from the origin", metadata: ["key": "\(key)", "error": "\(error)"])
            // Still one origin query per key at a time: a Redis outage must not become a stampede.
            let value = try await singleFlight.run(key, load).value
            return CacheResult(value: value.map(ByteBuffer.init(bytes:)), status: .bypass)
        }
        if let cached {
            let entry = CacheEntry(cached)
            if entry != .unreadable {
                // A key with its own TTL (the slow page) is not kept longer than that TTL either.
                if let ticket { near?.store(key, cached, ticket: ticket, maximumAge: ttl.map { .seconds($0.seconds) }) }
                return answer(entry, key: key, tier: .redis, ttl: ttl, readAt: lookedAt, load: load)
            }
            // Not an entry this version wrote: a miss, whose fill overwrites it.
            metrics.unreadableEntry()
        }
        metrics.miss()
        let (value, shared) = try await singleFlight.run(key, startedAt: lookedAt) { [self] in
            try await loadAndFill(key, ttl: ttl, overwriting: cached != nil, load: load)
        }
        if shared { metrics.singleFlightWait() }
        return CacheResult(value: value.map(ByteBuffer.init(bytes:)), status: .miss)
    }

    /// A value found in Redis: a hit, or stale past its TTL (served while one refresh runs), or
    /// a hit whose early refresh XFetch draws now.
    private func answer(_ entry: CacheEntry, key: String, tier: CacheTier, ttl: TTLPolicy?, readAt: ContinuousClock.Instant,
                        load: @escaping @Sendable () async throws -> [UInt8]?) -> CacheResult {
        guard case .value(let value, let freshness) = entry else {
            metrics.hit(negative: true, tier: tier)
            return CacheResult(value: nil, status: .hit, tier: tier)
        }
        if let freshness {
            let now = CacheEntry.nowMilliseconds()
            if now >= freshness.freshUntil {
                // A hit (Redis counted one; the ratios reconcile), and counted apart as stale.
                metrics.hit(negative: false, tier: tier)
                metrics.stale()
                refreshInBackground(key, ttl: ttl, readAt: readAt, load: load)
                return CacheResult(value: value, status: .stale, tier: tier)
            }
            if let beta = configuration.earlyRefreshBeta, XFetch.refreshesEarly(now: now, freshness: freshness, beta: beta) {
                metrics.earlyRefresh()
                refreshInBackground(key, ttl: ttl, readAt: readAt, load: load)
            }
        }
        metrics.hit(negative: false, tier: tier)
        return CacheResult(value: value, status: .hit, tier: tier)
    }

    /// The origin load behind a miss: under the key's lease when leases are on — waiting for
    /// another instance's fill while it holds the lease — else directly.
    /// - Parameter overwriting: the key holds bytes that are no entry (the lease is taken even
    ///   though the key is not empty).
    private func loadAndFill(_ key: String, ttl: TTLPolicy?, overwriting: Bool = false,
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
    private func filledValue(_ key: String) async -> [UInt8]?? {
        guard let filled = try? await redis.get(key) else { return nil }
        switch CacheEntry(filled) {
        case .value(let value, _): return Array(value.readableBytesView)
        case .notFound: return .some(nil)
        case .unreadable: return nil
        }
    }

    /// Loads from the origin and fills — under `lease`, renewed while the load runs; a fill the
    /// lease no longer allows is dropped, and the value is served all the same.
    private func loadAndStore(_ key: String, ttl: TTLPolicy?, lease: LeaseStore.Lease?,
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
        await fill(key, value, ttl: ttl, lease: (lease, mayOutlive: !renewer.sawLeaseLost), loadTime: ContinuousClock.now - started)
        return value
    }

    /// Refreshes `key` from the origin without making anyone wait: one refresh per key in this
    /// process — none when one finished after this caller read the value (`readAt`) — and with
    /// leases one in the fleet (a key whose lease is taken, or marked refreshed, is skipped).
    private func refreshInBackground(_ key: String, ttl: TTLPolicy?, readAt: ContinuousClock.Instant,
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

    /// Writes a new value through to the cache (after the origin accepted it).
    ///
    /// With leases on, `current` re-reads the origin once the value is stored: two writers of
    /// one key on different instances may store in the opposite order of their commits, and the
    /// last to store then finds the row changed and invalidates the key (its read follows every
    /// commit whose store came before its own), so the cache never keeps a value the row lost.
    /// - Returns: whether Redis stored it (`false` when it is unreachable; the next lookup misses).
    @discardableResult
    package func store(_ key: String, _ value: [UInt8], current: (@Sendable () async throws -> [UInt8]?)? = nil) async -> Bool {
        guard configuration.enabled, await fill(key, value, writeThrough: true) else { return false }
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
    private static func globEscaped(_ prefix: String) -> String {
        var escaped = ""
        for character in prefix {
            if "*?[]\\".contains(character) { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }

    /// Stores a loaded value (under `lease`, a compare-and-set), or writes one through (ending
    /// any lease on the key), or caches a "not found".
    @discardableResult
    private func fill(_ key: String, _ value: [UInt8]?, ttl: TTLPolicy? = nil, lease: (LeaseStore.Lease, mayOutlive: Bool)? = nil,
                      loadTime: Duration = .zero, writeThrough: Bool = false) async -> Bool {
        let ttlSeconds = value == nil ? configuration.negativeTTLSeconds : (ttl ?? configuration.ttl).next()
        let bytes = CacheEntry.encode(value, freshness: value == nil ? nil : freshness(ttlSeconds: ttlSeconds, loadTime: loadTime))
        // A "not found" carries no freshness, so it gets no stale window either.
        let expireSeconds = value == nil ? ttlSeconds : storedSeconds(ttlSeconds)
        do {
            if let (lease, mayOutlive) = lease, let leases {
                switch try await leases.fill(lease, bytes, expireSeconds: expireSeconds, mayOutliveLease: mayOutlive) {
                case .stored: break
                case .storedAfterExpiry: metrics.fillAfterLeaseExpiry()
                case .dropped:
                    // A write or invalidation ended the lease after this load read the origin,
                    // or another caller took the lease over and fills the key.
                    metrics.fillDropped()
                    return false
                }
            } else if writeThrough, let leases {
                try await leases.writeThrough(key, bytes, expireSeconds: expireSeconds)
            } else {
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
    private func freshness(ttlSeconds: Int, loadTime: Duration) -> CacheEntry.Freshness? {
        guard configuration.tracksFreshness else { return nil }
        return CacheEntry.Freshness(freshUntil: CacheEntry.nowMilliseconds() + Int64(ttlSeconds) * 1000,
                                    loadMilliseconds: Int((loadTime / .milliseconds(1)).rounded(.up)))
    }

    /// How long Redis keeps a value: its TTL, plus the stale-while-revalidate window.
    private func storedSeconds(_ ttlSeconds: Int) -> Int {
        ttlSeconds + (configuration.staleWhileRevalidateSeconds ?? 0)
    }
}
