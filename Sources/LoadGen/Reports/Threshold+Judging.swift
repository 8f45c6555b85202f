import Foundation
import Histogram

/// A threshold judged against a run's result.
extension Threshold {
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
        guard let measured = measured(in: result) else {
            if metric == .hitRatio, result.counts.completed > 0 { return "no data: no answer stated a hit or a miss (--cache-status says where to look)" }
            return "no data"
        }
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

    /// `count` as a share of the requests made (sent, plus connection attempts that failed).
    private static func share(_ count: Int, of result: LoadResult) -> Double? {
        let made = result.counts.sent + result.counts.connectErrors
        return made == 0 ? nil : Double(count) / Double(made)
    }

    /// Whether the result meets the threshold. A threshold on no data fails: an empty run proves nothing.
    package func passes(_ result: LoadResult) -> Bool {
        guard let measured = measured(in: result) else { return false }
        switch comparison {
        case .less: return measured < value
        case .lessOrEqual: return measured <= value
        case .greater: return measured > value
        case .greaterOrEqual: return measured >= value
        }
    }
}
