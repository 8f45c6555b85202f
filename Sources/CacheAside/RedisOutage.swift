import Logging
import Redis
import Synchronization

/// Whether Redis answers the cache's lookups, logged as outages, one per node: a warning when
/// a node's outage starts, a notice when it ends (with its length and the lookups answered
/// from the origin meanwhile). Two cluster shards failing one after the other are two outages,
/// each naming its node.
///
/// An outage ends only after a quiet second without failures from its node: with one cluster
/// shard down, or a standalone client sent `MOVED` for keys of other shards, lookups alternate
/// between working and failing, and a log line per change would flood as surely as a line per
/// request.
final class RedisOutage: Sendable {
    private struct Outage {
        var since: ContinuousClock.Instant
        var lastFailure: ContinuousClock.Instant
        var failures: Int
    }

    /// Read on every hit: the lock is taken only while an outage is in progress.
    private let inOutage = Atomic<Bool>(false)
    /// Outages in progress, by node (`host:port`; the client's URL when an error names none).
    private let outages = Mutex<[String: Outage]>([:])
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
        let node = (error as? RedisError)?.node
        let key = node ?? ""
        let starts = outages.withLock { outages -> Bool in
            guard outages[key] != nil else {
                outages[key] = Outage(since: now, lastFailure: now, failures: 1)
                return true
            }
            outages[key]?.failures += 1
            outages[key]?.lastFailure = now
            return false
        }
        guard starts else { return }
        inOutage.store(true, ordering: .relaxed)
        let at = node.map { " at \($0)" } ?? ""
        logger.warning("Redis is unavailable\(at); answering from the origin (X-Cache: BYPASS) until it is back",
                       metadata: ["redis": "\(redis)", "error": "\(error)"])
    }

    /// A lookup worked: ends every outage whose node has been quiet for a second.
    func answered() {
        guard inOutage.load(ordering: .relaxed) else { return }
        let now = ContinuousClock.now
        let ended = outages.withLock { outages -> [(String, Outage)] in
            let quiet = outages.filter { now - $0.value.lastFailure >= Self.quiet }
            for node in quiet.keys { outages[node] = nil }
            if outages.isEmpty { inOutage.store(false, ordering: .relaxed) }
            return quiet.sorted { $0.key < $1.key }
        }
        for (node, outage) in ended {
            let at = node.isEmpty ? "" : " at \(node)"
            logger.notice("Redis answers again\(at); caching resumed", metadata: [
                "redis": "\(redis)", "outage_ms": "\((now - outage.since) / .milliseconds(1))", "failed_lookups": "\(outage.failures)",
            ])
        }
    }
}
