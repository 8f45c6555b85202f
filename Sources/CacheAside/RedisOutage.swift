import Logging
import Redis
import Synchronization

/// Whether Redis answers the cache's lookups, logged as an outage: one warning when it starts,
/// one notice when it ends (with its length and the lookups answered from the origin meanwhile).
///
/// An outage ends only after a quiet second without failures: with one cluster shard down, or
/// a standalone client sent `MOVED` for keys of other shards, lookups alternate between working
/// and failing, and a log line per change would flood as surely as a line per request.
final class RedisOutage: Sendable {
    private struct Outage {
        var since: ContinuousClock.Instant
        var lastFailure: ContinuousClock.Instant
        var failures: Int
    }

    /// Read on every hit: the lock is taken only while an outage is in progress.
    private let inOutage = Atomic<Bool>(false)
    private let outage = Mutex<Outage?>(nil)
    private let logger: Logger
    private let redis: RedisConfiguration
    static let quiet: Duration = .seconds(1)

    init(redis: RedisConfiguration, logger: Logger) {
        self.redis = redis
        self.logger = logger
    }

    /// A lookup failed.
    func failed(_ error: any Error) {
        let now = ContinuousClock.now
        let starts = outage.withLock { outage -> Bool in
            if outage != nil {
                outage!.failures += 1
                outage!.lastFailure = now
                return false
            }
            outage = Outage(since: now, lastFailure: now, failures: 1)
            return true
        }
        guard starts else { return }
        inOutage.store(true, ordering: .relaxed)
        logger.warning("Redis is unavailable; answering from the origin (X-Cache: BYPASS) until it is back",
                       metadata: ["redis": "\(redis)", "error": "\(error)"])
    }

    /// A lookup worked.
    func answered() {
        guard inOutage.load(ordering: .relaxed) else { return }
        let now = ContinuousClock.now
        let ended = outage.withLock { outage -> Outage? in
            guard let current = outage, now - current.lastFailure >= Self.quiet else { return nil }
            outage = nil
            return current
        }
        guard let ended else { return }
        inOutage.store(false, ordering: .relaxed)
        logger.notice("Redis answers again; caching resumed", metadata: [
            "redis": "\(redis)", "outage_ms": "\((now - ended.since) / .milliseconds(1))", "failed_lookups": "\(ended.failures)",
        ])
    }
}
