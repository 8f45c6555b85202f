import Foundation
import Telemetry

/// A pass/fail criterion checked at the end of a run, k6 style: `p99<50ms`, `hit_ratio>0.8`,
/// `errors<0.1%`, `rate>=1000`.
package struct Threshold: Sendable, Equatable, CustomStringConvertible {
    // Parsing only (fuzzed with the other option grammars); judging a result: Threshold+Judging.swift.
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
        // `inf` and `nan` read as numbers: a threshold on them judges nothing.
        guard value.isFinite else { throw LoadOptionError("--threshold \"\(text)\": \"\(valueText)\" is not a finite number; \(Self.expected)") }
        self.metric = metric
        self.comparison = comparison
        self.value = value
        self.description = text.trimmingCharacters(in: .whitespaces)
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
