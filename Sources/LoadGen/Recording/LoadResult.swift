import Foundation
import Histogram

/// Everything a run measured, serialisable to JSON (HDR histograms included, so results from
/// several machines merge exactly).
package struct LoadResult: Sendable, Codable {
    package var url: String
    package var connections: Int
    /// HTTP/2: requests in flight per connection (`--streams`); absent for 1.
    package var streams: Int?
    package var targetRate: Double?
    /// The rate ramped through `--stages` (``targetRate`` is then their average); absent in
    /// results written before it was recorded.
    package var staged: Bool?
    /// After a merge of closed-loop and constant-rate results: `true` (``targetRate`` is then
    /// absent — no one rate was asked of the whole).
    package var mixedSchedules: Bool?
    /// Stages: the rate the schedule asked for in each measured second (the ramp the HTML report
    /// draws); absent at a constant rate, in closed loop, and in results written before it.
    package var scheduledRates: [Double]?
    package var distribution: String
    package var keys: String
    /// Measured time (warm-up excluded), in seconds.
    package var durationSeconds: Double
    package var interrupted: Bool
    package var counts: LoadCounts
    /// The run second by second; seconds before the last minute are folded (``TimeSeries``):
    /// their percentiles stay, their histograms are in ``minutes``.
    package var seconds: [SecondSample]
    /// The folded seconds' histograms, one per wall-clock minute; absent when nothing was
    /// folded (a run of a minute or less, and results written before folding).
    package var minutes: [MinuteSample]?
    package var latency: Histogram<UInt64>
    package var hitLatency: Histogram<UInt64>
    package var missLatency: Histogram<UInt64>
    /// Constant rate and stages: latency from the actual send (uncorrected); `nil` in closed loop,
    /// where it equals ``latency``, and in results written before it was recorded.
    package var uncorrectedLatency: Histogram<UInt64>?
    /// Which part of a split run this is (`2/3`); `nil` for a whole run (or a merge).
    package var segment: LoadSegment?
    /// The whole plan's identity: results of one split run share it.
    package var planID: String?
    /// When sending began, Unix seconds; after a merge, the earliest segment's.
    package var startedAt: Double?
    /// After a merge: the segments merged, and how far apart they started (seconds).
    package var mergedSegments: [LoadSegment]?
    package var startSkewSeconds: Double?
    /// Several targets: each one's counts and latency (from the intended start); `nil` for one.
    package var targets: [TargetResult]?
    /// Where the cache outcome was looked for (`--cache-status`: `auto`, `header:NAME`, …);
    /// absent in results written before it was asked.
    package var cacheStatus: String?
    /// Answers by where their cache outcome was read (`X-Cache`, `CF-Cache-Status`, `JSON field
    /// cache_status`, …); absent when no answer stated one.
    package var cacheSources: [String: Int]?
    /// Answers by how many caches their value listed (RFC 9211 lists, Fastly, Akamai).
    package var cacheHops: [String: Int]?
    /// Up to five values no vocabulary knew.
    package var unknownCacheValues: [String]?

    /// One target's share of a run against several.
    package struct TargetResult: Sendable, Codable {
        package var url: String
        package var connections: Int
        package var counts: LoadCounts
        package var latency: Histogram<UInt64>

        /// `hits / (hits + misses)` at this target, or `nil` without any.
        package var hitRatio: Double? {
            counts.hits + counts.misses == 0 ? nil : Double(counts.hits) / Double(counts.hits + counts.misses)
        }

        /// Latency at a percentile, in milliseconds.
        package func milliseconds(atPercentile percentile: Double) -> Double {
            counts.completed == 0 ? 0 : Double(latency.valueAtPercentile(percentile)) / 1000
        }
    }

    init(plan: LoadPlan, recorder: Recorder, series: TimeSeries, duration: Duration, interrupted: Bool) {
        url = plan.targets.count == 1 ? plan.template.url : "\(plan.template.url) and \(plan.targets.count - 1) more"
        connections = plan.connections
        streams = plan.streams > 1 ? plan.streams : nil
        let measured = duration / .seconds(1)
        // Stages: the average rate their schedule asked for over the measured time.
        // A segment's target is its share of the schedule.
        let share = Double(plan.segment?.count ?? 1)
        targetRate = plan.schedule.map { $0.expectedCount(within: measured) / max(measured, 1e-9) / share }
        staged = plan.schedule?.duration != nil
        if let schedule = plan.schedule, schedule.duration != nil {
            let warmup = plan.warmup / .seconds(1)
            scheduledRates = (0..<Int(measured.rounded(.up))).map { second in
                (schedule.expectedCount(within: warmup + Double(second + 1)) - schedule.expectedCount(within: warmup + Double(second))) / share
            }
        }
        distribution = plan.distribution.description
        keys = "\(plan.keys.lowerBound)-\(plan.keys.upperBound)"
        durationSeconds = measured
        self.interrupted = interrupted
        counts = recorder.counts
        seconds = series.seconds
        minutes = series.minutes.isEmpty ? nil : series.orderedMinutes
        latency = recorder.latency
        hitLatency = recorder.hitLatency
        missLatency = recorder.missLatency
        uncorrectedLatency = plan.schedule == nil ? nil : recorder.uncorrectedLatency
        segment = plan.segment
        planID = plan.planID
        cacheStatus = plan.cacheStatus.description
        var sources: [String: Int] = [:]
        for origin in CacheStatusOrigin.allCases where origin != .nothing && recorder.cacheSources[Int(origin.rawValue)] > 0 {
            sources[origin.name(for: plan.cacheStatus)] = recorder.cacheSources[Int(origin.rawValue)]
        }
        cacheSources = sources.isEmpty ? nil : sources
        var hops: [String: Int] = [:]
        for (count, answers) in recorder.cacheHops.enumerated() where answers > 0 { hops[count == 8 ? "8+" : "\(count)"] = answers }
        cacheHops = hops.isEmpty ? nil : hops
        unknownCacheValues = recorder.unknownCacheValues.isEmpty ? nil : recorder.unknownCacheValues
        if !recorder.targets.isEmpty {
            targets = zip(plan.targets, recorder.targets).enumerated().map { index, pair in
                TargetResult(url: pair.0.url, connections: (plan.connections - index + plan.targets.count - 1) / plan.targets.count,
                             counts: pair.1.counts, latency: pair.1.latency)
            }
        }
    }

    /// Responses per second over the measured time.
    package var achievedRate: Double { Double(counts.completed) / max(durationSeconds, 1e-9) }

    /// Hit ratio seen by the client from `X-Cache`: hits / (hits + misses), or `nil` without any.
    package var hitRatio: Double? {
        counts.hits + counts.misses == 0 ? nil : Double(counts.hits) / Double(counts.hits + counts.misses)
    }

    /// Mean latency, in milliseconds.
    package var meanLatencyMilliseconds: Double { counts.completed == 0 ? 0 : latency.mean / 1000 }

    /// Latency at a percentile, in milliseconds.
    package func latencyMilliseconds(atPercentile percentile: Double) -> Double {
        counts.completed == 0 ? 0 : Double(latency.valueAtPercentile(percentile)) / 1000
    }

    /// Combines results of runs against the same target (several machines): counts add up,
    /// histograms merge exactly, time series add second by second (folded seconds' percentiles
    /// approximately: ``SecondSample/merge(_:)``), folded minutes by wall-clock minute.
    package mutating func merge(_ other: LoadResult) {
        counts.merge(other.counts)
        // A closed-loop part's uncorrected latency is its latency: a merge with an open-loop part
        // adds that, so the uncorrected percentiles are the whole run's, not one part's.
        if uncorrectedLatency != nil || other.uncorrectedLatency != nil {
            var uncorrected = uncorrectedLatency ?? latency
            uncorrected.add(other.uncorrectedLatency ?? other.latency)
            uncorrectedLatency = uncorrected
        }
        latency.add(other.latency)
        hitLatency.add(other.hitLatency)
        missLatency.add(other.missLatency)
        durationSeconds = max(durationSeconds, other.durationSeconds)
        connections += other.connections
        if let mine = scheduledRates, let theirs = other.scheduledRates {
            scheduledRates = (0..<max(mine.count, theirs.count)).map { (mine.indices.contains($0) ? mine[$0] : 0) + (theirs.indices.contains($0) ? theirs[$0] : 0) }
        } else {
            scheduledRates = nil
        }
        if (targetRate == nil) != (other.targetRate == nil) || mixedSchedules == true || other.mixedSchedules == true {
            mixedSchedules = true
            targetRate = nil
        } else if let rate = targetRate, let otherRate = other.targetRate {
            targetRate = rate + otherRate
        }
        var series = TimeSeries(startedAt: startedAt ?? 0, seconds: seconds, minutes: minutes ?? [])
        series.add(other.seconds)
        for minute in other.minutes ?? [] { series.add(minute) }
        seconds = series.seconds
        minutes = series.minutes.isEmpty ? nil : series.orderedMinutes
        interrupted = interrupted || other.interrupted
        if let theirs = other.cacheStatus, theirs != cacheStatus { cacheStatus = cacheStatus.map { "\($0), \(theirs)" } ?? theirs }
        cacheSources = Self.adding(cacheSources, other.cacheSources)
        cacheHops = Self.adding(cacheHops, other.cacheHops)
        if let theirs = other.unknownCacheValues {
            var examples = unknownCacheValues ?? []
            Recorder.addExamples(theirs, to: &examples)
            unknownCacheValues = examples
        }
        if let theirs = other.targets {
            var merged = targets ?? []
            for target in theirs {
                if let index = merged.firstIndex(where: { $0.url == target.url }) {
                    merged[index].counts.merge(target.counts)
                    merged[index].latency.add(target.latency)
                    merged[index].connections += target.connections
                } else {
                    merged.append(target)
                }
            }
            targets = merged
        }
    }

    private static func adding(_ mine: [String: Int]?, _ theirs: [String: Int]?) -> [String: Int]? {
        guard let theirs else { return mine }
        return (mine ?? [:]).merging(theirs, uniquingKeysWith: +)
    }

    /// The JSON document `--json` writes: the ``LoadSummary`` under `summary` (the part scripts
    /// read; schema in docs/load-result.schema.json) beside everything measured, HDR histograms
    /// included (the part `report merge` reads).
    /// - Parameter thresholds: the `--threshold` criteria, judged into the summary.
    package func jsonData(thresholds: [Threshold] = []) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(ResultDocument(result: self, summary: LoadSummary(self, thresholds: thresholds)))
    }

    /// Reads a document written by ``jsonData()``.
    package static func fromJSON(_ data: Data) throws -> LoadResult {
        try JSONDecoder().decode(LoadResult.self, from: data)
    }
}
