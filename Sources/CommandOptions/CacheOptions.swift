import ArgumentParser
import Server
import CacheAside
import Telemetry

/// `serve`'s cache flags — TTLs, on/off, leases, stale-while-revalidate, early refresh — and the
/// ``CacheAside/Configuration`` they make.
package struct CacheOptions: ParsableArguments {
    package init() {}

    @Option(help: ArgumentHelp("Cache on, or off to serve every request from the origin database.", valueName: "on|off"))
    package var cache: String = "on"

    @Option(help: ArgumentHelp("Time to live of cached products: seconds, or a duration (1h).", valueName: "seconds"))
    package var ttl = WholeSeconds(3600)

    @Option(help: "TTL jitter as a fraction of --ttl (0.1 = ±10%), so keys filled together expire apart.")
    package var ttlJitter: Double = 0.1

    @Option(help: ArgumentHelp("Time to live of a cached 'not found': seconds, or a duration (30s).", valueName: "seconds"))
    package var negativeTtl = WholeSeconds(30)

    @Option(help: ArgumentHelp("Time to live of the slow page GET /: seconds, or a duration (10s).", valueName: "seconds"))
    package var slowPageTtl = WholeSeconds(10)

    @Option(help: ArgumentHelp(
        "Leases in Redis: one origin query per key across every instance sharing the cache, and no fill of a value read before a write.",
        valueName: "on|off"))
    package var leases: String = "on"

    @Option(help: ArgumentHelp("How long a lease lives unrenewed: its holder renews it every third of this while its origin load runs, so a slow origin keeps its lease; a crashed holder delays the key's waiters at most this long.", valueName: "duration"))
    package var leaseTime: String = "2s"

    @Option(help: ArgumentHelp("The longest an origin load may take: PostgreSQL's statement timeout, and how long a request waits for another request's (or another instance's) load of the same key before answering 503. Above the slowest origin query you expect (slow_version() sleeps 10 s by default).", valueName: "duration"))
    package var originTimeout: String = "30s"

    // .unconditional: "-1" is taken as the value (and refused with its reason), not as a flag.
    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Serve an entry up to this long past its TTL (seconds, or a duration: 30s) with X-Cache: STALE while one refresh runs: no stampede and no wait at expiry, at the price of answers that old. Off by default.",
        valueName: "seconds"))
    package var staleWhileRevalidate: WholeSeconds?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "XFetch's beta: hits refresh a key before it expires, with a probability that grows near expiry and with the key's load time (1 is the paper's choice; 2 refreshes earlier). Off by default.",
        valueName: "beta"))
    package var earlyRefresh: Double?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Keep up to this many recently read values in this process: a hit without a Redis round trip (X-Cache-Tier: near). Coherent: Redis reports every change (CLIENT TRACKING) and the copy is dropped. Off by default.",
        valueName: "entries"))
    package var nearCache: Int?

    @Option(help: ArgumentHelp("The near cache's memory bound in bytes of values (64MiB by default; 64MB, 512KiB, …); needs --near-cache.", valueName: "size"))
    package var nearCacheBytes: String?

    package func validate() throws {
        guard ["on", "off"].contains(cache) else { throw ValidationError("--cache must be on or off, not \"\(cache)\"") }
        guard ["on", "off"].contains(leases) else { throw ValidationError("--leases must be on or off, not \"\(leases)\"") }
        guard ttl.seconds >= 1 else { throw ValidationError("--ttl must be at least 1 second") }
        guard (0...1).contains(ttlJitter) else { throw ValidationError("--ttl-jitter must be between 0 and 1") }
        guard negativeTtl.seconds >= 1, slowPageTtl.seconds >= 1 else { throw ValidationError("TTLs must be at least 1 second") }
        _ = try leaseDuration()
        _ = try originTimeoutDuration()
        if let staleWhileRevalidate, staleWhileRevalidate.seconds < 1 {
            throw ValidationError("--stale-while-revalidate \(staleWhileRevalidate): expected at least 1 second (leave it out to turn it off)")
        }
        if let earlyRefresh, !(earlyRefresh > 0 && earlyRefresh <= 1_000_000) {
            throw ValidationError("--early-refresh \(earlyRefresh): expected a beta above 0 and at most 1000000, such as 1 (leave it out to turn it off)")
        }
        if let nearCache, nearCache < 1 {
            throw ValidationError("--near-cache \(nearCache): expected a number of entries ≥ 1, such as 10000 (leave it out to turn it off)")
        }
        _ = try nearCacheByteLimit()
        if nearCache == nil, nearCacheBytes != nil {
            throw ValidationError("--near-cache-bytes bounds the near cache, which is off: give --near-cache ENTRIES too")
        }
    }

    private func leaseDuration() throws -> Duration {
        guard let duration = try? DurationText.parse(leaseTime, option: "--lease-time"),
              duration >= .milliseconds(50), duration <= .seconds(60) else {
            throw ValidationError("--lease-time \"\(leaseTime)\": expected a duration from 50ms to 60s, such as 2s")
        }
        return duration
    }

    private func originTimeoutDuration() throws -> Duration {
        guard let duration = try? DurationText.parse(originTimeout, option: "--origin-timeout"),
              duration >= .milliseconds(100), duration <= .seconds(3600) else {
            throw ValidationError("--origin-timeout \"\(originTimeout)\": expected a duration from 100ms to 1h, such as 30s")
        }
        return duration
    }

    private func nearCacheByteLimit() throws -> Int {
        try usage { () throws(OptionValueError) in try SizeText.parse(nearCacheBytes ?? "64MiB", option: "--near-cache-bytes", range: 1...(1 << 40)) }
    }

    /// The cache's configuration.
    package func configuration() throws -> CacheAside.Configuration {
        var configuration = CacheAside.Configuration(
            enabled: cache == "on", ttl: TTLPolicy(seconds: ttl.seconds, jitter: ttlJitter), negativeTTLSeconds: negativeTtl.seconds,
            loadTimeout: try originTimeoutDuration(), leaseTime: leases == "on" ? try leaseDuration() : nil, staleWhileRevalidateSeconds: staleWhileRevalidate?.seconds,
            earlyRefreshBeta: earlyRefresh)
        configuration.nearCache = try nearCache.map { NearCache.Limits(entries: $0, bytes: try nearCacheByteLimit()) }
        return configuration
    }

    /// The slow page's TTL (no jitter: one key).
    package var slowPageTTL: TTLPolicy { TTLPolicy(seconds: slowPageTtl.seconds, jitter: 0) }
}
