import Foundation
import Histogram
import Telemetry

extension LoadResult {
    /// `, cache outcome from CF-Cache-Status`: where most answers stated it.
    private var cacheSourceText: String {
        guard let source = cacheSources?.max(by: { $0.value < $1.value })?.key else { return "" }
        return ", cache outcome from \(source.htmlEscaped)"
    }

    /// A self-contained HTML page (inline SVG, no scripts, no CDN): latency over time, rate,
    /// hit ratio over time and the HDR percentile curves (all, hits, misses; uncorrected beside
    /// corrected for constant-rate runs), with the text summary below.
    package var html: String {
        let seconds = chartedSeconds
        let latency = SVGChart(title: "Latency over time (ms)", xLabel: "second", series: [
            .init(label: "p50", color: "#2b7bb9", points: seconds.map { (Double($0.second), $0.p50) }),
            .init(label: "p99", color: "#d9534f", points: seconds.map { (Double($0.second), $0.p99) }),
        ], wholeXTicks: true)
        // A partial last second's count is scaled to a rate, or it would look like a collapse.
        var rateSeries = [SVGChart.Series(label: "responses/s", color: "#5cb85c", points: seconds.map { sample in
            (Double(sample.second), Double(sample.responses) / max(0.001, min(1, durationSeconds - Double(sample.second))))
        })]
        if let last = seconds.last {
            if let scheduledRates {
                // Stages: the ramp as scheduled, second by second.
                rateSeries.append(.init(label: "target", color: "#999", points: scheduledRates.enumerated()
                    .filter { $0.offset <= last.second }.map { (Double($0.offset), $0.element) }))
            } else if let targetRate {
                rateSeries.append(.init(label: "target", color: "#999", points: [(0, targetRate), (Double(last.second), targetRate)]))
            }
        }
        let rate = SVGChart(title: "Rate (responses/s)", xLabel: "second", series: rateSeries, wholeXTicks: true)
        let ratioPoints = seconds.compactMap { sample in sample.hitRatio.map { (Double(sample.second), $0 * 100) } }
        var ratioSeries = [SVGChart.Series(label: "hit ratio %", color: "#f0ad4e", points: ratioPoints)]
        if let last = seconds.last {
            ratioSeries.append(.init(label: "80%", color: "#d9534f", points: [(0, 80), (Double(last.second), 80)]))
        }
        let ratio = SVGChart(title: "Hit ratio over time (%)", xLabel: "second", series: ratioSeries, yMaximum: 100, wholeXTicks: true)
        let curve = percentileChart()
        let escaped = summary.htmlEscaped
        return """
            <!doctype html>
            <html><head><meta charset="utf-8"><title>cacheload — \(url)</title>
            <style>
            body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1180px}
            p{overflow-wrap:anywhere}
            .grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:1.5em}
            svg{width:100%;height:auto}
            svg text{font-size:11px;fill:#444;font-family:system-ui,sans-serif}
            svg text.title{font-size:13px;font-weight:600;fill:#222}
            pre{background:#f6f6f6;padding:1em;white-space:pre-wrap;overflow-wrap:anywhere;font-size:12px}
            table{border-collapse:collapse;margin:1em 0;max-width:100%}td,th{padding:.25em .7em;border-bottom:1px solid #ddd;text-align:right;overflow-wrap:anywhere}
            td:first-child,th:first-child{text-align:left}
            </style></head><body>
            <h1>cacheload load report</h1>
            <p>\(url) — \(connections) connections, \(targetRate.map { "\(staged == true ? "staged rate, average" : "constant rate") \(Int($0)) req/s" } ?? "closed loop"),
            \(String(format: "%.1f", achievedRate)) responses/s over \(String(format: "%.1f", durationSeconds)) s\(hitRatio.map { String(format: ", hit ratio %.1f%%", $0 * 100) } ?? "")\(counts.negativeHits > 0 ? ", \(counts.negativeHits) negative hits (cached \"not found\")" : "")\(cacheSourceText).</p>
            \(clientErrorWarning.map { "<p><strong>⚠ \($0)</strong></p>" } ?? "")
            \(noCacheOutcomeWarning.map { "<p><strong>⚠ \($0.htmlEscaped)</strong></p>" } ?? "")
            \(targetsTable)
            <div class="grid">\(latency.svg)\(rate.svg)\(ratio.svg)\(curve.svg)</div>
            <h2>Summary</h2><pre>\(escaped)</pre>
            </body></html>
            """
    }

    /// Several targets: a row each (connections, answers, rate, p50/p99, hit ratio, errors).
    private var targetsTable: String {
        guard let targets else { return "" }
        let rows = targets.map { target in
            let rate = Double(target.counts.completed) / max(durationSeconds, 1e-9)
            return "<tr><td>\(target.url.htmlEscaped)</td><td>\(target.connections)</td><td>\(target.counts.completed)</td>"
                + "<td>\(String(format: "%.1f", rate))</td><td>\(Self.ms(target.milliseconds(atPercentile: 50)))</td>"
                + "<td>\(Self.ms(target.milliseconds(atPercentile: 99)))</td>"
                + "<td>\(target.hitRatio.map { String(format: "%.1f%%", $0 * 100) } ?? "-")</td><td>\(target.counts.errors)</td></tr>"
        }
        return "<table><tr><th>target</th><th>connections</th><th>answers</th><th>req/s</th><th>p50</th><th>p99</th>"
            + "<th>hit ratio</th><th>errors</th></tr>" + rows.joined() + "</table>"
    }

    /// The seconds every time chart draws. The run's last second is partial: under a fifth of a
    /// second it is left out of every chart (too short to scale to a rate honestly, and the
    /// charts must end together) — unless it is the whole run (a quick `--requests` run).
    var chartedSeconds: [SecondSample] {
        let recorded = seconds.filter { $0.responses > 0 || $0.errors > 0 }.sorted { $0.second < $1.second }
        return recorded.count > 1 ? recorded.filter { durationSeconds - Double($0.second) >= 0.2 } : recorded
    }

    /// Latency by percentile on a log scale of 1/(1-p) (90% → 1, 99% → 2, 99.9% → 3 …), for all
    /// answers, hits and misses apart, and — at a constant rate — from the actual send.
    private func percentileChart() -> SVGChart {
        let percentiles = [0.0, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.999]
        func points(_ histogram: Histogram<UInt64>) -> [(Double, Double)] {
            guard histogram.totalCount > 0 else { return [] }
            return percentiles.map { p in
                (log10(1 / max(1e-6, 1 - p / 100)), Double(histogram.valueAtPercentile(max(p, 0.0001))) / 1000)
            }
        }
        var series = [SVGChart.Series(label: uncorrectedLatency == nil ? "all" : "all (from intended start)", color: "#6f42c1", points: points(latency))]
        if let uncorrectedLatency {
            series.append(.init(label: "all, from actual send", color: "#888", points: points(uncorrectedLatency), dashed: true))
        }
        if hitLatency.totalCount > 0 && missLatency.totalCount > 0 {
            series.append(.init(label: "hits", color: "#2e9e5b", points: points(hitLatency)))
            series.append(.init(label: "misses", color: "#e8891c", points: points(missLatency)))
        }
        var chart = SVGChart(title: "Latency by percentile (ms)", xLabel: "percentile", series: series)
        chart.xTicks = [(0, "0%"), (1, "90%"), (2, "99%"), (3, "99.9%"), (4, "99.99%"), (5, "99.999%")]
        return chart
    }
}
