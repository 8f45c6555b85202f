import Foundation

/// Probabilistic early recomputation — XFetch (Vattani, Chierichetti and Lowenstein, "Optimal
/// Probabilistic Cache Stampede Prevention", VLDB 2015): a read refreshes the value when
/// `now − δ·β·ln(U) ≥ expiry`, `U` uniform in (0, 1], `δ` the time its load took. Far from
/// expiry that almost never happens; close to it, one of the many readers of a hot key does it
/// first, so the key is reloaded once before it expires instead of by everyone after.
enum XFetch {
    static func refreshesEarly(now: Int64, freshness: CacheEntry.Freshness, beta: Double,
                               uniform: Double = Double.random(in: Double.leastNonzeroMagnitude...1)) -> Bool {
        let delta = Double(max(1, freshness.loadMilliseconds))
        return Double(now) - delta * beta * log(uniform) >= Double(freshness.freshUntil)
    }
}
