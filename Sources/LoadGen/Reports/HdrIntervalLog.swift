import Foundation
import Histogram

/// The HdrHistogram interval log (format 1.3), as Java's `HistogramLogWriter` writes it and
/// `HistogramLogProcessor`, the HdrHistogram plotter and the Python `hdrhistogram` package read
/// it: one line per second of the run's last minute, one per wall-clock minute before it (the
/// seconds ``TimeSeries`` folded) — start (seconds from StartTime), length, max (ms) and the
/// interval's latency histogram, V2-encoded, zlib-compressed and base64.
///
/// Values are microseconds measured from each request's intended start (the corrected latency);
/// HistogramLogProcessor needs `-outputValueUnitRatio 1000` to print them as milliseconds.
package enum HdrIntervalLog {
    /// The log text for a run's per-second histograms.
    package static func text(of result: LoadResult) -> String {
        let start = result.startedAt ?? Date().timeIntervalSince1970 - result.durationSeconds
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE MMM dd HH:mm:ss zzz yyyy"
        var lines = [
            "#[Histogram log format version 1.3]",
            "#[StartTime: \(String(format: "%.3f", start)) (seconds since epoch), \(formatter.string(from: Date(timeIntervalSince1970: start)))]",
            "#[cacheload \(result.url): latency in microseconds from each request's intended start]",
            "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"",
        ]
        // (start second, length, histogram): a folded minute is one interval over its seconds.
        var intervals = (result.minutes ?? []).map { ($0.firstSecond, $0.lastSecond - $0.firstSecond + 1, $0.histogram) }
        for sample in result.seconds {
            if let histogram = sample.histogram, histogram.totalCount > 0 { intervals.append((sample.second, 1, histogram)) }
        }
        for (start, length, histogram) in intervals.sorted(by: { $0.0 < $1.0 }) {
            let encoded = Data(HdrEncoding.compressed(histogram)).base64EncodedString()
            lines.append(String(format: "%.3f,%.3f,%.3f,", Double(start), Double(length), Double(histogram.max) / 1000) + encoded)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
