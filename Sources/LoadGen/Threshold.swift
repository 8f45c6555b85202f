import Foundation
import Histogram
import Telemetry

/// A pass/fail criterion checked at the end of a run, k6 style: `p99<50ms`, `hit_ratio>0.8`,
/// `errors<0.1%`, `rate>=1000`.
package struct Threshold: Sendable, Equatable, CustomStringConvertible {
    enum Metric: Equatable {
        case percentile(Double), max, mean, hitRatio, errorCount, errorRate, transportErrorCount, transportErrorRate, unsentCount, unsentRate, rate
    }
    enum Comparison: String { case less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">=" }

    let metric: Metric
    let comparison: Comparison
    /// Milliseconds for latencies, a fraction for ratios, a count or req/s otherwise.
    let value: Double
    package let description: String

    static let expected = "expected METRIC<VALUE or METRIC>VALUE with METRIC one of p50, p90, p99, p99.9, max, mean (values with a unit: us, ms or s), hit_ratio (0.8 or 80%), errors (a count or a percentage of requests: transport errors and HTTP failures), transport_errors (the same without HTTP failures), unsent (requests due but never sent: a count or a percentage of the schedule), rate (req/s); e.g. 'p99<50ms'"

    /// Parses one `--threshold` expression.
    package init(parsing text: String) throws(LoadOptionError) {
        let compact = text.filter { !$0.isWhitespace }.lowercased()
        guard let operatorStart = compact.firstIndex(where: { $0 == "<" || $0 == ">" }) else {
            throw LoadOptionError("--threshold \"\(text)\": \(Self.expected)")
        }
        let name = String(compact[..<operatorStart])
        var rest = compact[operatorStart...]
        let comparison: Comparison
        if rest.hasPrefix("<=") { comparison = .lessOrEqual; rest = rest.dropFirst(2) }
        else if rest.hasPrefix(">=") { comparison = .greaterOrEqual; rest = rest.dropFirst(2) }
        else if rest.hasPrefix("<") { comparison = .less; rest = rest.dropFirst() }
        else { comparison = .greater; rest = rest.dropFirst() }
        let valueText = String(rest)

        let metric: Metric
        let value: Double
        switch name {
        case "max", "mean":
            metric = name == "max" ? .max : .mean
            value = try Self.milliseconds(valueText, text)
        case "hit_ratio", "hitratio":
            metric = .hitRatio
            value = try Self.fraction(valueText, text)
        case "errors", "error_rate", "transport_errors":
            let transport = name == "transport_errors"
            if valueText.hasSuffix("%") {
                metric = transport ? .transportErrorRate : .errorRate
                value = try Self.fraction(valueText, text)
            } else {
                guard let count = Double(valueText), count >= 0 else { throw LoadOptionError("--threshold \"\(text)\": \(Self.expected)") }
                metric = transport ? .transportErrorCount : .errorCount
                value = count
            }
        case "unsent":
            if valueText.hasSuffix("%") {
                metric = .unsentRate
                value = try Self.fraction(valueText, text)
            } else {
                guard let count = Double(valueText), count >= 0 else { throw LoadOptionError("--threshold \"\(text)\": \(Self.expected)") }
                metric = .unsentCount
                value = count
            }
        case "rate", "rps":
            guard let rate = Double(valueText), rate >= 0 else { throw LoadOptionError("--threshold \"\(text)\": \(Self.expected)") }
            metric = .rate
            value = rate
        default:
            guard name.hasPrefix("p"), let percentile = Double(name.dropFirst()), percentile > 0, percentile <= 100 else {
                throw LoadOptionError("--threshold \"\(text)\": unknown metric \"\(name)\"; \(Self.expected)")
            }
            metric = .percentile(percentile)
            value = try Self.milliseconds(valueText, text)
        }
        self.metric = metric
        self.comparison = comparison
        self.value = value
        self.description = text.trimmingCharacters(in: .whitespaces)
    }

    /// The measured value this threshold looks at, in its unit; `nil` when the run has nothing
    /// to measure it on (no answers for a latency, no HIT or MISS for the hit ratio).
    package func measured(in result: LoadResult) -> Double? {
        switch metric {
        case .percentile(let percentile): result.counts.completed == 0 ? nil : result.latencyMilliseconds(atPercentile: percentile)
        case .max: result.counts.completed == 0 ? nil : Double(result.latency.max) / 1000
        case .mean: result.counts.completed == 0 ? nil : result.latency.mean / 1000
        case .hitRatio: result.hitRatio
        case .errorCount: Double(result.counts.failures)
        case .transportErrorCount: Double(result.counts.errors)
        case .errorRate: Self.share(result.counts.failures, of: result)
        case .transportErrorRate: Self.share(result.counts.errors, of: result)
        case .unsentCount: Double(result.counts.unsent)
        case .unsentRate:
            result.counts.sent + result.counts.unsent == 0 ? nil : Double(result.counts.unsent) / Double(result.counts.sent + result.counts.unsent)
        case .rate: result.achievedRate
        }
    }

    /// The measured value with its unit, as the report prints it (`12.31ms`, `83.20%`, `no data`).
    package func measuredText(in result: LoadResult) -> String {
        guard let measured = measured(in: result) else { return "no data" }
        switch metric {
        case .percentile, .max, .mean: return LoadResult.ms(measured)
        case .hitRatio: return String(format: "%.2f%%", measured * 100)
        case .errorRate: return String(format: "%.2f%% of requests failed: transport errors and HTTP failures (status not in --expect-status)", measured * 100)
        case .transportErrorRate: return String(format: "%.2f%% transport errors (refused, reset, timed out, not HTTP)", measured * 100)
        case .errorCount: return "\(Int(measured)) failed: transport errors and HTTP failures"
        case .transportErrorCount: return "\(Int(measured)) transport errors"
        case .unsentCount: return "\(Int(measured)) requests due but never sent (the generator's own limit)"
        case .unsentRate: return String(format: "%.2f%% of the schedule never sent (the generator's own limit)", measured * 100)
        case .rate: return String(format: "%.1f req/s", measured)
        }
    }

    /// Whether the result meets the threshold. A threshold on no data fails: an empty run proves nothing.
    /// `count` as a share of the requests made (sent, plus connection attempts that failed).
    private static func share(_ count: Int, of result: LoadResult) -> Double? {
        let made = result.counts.sent + result.counts.connectErrors
        return made == 0 ? nil : Double(count) / Double(made)
    }

    package func passes(_ result: LoadResult) -> Bool {
        guard let measured = measured(in: result) else { return false }
        switch comparison {
        case .less: return measured < value
        case .lessOrEqual: return measured <= value
        case .greater: return measured > value
        case .greaterOrEqual: return measured >= value
        }
    }

    private static func milliseconds(_ text: String, _ whole: String) throws(LoadOptionError) -> Double {
        let units: [(String, Double)] = [("ms", 1), ("us", 0.001), ("µs", 0.001), ("s", 1000)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            if let number = Double(text.dropLast(suffix.count)), number >= 0 { return number * factor }
        }
        if let number = Double(text) {
            // One rule for every duration: a bare number is refused (it meant ms here, s elsewhere).
            guard number == 0 else { throw LoadOptionError("--threshold \"\(whole)\": give \"\(text)\" a unit, such as \(text)ms or \(text)s") }
            return 0
        }
        throw LoadOptionError("--threshold \"\(whole)\": \"\(text)\" is not a duration; \(expected)")
    }

    private static func fraction(_ text: String, _ whole: String) throws(LoadOptionError) -> Double {
        if text.hasSuffix("%"), let number = Double(text.dropLast()), (0...100).contains(number) { return number / 100 }
        if let number = Double(text), (0...1).contains(number) { return number }
        throw LoadOptionError("--threshold \"\(whole)\": \"\(text)\" is not a ratio (0.8 or 80%); \(expected)")
    }
}
