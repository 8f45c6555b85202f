import Foundation
import Telemetry

/// Which key each request uses, drawn from a seeded generator so runs repeat exactly.
package enum KeyDistribution: Sendable, Equatable, CustomStringConvertible {
    /// Every key equally likely.
    case uniform
    /// Zipf with exponent `s` (0.99 is the classic web-cache skew): key rank r has weight 1/r^s.
    case zipf(Double)
    /// A fraction `keys` of the keys receives a fraction `requests` of the requests
    /// (`hotset:0.2:0.8` = 20% of keys get 80% of requests).
    case hotset(keys: Double, requests: Double)
    /// Keys in order, wrapping around.
    case sequential

    /// Parses `uniform`, `zipf:S`, `hotset:F:P`, `sequential`.
    package init(parsing text: String) throws(LoadOptionError) {
        let parts = text.lowercased().split(separator: ":", omittingEmptySubsequences: false)
        let expected = "expected uniform, sequential, zipf:S (S > 0, e.g. zipf:0.99) or hotset:F:P (0 < F, P < 1, e.g. hotset:0.2:0.8)"
        switch (parts.first ?? "", parts.count) {
        case ("uniform", 1): self = .uniform
        case ("sequential", 1): self = .sequential
        case ("zipf", 2):
            guard let s = Double(parts[1]), s > 0, s <= 10 else { throw LoadOptionError("--distribution \"\(text)\": \(expected)") }
            self = .zipf(s)
        case ("hotset", 3):
            guard let f = Double(parts[1]), let p = Double(parts[2]), f > 0, f < 1, p > 0, p < 1 else {
                throw LoadOptionError("--distribution \"\(text)\": \(expected)")
            }
            self = .hotset(keys: f, requests: p)
        default:
            throw LoadOptionError("--distribution \"\(text)\": \(expected)")
        }
    }

    package var description: String {
        switch self {
        case .uniform: "uniform"
        case .zipf(let s): "zipf:\(s)"
        case .hotset(let f, let p): "hotset:\(f):\(p)"
        case .sequential: "sequential"
        }
    }
}

/// Draws keys from a range according to a ``KeyDistribution``. One sampler per event loop:
/// not thread-safe, no locks, no allocation per draw.
struct KeySampler {
    private let lower: Int
    private let count: Int
    private let distribution: KeyDistribution
    private var generator: SplitMix64
    private var next = 0
    /// Zipf: cumulative weights by rank, searched by bisection.
    private let cumulative: [Double]

    init(keys: ClosedRange<Int>, distribution: KeyDistribution, seed: UInt64) {
        lower = keys.lowerBound
        count = keys.count
        self.distribution = distribution
        generator = SplitMix64(seed: seed)
        if case .zipf(let s) = distribution {
            var running = 0.0
            cumulative = (1...count).map { rank in
                running += 1 / pow(Double(rank), s)
                return running
            }
        } else {
            cumulative = []
        }
    }

    mutating func nextKey() -> Int {
        switch distribution {
        case .uniform:
            return lower + Int(generator.next() % UInt64(count))
        case .sequential:
            defer { next = (next + 1) % count }
            return lower + next
        case .zipf:
            let target = Double(generator.next() >> 11) / Double(1 << 53) * cumulative[cumulative.count - 1]
            var low = 0, high = cumulative.count - 1
            while low < high {
                let middle = (low + high) / 2
                if cumulative[middle] < target { low = middle + 1 } else { high = middle }
            }
            return lower + low
        case .hotset(let keyFraction, let requestFraction):
            let hot = max(1, min(count, Int((Double(count) * keyFraction).rounded())))
            let unit = Double(generator.next() >> 11) / Double(1 << 53)
            if unit < requestFraction || hot == count {
                return lower + Int(generator.next() % UInt64(hot))
            }
            return lower + hot + Int(generator.next() % UInt64(count - hot))
        }
    }
}

/// SplitMix64: tiny, fast, good enough for load shaping, and exactly repeatable from a seed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A command-line value the load generator cannot use; the message says what is expected.
package typealias LoadOptionError = OptionValueError
