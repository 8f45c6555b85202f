import CacheAside
import ServiceLifecycle

/// A client of the process — its connections, threads and timers — as a `Service` of the one
/// `ServiceGroup`: it runs until the group shuts down (gracefully, or by cancellation when a
/// service fails), then shuts the client down. A group stops its services in reverse order, so
/// a client listed before the server stops after it: the server's last requests still have
/// their clients, and nothing is left running when the group returns.
package struct ClientService: Service, CustomStringConvertible {
    package let description: String
    private let shutdown: @Sendable () async -> Void

    /// - Parameters:
    ///   - description: what ServiceLifecycle logs for it ("Redis client").
    ///   - shutdown: closes the client's connections and stops its threads.
    package init(_ description: String, shutdown: @escaping @Sendable () async -> Void) {
        self.description = description
        self.shutdown = shutdown
    }

    package func run() async throws {
        // Returns at a graceful shutdown, throws at a cancellation: either way the client stops.
        try? await gracefulShutdown()
        await stop()
    }

    /// Shuts the client down now (for a caller that runs no group).
    package func stop() async {
        await shutdown()
    }
}

/// `--near-cache`: feeds Redis' invalidation reports into the near cache while the group runs
/// (``CacheAside/keepNearCacheCoherent(prefixes:)``), so the near cache serves only what Redis
/// still holds; it stops first, before the Redis client it listens through.
struct NearCacheCoherence: Service, CustomStringConvertible {
    let cache: CacheAside
    let prefixes: [String]
    var description: String { "near-cache coherence" }

    func run() async throws {
        await cancelWhenGracefulShutdown { [cache, prefixes] in await cache.keepNearCacheCoherent(prefixes: prefixes) }
        // Ended on its own (it only should when cancelled): a service that returns would stop
        // the whole group, so wait for the group's own end instead.
        try? await gracefulShutdown()
    }
}
