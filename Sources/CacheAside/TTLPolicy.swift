/// How long entries live: a base TTL spread by random jitter, so keys filled together (after a
/// deploy, a flush, a warm-up) do not all expire in the same second and stampede the origin.
package struct TTLPolicy: Sendable, Equatable {
    /// Base time to live, in seconds.
    package var seconds: Int
    /// Fraction of `seconds` by which a TTL may vary either way: `0.1` gives 3600 ± 360 s.
    package var jitter: Double

    /// - Parameters:
    ///   - seconds: base TTL, at least 1.
    ///   - jitter: 0 (none) to 1 (anywhere from 1 s to twice the base).
    package init(seconds: Int, jitter: Double = 0.1) {
        self.seconds = max(1, seconds)
        self.jitter = min(max(jitter, 0), 1)
    }

    /// A TTL for one entry, drawn from `seconds ± jitter`.
    package func next<G: RandomNumberGenerator>(using generator: inout G) -> Int {
        let spread = Int((Double(seconds) * jitter).rounded())
        guard spread > 0 else { return seconds }
        return max(1, seconds + Int.random(in: -spread...spread, using: &generator))
    }

    /// A TTL for one entry, from the system generator.
    package func next() -> Int {
        var generator = SystemRandomNumberGenerator()
        return next(using: &generator)
    }
}
