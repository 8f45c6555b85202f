/// Turns readings of cumulative counters kept elsewhere (Redis `INFO` `keyspace_hits`, a
/// server's `/stats`) into increases between readings.
///
/// The first reading of a counter only sets its baseline: the counter's lifetime total is not an
/// increase, and sending it as one (a CloudWatch datum of 1.4 million hits in a quiet second)
/// would be a wrong number. A reading below the previous one means the counter restarted (a Redis
/// restart, `CONFIG RESETSTAT`): the new reading is then the increase since the restart, as
/// Prometheus' `rate()` treats a reset, and the reset is counted.
package struct CounterBaseline<Key: Hashable & Sendable>: Sendable {
    private var last: [Key: Int] = [:]
    /// Readings that went backwards.
    package private(set) var resets = 0

    package init() {}

    /// The increase of `key` since its previous reading; `nil` for its first reading.
    package mutating func increase(_ key: Key, reading now: Int) -> Int? {
        defer { last[key] = now }
        guard let before = last[key] else { return nil }
        guard now >= before else {
            resets += 1
            return now
        }
        return now - before
    }
}
