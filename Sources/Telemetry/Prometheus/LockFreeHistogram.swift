import Synchronization

/// A Prometheus duration histogram whose `record` takes no lock: one relaxed atomic add on the
/// value's own bucket and one on the sum. Cumulative counts are made when it is rendered.
///
/// swift-prometheus' histogram takes a lock and walks every bucket per observation; a request
/// path recording one per answer paid that on every hit.
package final class LockFreeHistogram: @unchecked Sendable {
    // @unchecked: `counts` is written only through its atomics after init, freed in deinit.
    /// Upper bounds in nanoseconds, ascending; one more slot counts what lies above the last.
    private let bounds: [Int64]
    private let counts: UnsafeMutablePointer<Atomic<Int>>
    private let sumNanoseconds = Atomic<Int64>(0)
    /// `name="value",…` of this series, rendered once.
    let labels: String

    init(bounds: [Duration], labels: String) {
        self.bounds = bounds.map { $0.nanoseconds }
        self.labels = labels
        counts = .allocate(capacity: bounds.count + 1)
        for index in 0...bounds.count { (counts + index).initialize(to: Atomic(0)) }
    }

    deinit {
        counts.deinitialize(count: bounds.count + 1)
        counts.deallocate()
    }

    /// Counts one observation.
    package func record(_ duration: Duration) {
        let nanoseconds = duration.nanoseconds
        var index = 0
        // 17 bounds: a linear scan that usually stops in the first few (hits are sub-millisecond).
        while index < bounds.count, nanoseconds > bounds[index] { index += 1 }
        counts[index].add(1, ordering: .relaxed)
        sumNanoseconds.add(nanoseconds, ordering: .relaxed)
    }

    /// The series' lines: cumulative `_bucket`s, `_sum` in seconds and `_count`.
    func render(name: String, boundTexts: [String], into text: inout String) {
        let prefix = labels.isEmpty ? "" : labels + ","
        var cumulative = 0
        for index in 0..<bounds.count {
            cumulative += counts[index].load(ordering: .relaxed)
            text += "\(name)_bucket{\(prefix)le=\"\(boundTexts[index])\"} \(cumulative)\n"
        }
        cumulative += counts[bounds.count].load(ordering: .relaxed)
        let series = labels.isEmpty ? "" : "{\(labels)}"
        text += "\(name)_bucket{\(prefix)le=\"+Inf\"} \(cumulative)\n"
        text += "\(name)_sum\(series) \(Double(sumNanoseconds.load(ordering: .relaxed)) / 1e9)\n"
        text += "\(name)_count\(series) \(cumulative)\n"
    }
}

/// A family of ``LockFreeHistogram`` series sharing a name, help and buckets: series are made
/// (under a lock) once per label set; callers keep them and record without one.
package final class LockFreeHistogramFamily: Sendable {
    let name: String
    let help: String
    private let bounds: [Duration]
    private let boundTexts: [String]
    private let series = Mutex<[String: LockFreeHistogram]>([:])

    init(name: String, help: String, bounds: [Duration]) {
        self.name = name
        self.help = help
        self.bounds = bounds
        boundTexts = bounds.map { "\(Double($0.nanoseconds) / 1e9)" }
    }

    /// The series of `labels` (made on first use).
    package func series(_ labels: [(String, String)]) -> LockFreeHistogram {
        let rendered = labels.map { "\($0.0)=\"\(Self.escaped($0.1))\"" }.joined(separator: ",")
        return series.withLock { series in
            if let existing = series[rendered] { return existing }
            let made = LockFreeHistogram(bounds: bounds, labels: rendered)
            series[rendered] = made
            return made
        }
    }

    func render(into text: inout String) {
        let all = series.withLock { Array($0.values) }.sorted { $0.labels < $1.labels }
        guard !all.isEmpty else { return }
        text += "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
        for histogram in all { histogram.render(name: name, boundTexts: boundTexts, into: &text) }
    }

    /// Label values escaped as the text format requires (backslash, quote, newline).
    private static func escaped(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }
}

extension Duration {
    /// Whole nanoseconds (clamped to Int64).
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds &* 1_000_000_000 &+ attoseconds / 1_000_000_000
    }
}
