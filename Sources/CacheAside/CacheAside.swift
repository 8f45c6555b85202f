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
    let singleFlight: SingleFlight<[UInt8]?>
    /// Background refreshes (stale-while-revalidate, early refresh): at most one per key here,
    /// and one fleet-wide through the lease.
    let refreshes: SingleFlight<Bool>
    let leases: LeaseStore?
    /// Copies of values in this process (`--near-cache`), kept coherent by Redis' invalidations.
    package let near: NearCache?
    let logger: Logger
    /// Redis outages, logged when they start and end, not once per request.
    let outage: RedisOutage

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
}
