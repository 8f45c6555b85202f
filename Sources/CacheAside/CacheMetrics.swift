import Synchronization
import Telemetry

/// Counts of what the cache did, readable at once (for `/stats`) and exported as Prometheus
/// families (for `/metrics`).
///
/// `cacheload_cache_lookups_total{result}` has one series per result — `hit`, `miss`, `bypass`,
/// `error`, `negative_hit` — so the hit ratio is `hit / (hit + miss)` in PromQL as well as here.
package final class CacheMetrics: Sendable {
    /// A point-in-time copy of the counters.
    package struct Snapshot: Sendable, Equatable {
        package var hits: Int
        package var misses: Int
        package var bypasses: Int
        package var errors: Int
        package var negativeHits: Int
        package var singleFlightWaits: Int
        package var fills: Int
        package var stale: Int = 0
        package var earlyRefreshes: Int = 0
        package var leaseWaits: Int = 0
        /// Renewals of held leases while slow origin loads ran.
        package var leaseRenewals: Int = 0
        /// Fills stored after their lease expired unrenewed (Redis did not answer) with nobody else's value there.
        package var fillsAfterLeaseExpiry: Int = 0
        /// Cache values that were no entry this version writes: treated as misses and overwritten.
        package var unreadableEntries: Int = 0
        package var leaseTimeouts: Int = 0
        package var fillsDropped: Int = 0
        package var writesRaced: Int = 0
        /// Hits answered from the near cache (`X-Cache-Tier: near`; Redis saw no lookup).
        package var nearHits: Int = 0
        /// Near copies dropped because Redis reported their key changed, and whole flushes
        /// (a `FLUSHALL`, or the invalidation connection lost).
        package var nearInvalidations: Int = 0
        package var nearFlushes: Int = 0

        /// Hits Redis itself answered: what its `keyspace_hits` counts.
        package var redisHits: Int { hits - nearHits }

        /// `hits / (hits + misses)`, or `nil` before any cached lookup.
        package var hitRatio: Double? {
            hits + misses == 0 ? nil : Double(hits) / Double(hits + misses)
        }
    }

    private let hits = Atomic<Int>(0)
    private let misses = Atomic<Int>(0)
    private let bypasses = Atomic<Int>(0)
    private let errors = Atomic<Int>(0)
    private let negativeHits = Atomic<Int>(0)
    private let singleFlightWaits = Atomic<Int>(0)
    private let fills = Atomic<Int>(0)
    private let stales = Atomic<Int>(0)
    private let earlyRefreshes = Atomic<Int>(0)
    private let leaseWaits = Atomic<Int>(0)
    private let leaseTimeouts = Atomic<Int>(0)
    private let fillsDropped = Atomic<Int>(0)
    private let leaseRenewals = Atomic<Int>(0)
    private let fillsAfterLeaseExpiry = Atomic<Int>(0)
    private let unreadableEntries = Atomic<Int>(0)
    private let writesRaced = Atomic<Int>(0)
    private let nearHits = Atomic<Int>(0)
    private let nearInvalidations = Atomic<Int>(0)
    private let nearFlushes = Atomic<Int>(0)

    private let hitCounter, missCounter, bypassCounter, errorCounter, negativeHitCounter: Counter
    private let waitCounter, fillCounter: Counter
    private let staleCounter, earlyRefreshCounter, leaseWaitCounter, leaseTimeoutCounter, fillDroppedCounter, writeRacedCounter: Counter
    private let nearHitCounter, redisHitCounter, nearInvalidationCounter, nearFlushCounter: Counter
    private let leaseRenewalCounter, fillAfterExpiryCounter, unreadableCounter: Counter

    /// Registers the cache families in `registry`.
    package init(registry: MetricsRegistry) {
        let help = "Cache lookups by result: hit, miss, bypass (cache off or unavailable), error (cache command failed), negative_hit (cached not-found)."
        hitCounter = registry.counter("cache_lookups", help: help, labels: [("result", "hit")])
        missCounter = registry.counter("cache_lookups", help: help, labels: [("result", "miss")])
        bypassCounter = registry.counter("cache_lookups", help: help, labels: [("result", "bypass")])
        errorCounter = registry.counter("cache_lookups", help: help, labels: [("result", "error")])
        negativeHitCounter = registry.counter("cache_lookups", help: help, labels: [("result", "negative_hit")])
        waitCounter = registry.counter("single_flight_waits", help: "Lookups that waited for another request's origin load of the same key instead of querying the origin.")
        fillCounter = registry.counter("cache_fills", help: "Values written to the cache after an origin load, write-through or warm-up.")
        staleCounter = registry.counter("cache_lookups", help: help, labels: [("result", "stale")])
        earlyRefreshCounter = registry.counter("cache_early_refreshes", help: "Hits that started a refresh before the value expired (--early-refresh, XFetch).")
        leaseWaitCounter = registry.counter("cache_lease_waits", help: "Polls of a miss waiting for another instance's lease holder to fill the key.")
        leaseTimeoutCounter = registry.counter("cache_lease_timeouts", help: "Misses that waited past the lease wait for another holder and loaded from the origin themselves.")
        writeRacedCounter = registry.counter("cache_write_races", help: "Write-throughs that found the row changed by another writer once stored, and invalidated the key.")
        let tierHelp = "Hits by the tier that answered: near (this process's near cache, --near-cache) or redis."
        nearHitCounter = registry.counter("cache_hits", help: tierHelp, labels: [("tier", "near")])
        redisHitCounter = registry.counter("cache_hits", help: tierHelp, labels: [("tier", "redis")])
        nearInvalidationCounter = registry.counter("near_cache_invalidations", help: "Near-cache copies dropped because Redis reported their key changed, expired or evicted.")
        nearFlushCounter = registry.counter("near_cache_flushes", help: "Times the whole near cache was dropped: FLUSHALL, or the invalidation connection lost.")
        leaseRenewalCounter = registry.counter("cache_lease_renewals", help: "Renewals of a held lease while its origin load ran longer than a third of --lease-time.")
        fillAfterExpiryCounter = registry.counter("cache_fills_after_lease_expiry", help: "Fills stored after their lease expired unrenewed (Redis did not answer a renewal) because nobody else had filled or written the key.")
        unreadableCounter = registry.counter("cache_entries_unreadable", help: "Cache values that were not an entry this version writes (another program's data, another format): served as misses and overwritten.")
        fillDroppedCounter = registry.counter("cache_fills_dropped", help: "Fills refused because a write or invalidation ended their lease after the origin was read (stale fills prevented).")
    }

    package var snapshot: Snapshot {
        Snapshot(
            hits: hits.load(ordering: .relaxed), misses: misses.load(ordering: .relaxed),
            bypasses: bypasses.load(ordering: .relaxed), errors: errors.load(ordering: .relaxed),
            negativeHits: negativeHits.load(ordering: .relaxed),
            singleFlightWaits: singleFlightWaits.load(ordering: .relaxed), fills: fills.load(ordering: .relaxed),
            stale: stales.load(ordering: .relaxed), earlyRefreshes: earlyRefreshes.load(ordering: .relaxed),
            leaseWaits: leaseWaits.load(ordering: .relaxed), leaseRenewals: leaseRenewals.load(ordering: .relaxed),
            fillsAfterLeaseExpiry: fillsAfterLeaseExpiry.load(ordering: .relaxed),
            unreadableEntries: unreadableEntries.load(ordering: .relaxed), leaseTimeouts: leaseTimeouts.load(ordering: .relaxed),
            fillsDropped: fillsDropped.load(ordering: .relaxed), writesRaced: writesRaced.load(ordering: .relaxed),
            nearHits: nearHits.load(ordering: .relaxed), nearInvalidations: nearInvalidations.load(ordering: .relaxed),
            nearFlushes: nearFlushes.load(ordering: .relaxed))
    }

    func hit(negative: Bool, tier: CacheTier = .redis) {
        hits.add(1, ordering: .relaxed)
        hitCounter.increment()
        if tier == .near {
            nearHits.add(1, ordering: .relaxed)
            nearHitCounter.increment()
        } else {
            redisHitCounter.increment()
        }
        if negative {
            negativeHits.add(1, ordering: .relaxed)
            negativeHitCounter.increment()
        }
    }

    func miss() {
        misses.add(1, ordering: .relaxed)
        missCounter.increment()
    }

    func bypass() {
        bypasses.add(1, ordering: .relaxed)
        bypassCounter.increment()
    }

    func error() {
        errors.add(1, ordering: .relaxed)
        errorCounter.increment()
    }

    func singleFlightWait() {
        singleFlightWaits.add(1, ordering: .relaxed)
        waitCounter.increment()
    }

    func fill() {
        fills.add(1, ordering: .relaxed)
        fillCounter.increment()
    }

    func stale() {
        stales.add(1, ordering: .relaxed)
        staleCounter.increment()
    }

    func earlyRefresh() {
        earlyRefreshes.add(1, ordering: .relaxed)
        earlyRefreshCounter.increment()
    }

    func leaseWait() {
        leaseWaits.add(1, ordering: .relaxed)
        leaseWaitCounter.increment()
    }

    func leaseTimeout() {
        leaseTimeouts.add(1, ordering: .relaxed)
        leaseTimeoutCounter.increment()
    }

    func leaseRenewed() {
        leaseRenewals.add(1, ordering: .relaxed)
        leaseRenewalCounter.increment()
    }

    func fillAfterLeaseExpiry() {
        fillsAfterLeaseExpiry.add(1, ordering: .relaxed)
        fillAfterExpiryCounter.increment()
    }

    func unreadableEntry() {
        unreadableEntries.add(1, ordering: .relaxed)
        unreadableCounter.increment()
    }

    func fillDropped() {
        fillsDropped.add(1, ordering: .relaxed)
        fillDroppedCounter.increment()
    }

    package func nearInvalidated(_ count: Int) {
        nearInvalidations.add(count, ordering: .relaxed)
        nearInvalidationCounter.increment(by: Int64(count))
    }

    package func nearFlushed() {
        nearFlushes.add(1, ordering: .relaxed)
        nearFlushCounter.increment()
    }

    func writeRaced() {
        writesRaced.add(1, ordering: .relaxed)
        writeRacedCounter.increment()
    }
}
