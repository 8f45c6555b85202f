import Histogram

/// The run second by second, in bounded memory: the last ``TimeSeries/detailedSeconds`` seconds
/// keep their latency histograms; older seconds are folded — their counts and percentiles stay,
/// their histogram is added to the histogram of its wall-clock minute (what CloudWatch pushes
/// and what the HDR interval log writes for that part of the run). A second's histogram costs
/// about 25 KB; folded, a second costs about 200 bytes, so a day-long run holds a few tens of MB
/// instead of gigabytes.
///
/// The loops hand their seconds over once no answer to them can still arrive, and the engine
/// adds them here, so the per-second percentiles are exact across loops, folded or not.
package struct TimeSeries: Sendable {
    /// How many of the last seconds keep their histograms.
    package static let detailedSeconds = 60

    /// Unix seconds of second 0: the minute a second belongs to is a wall-clock minute.
    let startedAt: Double
    /// Dense: `seconds[n].second == n`.
    private(set) var seconds: [SecondSample]
    private(set) var minutes: [Int: MinuteSample]
    /// Seconds below this are folded.
    private var foldedBefore = 0

    package init(startedAt: Double, seconds: [SecondSample] = [], minutes: [MinuteSample] = []) {
        self.startedAt = startedAt
        self.seconds = []
        self.minutes = [:]
        add(seconds)
        for minute in minutes { add(minute) }
    }

    /// The minutes, in order.
    var orderedMinutes: [MinuteSample] { minutes.values.sorted { $0.minute < $1.minute } }

    /// Adds samples (from a loop, or from another result), second by second. A sample for a
    /// folded second is folded too: the counts add, the histogram goes to its minute.
    package mutating func add(_ samples: [SecondSample]) {
        for sample in samples where sample.second >= 0 {
            while seconds.count <= sample.second { seconds.append(SecondSample(second: seconds.count)) }
            var incoming = sample
            if seconds[sample.second].isFolded || incoming.isFolded || sample.second < foldedBefore {
                foldSecond(sample.second)
                fold(&incoming)
            }
            seconds[sample.second].merge(incoming)
        }
    }

    /// Adds a folded minute (from another result).
    mutating func add(_ minute: MinuteSample) {
        guard var existing = minutes[minute.minute] else { return minutes[minute.minute] = minute }
        existing.merge(minute)
        minutes[minute.minute] = existing
    }

    /// Folds every second before `second`.
    package mutating func fold(before second: Int) {
        while foldedBefore < min(second, seconds.count) {
            foldSecond(foldedBefore)
            foldedBefore += 1
        }
    }

    /// Folds all but the last ``detailedSeconds`` (or `keeping`) seconds.
    package mutating func foldAllButLast(_ keeping: Int = Self.detailedSeconds) {
        fold(before: seconds.count - keeping)
    }

    private mutating func foldSecond(_ second: Int) {
        var sample = seconds[second]
        fold(&sample)
        seconds[second] = sample
    }

    private mutating func fold(_ sample: inout SecondSample) {
        guard let histogram = sample.fold(), histogram.totalCount > 0 else { return }
        add(MinuteSample(minute: minute(of: sample.second), firstSecond: sample.second, lastSecond: sample.second, histogram: histogram))
    }

    /// The wall-clock minute (Unix seconds / 60) a second of the run falls in.
    func minute(of second: Int) -> Int {
        Int(((startedAt + Double(second)) / 60).rounded(.down))
    }
}

/// One second of the run: the time series behind the progress line and the HTML charts.
package struct SecondSample: Sendable, Codable {
    package var second: Int
    package var responses = 0
    package var errors = 0
    package var hits = 0
    package var misses = 0
    /// Answers the server gave without its cache (`X-Cache: BYPASS`): the cache was unreachable.
    package var bypasses = 0
    /// Cached "not found" answers (`X-Cache: HIT` with a 4xx status), not counted in ``hits``.
    package var negativeHits = 0
    /// This second's latency (µs, from the intended start), 2 significant digits; `nil` once the
    /// second is folded into its minute (``TimeSeries``), when ``p50`` and ``p99`` stay.
    package var histogram: Histogram<UInt64>? = SecondSample.makeHistogram()
    /// A folded second's percentiles (ms), taken from its histogram as it was folded.
    private var foldedP50: Double?
    private var foldedP99: Double?

    init(second: Int) { self.second = second }

    static func makeHistogram() -> Histogram<UInt64> {
        Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .two)
    }

    /// Whether the histogram was folded into its minute.
    var isFolded: Bool { histogram == nil }

    mutating func record(microseconds: UInt64, cache: CacheOutcome, status: Int) {
        responses += 1
        if status >= 500 { errors += 1 }
        switch cache {
        case .hit where status >= 400: negativeHits += 1
        case .hit, .stale, .revalidated: hits += 1
        case .miss: misses += 1
        case .bypass: bypasses += 1
        case .none, .error, .unknown: break
        }
        if histogram == nil { histogram = Self.makeHistogram() }
        _ = histogram?.record(microseconds)
    }

    /// Keeps the percentiles and gives up the histogram (`nil` when already folded).
    mutating func fold() -> Histogram<UInt64>? {
        guard let histogram else { return nil }
        (foldedP50, foldedP99) = (p50, p99)
        self.histogram = nil
        return histogram
    }

    /// Adds another sample of the same second. With both histograms the sum is exact; when
    /// either was folded (results merged from several machines), p50 is the two medians weighted
    /// by their answers and p99 the higher of the two.
    mutating func merge(_ other: SecondSample) {
        if var mine = histogram, let theirs = other.histogram {
            mine.add(theirs)
            histogram = mine
        } else if other.responses > 0 {
            let weight = Double(other.responses) / Double(responses + other.responses)
            (foldedP50, foldedP99) = (p50 * (1 - weight) + other.p50 * weight, max(p99, other.p99))
            histogram = nil
        }
        responses += other.responses; errors += other.errors; hits += other.hits; misses += other.misses
        bypasses += other.bypasses; negativeHits += other.negativeHits
    }

    /// Calls `body` with each distinct recorded latency (microseconds) and how often it occurred.
    package func forEachLatency(_ body: (_ microseconds: UInt64, _ count: UInt64) -> Void) {
        guard let histogram else { return }
        for value in histogram.recordedValues() where value.count > 0 {
            body(value.value, UInt64(value.count))
        }
    }

    /// Median latency of the second, in milliseconds.
    package var p50: Double { percentile(50) ?? foldedP50 ?? 0 }
    /// 99th percentile latency of the second, in milliseconds.
    package var p99: Double { percentile(99) ?? foldedP99 ?? 0 }
    /// Hit ratio of the second, or `nil` without cached responses.
    package var hitRatio: Double? { hits + misses == 0 ? nil : Double(hits) / Double(hits + misses) }

    private func percentile(_ percentile: Double) -> Double? {
        guard let histogram else { return nil }
        return responses == 0 ? 0 : Double(histogram.valueAtPercentile(percentile)) / 1000
    }
}

/// The folded seconds of one wall-clock minute: their latency histogram and which seconds of
/// the run they were.
package struct MinuteSample: Sendable, Codable {
    /// Unix seconds / 60.
    package var minute: Int
    /// The first and last second of the run folded into it.
    package var firstSecond: Int
    package var lastSecond: Int
    package var histogram: Histogram<UInt64>

    mutating func merge(_ other: MinuteSample) {
        firstSecond = min(firstSecond, other.firstSecond)
        lastSecond = max(lastSecond, other.lastSecond)
        histogram.add(other.histogram)
    }
}
