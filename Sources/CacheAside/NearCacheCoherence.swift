import Logging
import Redis

// The near cache's coherence driver: Redis' invalidation reports applied to the copies.
extension CacheAside {
    /// Runs Redis' invalidation reports into the near cache until the task is cancelled: copies
    /// are served only while reports arrive; a lost report connection drops every copy at once
    /// and they are taken again once it is back; a server refusing tracking leaves the near cache
    /// off (logged once). Returns at once without a near cache.
    package func keepNearCacheCoherent(prefixes: [String]) async {
        guard let near else { return }
        let metrics = self.metrics, logger = self.logger
        let listener = RedisInvalidationListener(client: redis, prefixes: prefixes) { event in
            switch event {
            case .listening:
                near.resume()
                logger.info("near cache on: Redis reports changes to keys starting with \(prefixes.joined(separator: ", "))")
            case .invalidated(let keys):
                near.invalidate(keys)
                metrics.nearInvalidated(keys.count)
            case .flushed:
                near.flush(coherent: true)
                metrics.nearFlushed()
            case .lost(let reason):
                // Logged when it starts, not at every retry of a longer outage.
                if near.flush(coherent: false) {
                    metrics.nearFlushed()
                    logger.warning("near cache dropped and paused until invalidations are received again: \(reason)")
                }
            case .refused(let reason):
                near.flush(coherent: false)
                logger.error("near cache off: \(reason); serving from Redis only")
            }
        }
        await listener.run()
    }
}
