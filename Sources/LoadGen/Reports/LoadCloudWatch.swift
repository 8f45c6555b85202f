import Foundation
import Histogram
import Telemetry

/// `--cloudwatch` on `load` and `report merge`: the run's numbers as CloudWatch custom metrics,
/// one datum per metric per wall-clock minute of the run, so that a dashboard shows the load
/// beside the server's own metrics and CloudWatch computes the run's percentiles itself.
///
/// Metrics: `LoadLatency` (Milliseconds, from each request's intended start, as Values/Counts),
/// `LoadRequests` and `LoadErrors` (Count), and when answers stated a cache outcome
/// (`--cache-status`) `LoadHits` and `LoadMisses` (Count: the client's hit ratio, whatever the
/// cache) — names apart from the server's, so a load never
/// counts in the server's hit-ratio or latency alarms.
package enum LoadCloudWatch {
    package enum Name {
        package static let latency = "LoadLatency"
        package static let requests = "LoadRequests"
        package static let hits = "LoadHits"
        package static let misses = "LoadMisses"
        package static let errors = "LoadErrors"
    }

    /// The run's datums, one per metric per wall-clock minute, stamped with the minute's start (the run's start for its first).
    package static func datums(of result: LoadResult, dimensions: [Telemetry.Dimension]) -> [MetricDatum] {
        let start = result.startedAt ?? Date().timeIntervalSince1970 - result.durationSeconds
        let minutes = Dictionary(grouping: result.seconds) { Int((start + Double($0.second)) / 60) }
        var datums: [MetricDatum] = []
        for (minute, samples) in minutes.sorted(by: { $0.key < $1.key }) {
            let timestamp = Date(timeIntervalSince1970: max(start, Double(minute * 60)))
            var latency = CloudWatchDistribution.makeHistogram()
            for sample in samples { if let histogram = sample.histogram { CloudWatchDistribution.add(histogram, to: &latency) } }
            // The seconds folded into this minute (``TimeSeries``).
            for folded in result.minutes ?? [] where folded.minute == minute { CloudWatchDistribution.add(folded.histogram, to: &latency) }
            func count(_ name: String, _ value: Int) -> MetricDatum {
                MetricDatum(name: name, unit: .count, dimensions: dimensions, timestamp: timestamp, value: .single(Double(value)))
            }
            datums.append(count(Name.requests, samples.reduce(0) { $0 + $1.responses }))
            datums.append(count(Name.errors, samples.reduce(0) { $0 + $1.errors }))
            if result.counts.hits + result.counts.misses > 0 {
                datums.append(count(Name.hits, samples.reduce(0) { $0 + $1.hits }))
                datums.append(count(Name.misses, samples.reduce(0) { $0 + $1.misses }))
            }
            if latency.totalCount > 0 {
                let values = CloudWatchDistribution.values(of: latency)
                datums.append(MetricDatum(name: Name.latency, unit: .milliseconds, dimensions: dimensions, timestamp: timestamp,
                                          value: .distribution(values: values.values, counts: values.counts)))
            }
        }
        return datums
    }
}
