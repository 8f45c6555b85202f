import Foundation
import Histogram
import Telemetry

extension LoadResult {
    /// A self-contained HTML page (inline SVG, no scripts, no CDN): latency over time, rate,
    /// hit ratio over time and the HDR percentile curve, with the text summary below.
    package var html: String {
        // Whole seconds only: the run's last, partial second would look like a collapse.
        let seconds = self.seconds.filter { ($0.responses > 0 || $0.errors > 0) && Double($0.second + 1) <= durationSeconds + 0.05 }
        let latency = SVGChart(title: "Latency over time (ms)", xLabel: "second", series: [
            .init(label: "p50", color: "#2b7bb9", points: seconds.map { (Double($0.second), $0.p50) }),
            .init(label: "p99", color: "#d9534f", points: seconds.map { (Double($0.second), $0.p99) }),
        ])
        var rateSeries = [SVGChart.Series(label: "responses/s", color: "#5cb85c", points: seconds.map { (Double($0.second), Double($0.responses)) })]
        if let targetRate, let last = seconds.last {
            rateSeries.append(.init(label: "target", color: "#999", points: [(0, targetRate), (Double(last.second), targetRate)]))
        }
        let rate = SVGChart(title: "Rate (responses/s)", xLabel: "second", series: rateSeries)
        let ratioPoints = seconds.compactMap { sample in sample.hitRatio.map { (Double(sample.second), $0 * 100) } }
        var ratioSeries = [SVGChart.Series(label: "hit ratio %", color: "#f0ad4e", points: ratioPoints)]
        if let last = seconds.last {
            ratioSeries.append(.init(label: "80%", color: "#d9534f", points: [(0, 80), (Double(last.second), 80)]))
        }
        let ratio = SVGChart(title: "Hit ratio over time (%)", xLabel: "second", series: ratioSeries, yMaximum: 100)
        // Percentile curve on a log scale of 1/(1-p): 90% → 1, 99% → 2, 99.9% → 3 …
        let percentiles = [0.0, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.999]
        var curve = SVGChart(title: "Latency by percentile (ms)", xLabel: "percentile", series: [
            .init(label: "latency", color: "#6f42c1", points: percentiles.map { p in
                (log10(1 / max(1e-6, 1 - p / 100)), latencyMilliseconds(atPercentile: max(p, 0.0001)))
            }),
        ])
        curve.xTicks = [(0, "0%"), (1, "90%"), (2, "99%"), (3, "99.9%"), (4, "99.99%"), (5, "99.999%")]
        let escaped = summary.htmlEscaped
        return """
            <!doctype html>
            <html><head><meta charset="utf-8"><title>cacheload — \(url)</title>
            <style>
            body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}
            .grid{display:grid;grid-template-columns:1fr 1fr;gap:1.5em}
            pre{background:#f6f6f6;padding:1em;white-space:pre-wrap}
            svg text{font-size:11px;fill:#444}
            </style></head><body>
            <h1>cacheload load report</h1>
            <p>\(url) — \(connections) connections, \(targetRate.map { "\(staged == true ? "staged rate, average" : "constant rate") \(Int($0)) req/s" } ?? "closed loop"),
            \(String(format: "%.1f", achievedRate)) responses/s over \(String(format: "%.1f", durationSeconds)) s\(hitRatio.map { String(format: ", hit ratio %.1f%%", $0 * 100) } ?? "")\(counts.negativeHits > 0 ? ", \(counts.negativeHits) negative hits (cached \"not found\")" : "").</p>
            \(clientErrorWarning.map { "<p><strong>⚠ \($0)</strong></p>" } ?? "")
            <div class="grid">\(latency.svg)\(rate.svg)\(ratio.svg)\(curve.svg)</div>
            <h2>Summary</h2><pre>\(escaped)</pre>
            </body></html>
            """
    }
}

/// A small line chart rendered to SVG text.
struct SVGChart {
    struct Series {
        var label: String
        var color: String
        var points: [(Double, Double)]
    }

    var title: String
    var xLabel: String
    var series: [Series]
    var yMaximum: Double?
    /// Labelled x positions; by default only 0 and the maximum are labelled.
    var xTicks: [(Double, String)] = []

    init(title: String, xLabel: String, series: [Series], yMaximum: Double? = nil) {
        self.title = title
        self.xLabel = xLabel
        self.series = series
        self.yMaximum = yMaximum
    }

    var svg: String {
        let width = 520.0, height = 260.0, left = 50.0, right = 10.0, top = 28.0, bottom = 36.0
        let all = series.flatMap(\.points)
        let xMax = max(1, all.map(\.0).max() ?? 1)
        let yMax = yMaximum ?? max(1e-9, (all.map(\.1).max() ?? 1) * 1.1)
        func x(_ value: Double) -> Double { left + value / xMax * (width - left - right) }
        func y(_ value: Double) -> Double { top + (1 - min(value, yMax) / yMax) * (height - top - bottom) }
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(title)\">"
        out += "<text x=\"\(left)\" y=\"16\" style=\"font-size:13px;font-weight:600\">\(title)</text>"
        out += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(width - left - right)\" height=\"\(height - top - bottom)\" fill=\"none\" stroke=\"#ccc\"/>"
        for tick in 0...4 {
            let value = yMax * Double(tick) / 4
            out += "<line x1=\"\(left)\" x2=\"\(width - right)\" y1=\"\(y(value))\" y2=\"\(y(value))\" stroke=\"#eee\"/>"
            out += "<text x=\"\(left - 4)\" y=\"\(y(value) + 4)\" text-anchor=\"end\">\(Self.label(value))</text>"
        }
        out += "<text x=\"\((left + width) / 2)\" y=\"\(height - 6)\" text-anchor=\"middle\">\(xLabel)</text>"
        let ticks = xTicks.isEmpty ? [(0, "0"), (xMax, Self.label(xMax))] : xTicks
        for (value, text) in ticks {
            out += "<text x=\"\(x(value))\" y=\"\(height - 22)\" text-anchor=\"middle\">\(text)</text>"
        }
        for (index, line) in series.enumerated() where !line.points.isEmpty {
            let path = line.points.map { "\(String(format: "%.1f", x($0.0))),\(String(format: "%.1f", y($0.1)))" }.joined(separator: " ")
            out += "<polyline fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"1.8\" points=\"\(path)\"/>"
            out += "<text x=\"\(width - right - 4)\" y=\"\(top + 14 + Double(index) * 14)\" text-anchor=\"end\" style=\"fill:\(line.color)\">\(line.label)</text>"
        }
        return out + "</svg>"
    }

    static func label(_ value: Double) -> String {
        value >= 100 ? String(Int(value.rounded())) : value >= 1 ? String(format: "%.1f", value) : String(format: "%.2f", value)
    }
}
