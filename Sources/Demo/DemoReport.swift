import Foundation
import LoadGen
import Origins
import Telemetry

/// One measured phase of the demo.
struct DemoPhase {
    var name: String
    var title: String
    var result: LoadResult
}

/// The before/after table, `summary.json` and `index.html` of a demo run.
struct DemoReport {
    var before: LoadResult
    var after: LoadResult
    var phases: [DemoPhase]
    var redisInfo: [String: String]
    var originQueries: Int
    var slowCold: Duration
    var alarm: String
    /// The fleet phase: origin queries per cache variant.
    var amplification: [OriginAmplification.Row] = []

    /// Requests answered with the cache on, outside the before, alarm and S3 phases.
    private var served: Int {
        phases.filter { !["before", "alarm"].contains($0.name) && !$0.name.hasPrefix("s3-") }.reduce(0) { $0 + $1.result.counts.completed }
    }

    private var improvement: Double {
        let beforeMean = before.meanLatencyMilliseconds
        return beforeMean > 0 ? (beforeMean - after.meanLatencyMilliseconds) / beforeMean * 100 : 0
    }

    var text: String {
        var lines = ["== before / after (the labs' terms, and what they never measured) =="]
        func row(_ name: String, _ a: String, _ b: String) {
            lines.append(name.padding(toLength: 28, withPad: " ", startingAt: 0) + a.leftPadded(14) + b.leftPadded(14))
        }
        row("", "before", "after")
        row("requests/s", String(format: "%.0f", before.achievedRate), String(format: "%.0f", after.achievedRate))
        row("average latency", Self.ms(before.meanLatencyMilliseconds), Self.ms(after.meanLatencyMilliseconds))
        row("p99 latency", Self.ms(before.latencyMilliseconds(atPercentile: 99)), Self.ms(after.latencyMilliseconds(atPercentile: 99)))
        row("p99.9 latency", Self.ms(before.latencyMilliseconds(atPercentile: 99.9)), Self.ms(after.latencyMilliseconds(atPercentile: 99.9)))
        row("errors", "\(before.counts.errors + before.counts.status5xx)", "\(after.counts.errors + after.counts.status5xx)")
        row("hit ratio (client)", "-", String(format: "%.1f%%", (after.hitRatio ?? 0) * 100))
        lines.append(String(format: "average latency improvement: %.1f%%", improvement))
        lines.append("Redis keyspace_hits \(redisInfo["keyspace_hits"] ?? "?"), keyspace_misses \(redisInfo["keyspace_misses"] ?? "?")")
        lines.append("origin queries with the cache: \(originQueries) for \(served) requests (\(max(0, served - originQueries)) queries saved)")
        let slowWarm = phases.first { $0.name == "slow-page" }?.result.latencyMilliseconds(atPercentile: 50) ?? 0
        lines.append("slow page: \(Int(slowCold / .milliseconds(1))) ms cold, p50 \(Self.ms(slowWarm)) cached")
        if let off = phase("s3-cache-off"), let on = phase("s3-cache-on") {
            lines.append("S3 objects: p50 \(Self.ms(off.latencyMilliseconds(atPercentile: 50))) from S3, "
                + "\(Self.ms(on.latencyMilliseconds(atPercentile: 50))) with the cache; "
                + "\(String(format: "%.0f", off.achievedRate)) → \(String(format: "%.0f", on.achievedRate)) req/s")
        }
        lines.append("alarm: \(alarm)")
        if !amplification.isEmpty { lines += [""] + OriginAmplification.table(amplification) }
        return lines.joined(separator: "\n")
    }

    var json: [String: Any] {
        [
            "before": ["requests_per_second": before.achievedRate, "mean_ms": before.meanLatencyMilliseconds,
                       "p99_ms": before.latencyMilliseconds(atPercentile: 99)],
            "after": ["requests_per_second": after.achievedRate, "mean_ms": after.meanLatencyMilliseconds,
                      "p99_ms": after.latencyMilliseconds(atPercentile: 99), "hit_ratio": after.hitRatio ?? 0],
            "improvement_percent": improvement, "origin_queries": originQueries, "requests_with_cache": served,
            "keyspace_hits": Int(redisInfo["keyspace_hits"] ?? "") ?? 0, "keyspace_misses": Int(redisInfo["keyspace_misses"] ?? "") ?? 0,
            "slow_page_cold_ms": slowCold / .milliseconds(1), "alarm": alarm, "origin_amplification": amplification.map(\.json),
            "phases": phases.map { ["name": $0.name, "title": $0.title, "requests_per_second": $0.result.achievedRate,
                                    "p99_ms": $0.result.latencyMilliseconds(atPercentile: 99), "hit_ratio": $0.result.hitRatio ?? NSNull(),
                                    "errors": $0.result.counts.errors, "file": "\($0.name).json"] as [String: Any] },
        ]
    }

    var html: String {
        let rows = phases.map { phase in
            "<tr><td>\(phase.title)</td><td>\(String(format: "%.0f", phase.result.achievedRate))</td>"
                + "<td>\(String(format: "%.2f", phase.result.latencyMilliseconds(atPercentile: 99)))</td>"
                + "<td>\(phase.result.hitRatio.map { String(format: "%.1f%%", $0 * 100) } ?? "-")</td>"
                + "<td><a href=\"\(phase.name).html\">report</a> · <a href=\"\(phase.name).json\">json</a></td></tr>"
        }.joined(separator: "\n")
        let escaped = text.htmlEscaped
        return """
            <!doctype html><html><head><meta charset="utf-8"><title>CacheLoad demo</title>
            <style>body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1180px}table{border-collapse:collapse;max-width:100%}td,th{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left;overflow-wrap:anywhere}pre{background:#f6f6f6;padding:1em;white-space:pre-wrap;overflow-wrap:anywhere;font-size:12px}</style>
            </head><body><h1>CacheLoad demo</h1>
            <table><tr><th>phase</th><th>req/s</th><th>p99 ms</th><th>hit ratio</th><th>result</th></tr>
            \(rows)
            </table><h2>Summary</h2><pre>\(escaped)</pre></body></html>
            """
    }

    private func phase(_ name: String) -> LoadResult? {
        phases.first { $0.name == name }?.result
    }

    private static func ms(_ value: Double) -> String { String(format: "%.2f ms", value) }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
