import Histogram

/// Latency for CloudWatch as Values/Counts — the form from which CloudWatch computes percentile
/// statistics (`p99`), which a statistic set (min/max/sum/count) cannot give.
///
/// The samples are kept in an HDR histogram of microseconds. PutMetricData takes at most 150
/// distinct values per datum, so when the histogram holds more, neighbouring values are merged
/// into logarithmic groups just wide enough to fit (each group sent as its count-weighted mean):
/// a percentile computed from the groups is then within ``Values/relativeError`` of the
/// histogram's own.
package enum CloudWatchDistribution {
    /// What one datum carries.
    package struct Values: Sendable, Equatable {
        /// Milliseconds, ascending.
        package var values: [Double]
        package var counts: [Double]
        /// Widest group / its lowest value - 1: 0 when nothing was merged beyond HDR's own precision.
        package var relativeError: Double
    }

    /// A histogram for samples in microseconds: 1 µs to 1 hour, 3 significant digits.
    package static func makeHistogram() -> Histogram<UInt64> {
        Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
    }

    /// Adds `source`'s samples to `target` (a histogram of ``makeHistogram()``), each at its
    /// bucket's median: the two may differ in precision.
    package static func add(_ source: Histogram<UInt64>, to target: inout Histogram<UInt64>) {
        for step in source.recordedValues() {
            _ = target.record(source.medianEquivalentForValue(step.value), count: step.count)
        }
    }

    /// The histogram's recorded values (microseconds) as at most `limit` milliseconds values with counts.
    package static func values(of histogram: Histogram<UInt64>, limit: Int = PutMetricData.maximumValuesPerDatum) -> Values {
        let recorded = histogram.recordedValues().map { step in
            (value: Double(histogram.medianEquivalentForValue(step.value)) / 1000, count: Double(step.count))
        }
        guard recorded.count > limit else {
            return Values(values: recorded.map(\.value), counts: recorded.map(\.count), relativeError: 0)
        }
        // Widen the groups by 25% at a time: the first width that fits is at most 25% wider than needed.
        var width = 0.001
        while true {
            let grouped = group(recorded, width: width)
            if grouped.values.count <= limit { return grouped }
            width *= 1.25
        }
    }

    /// Groups ascending values so that each group spans less than `width` relative to its first value.
    private static func group(_ recorded: [(value: Double, count: Double)], width: Double) -> Values {
        var result = Values(values: [], counts: [], relativeError: 0)
        var start = recorded[0].value
        var weighted = 0.0, count = 0.0, last = start
        func close() {
            result.values.append(weighted / count)
            result.counts.append(count)
            result.relativeError = max(result.relativeError, start > 0 ? last / start - 1 : 0)
        }
        for (value, samples) in recorded {
            if value >= start * (1 + width), count > 0 {
                close()
                (start, weighted, count) = (value, 0, 0)
            }
            weighted += value * samples
            count += samples
            last = value
        }
        close()
        return result
    }
}
