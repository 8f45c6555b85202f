import NIOCore

/// Where an answer came from, as the `X-Cache` header reports it.
package enum CacheStatus: String, Sendable {
    /// Found in the cache (including a cached "not found").
    case hit = "HIT"
    /// Not in the cache: loaded from the origin and stored.
    case miss = "MISS"
    /// The cache was skipped — switched off, down or too slow — and the origin answered.
    case bypass = "BYPASS"
    /// Found past its TTL but within `--stale-while-revalidate`: served while one refresh runs.
    case stale = "STALE"
}

/// Which cache answered a hit, as the `X-Cache-Tier` header reports it.
package enum CacheTier: String, Sendable {
    /// This process's near cache (`--near-cache`): no Redis round trip.
    case near
    /// Redis.
    case redis
}

/// The outcome of a cache-aside lookup.
package struct CacheResult: Sendable {
    /// The value, or `nil` when the origin has no such item.
    package let value: ByteBuffer?
    /// Where the answer came from.
    package let status: CacheStatus
    /// For a hit or a stale answer, which cache held it.
    package let tier: CacheTier?

    package init(value: ByteBuffer?, status: CacheStatus, tier: CacheTier? = nil) {
        self.value = value
        self.status = status
        self.tier = tier
    }
}

/// Why a lookup could not produce an answer at all.
package struct CacheAsideError: Error, Sendable, CustomStringConvertible {
    package enum Reason: Sendable {
        /// The origin failed (PostgreSQL down, S3 unreachable) and the cache had no copy.
        case originUnavailable
        /// Another request was loading this key and did not finish within the wait bound.
        case singleFlightTimeout
    }

    package let reason: Reason
    package let message: String

    package init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    package var description: String { message }
}
