import Foundation

/// A small line chart rendered to SVG text: title and legend above the plot (never over the
/// curves), "nice" tick values, the first and last x labels anchored inward so no label leaves
/// the picture, one `<path class="series">` per curve.
struct SVGChart {
    struct Series {
        var label: String
        var color: String
        var points: [(Double, Double)]
        var dashed = false
    }

    var title: String
    var xLabel: String
    var series: [Series]
    var yMaximum: Double?
    /// Labelled x positions; by default nice values from 0 to the largest x.
    var xTicks: [(Double, String)] = []
    /// Whole-number x ticks only (seconds).
    var wholeXTicks = false

    init(title: String, xLabel: String, series: [Series], yMaximum: Double? = nil, wholeXTicks: Bool = false) {
        self.title = title
        self.xLabel = xLabel
        self.series = series
        self.yMaximum = yMaximum
        self.wholeXTicks = wholeXTicks
    }

    // The frame: 560 × 300, the plot inset for the title and legend rows, tick labels and axis name.
    private let width = 560.0, height = 300.0, left = 58.0, right = 14.0, top = 56.0, bottom = 46.0

    var svg: String {
        let all = series.flatMap(\.points)
        let xMax = max(1, all.map(\.0).max() ?? 1)
        let yTicks = Self.niceTicks(upTo: yMaximum ?? max(1e-9, all.map(\.1).max() ?? 1))
        let yMax = yMaximum ?? yTicks.last!
        func x(_ value: Double) -> Double { left + value / xMax * (width - left - right) }
        func y(_ value: Double) -> Double { top + (1 - min(value, yMax) / yMax) * (height - top - bottom) }
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(title)\">"
        out += "<text x=\"4\" y=\"18\" class=\"title\">\(title)</text>"
        out += legend()
        out += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(width - left - right)\" height=\"\(height - top - bottom)\" fill=\"none\" stroke=\"#ccc\"/>"
        for value in yTicks where value <= yMax * 1.000001 {
            out += "<line x1=\"\(left)\" x2=\"\(width - right)\" y1=\"\(f(y(value)))\" y2=\"\(f(y(value)))\" stroke=\"#eee\"/>"
            out += "<text x=\"\(left - 5)\" y=\"\(f(y(value) + 4))\" text-anchor=\"end\">\(Self.label(value))</text>"
        }
        let ticks = xTicks.isEmpty ? Self.niceTicks(upTo: xMax, whole: wholeXTicks).filter { $0 <= xMax * 1.000001 }.map { ($0, Self.label($0)) } : xTicks
        for (index, (value, text)) in ticks.enumerated() {
            let anchor = index == 0 && value == 0 ? "start" : x(value) > width - right - 20 ? "end" : "middle"
            out += "<text x=\"\(f(x(value)))\" y=\"\(height - 28)\" text-anchor=\"\(anchor)\">\(text)</text>"
        }
        out += "<text x=\"\(f((left + width - right) / 2))\" y=\"\(height - 8)\" text-anchor=\"middle\" class=\"axis\">\(xLabel)</text>"
        for line in series where !line.points.isEmpty {
            let d = line.points.enumerated().map { "\($0.offset == 0 ? "M" : "L")\(f(x($0.element.0))),\(f(y($0.element.1)))" }.joined(separator: " ")
            out += "<path class=\"series\" d=\"\(d)\" fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"1.8\"\(line.dashed ? " stroke-dasharray=\"5 3\"" : "")/>"
            if line.points.count == 1 {
                out += "<circle cx=\"\(f(x(line.points[0].0)))\" cy=\"\(f(y(line.points[0].1)))\" r=\"2.5\" fill=\"\(line.color)\"/>"
            }
        }
        return out + "</svg>"
    }

    /// One row under the title: a swatch and the label of each curve, left to right.
    private func legend() -> String {
        var out = ""
        var position = 4.0
        for line in series {
            out += "<line x1=\"\(f(position))\" x2=\"\(f(position + 16))\" y1=\"34\" y2=\"34\" stroke=\"\(line.color)\" stroke-width=\"2.5\"\(line.dashed ? " stroke-dasharray=\"5 3\"" : "")/>"
            out += "<text x=\"\(f(position + 20))\" y=\"38\" class=\"legend\">\(line.label)</text>"
            // ~6.6 px per character at 11 px, and a gap before the next swatch.
            position += 20 + Double(line.label.count) * 6.6 + 16
        }
        return out
    }

    private func f(_ value: Double) -> String { String(format: "%.1f", value) }

    /// 0 and steps of 1, 2, 2.5 or 5 × 10ⁿ up to the first at or above `maximum` (four or five
    /// steps); `whole`: steps of at least 1, and no 2.5.
    static func niceTicks(upTo maximum: Double, whole: Bool = false) -> [Double] {
        let rough = maximum / 4
        let magnitude = pow(10, floor(log10(rough)))
        var step = (whole ? [1, 2, 5, 10] : [1, 2, 2.5, 5, 10]).map { $0 * magnitude }.first { $0 >= rough } ?? 10 * magnitude
        if whole { step = max(1, step.rounded()) }
        return (0...Int((maximum / step).rounded(.up))).map { Double($0) * step }
    }

    static func label(_ value: Double) -> String {
        if value == 0 { return "0" }
        if value >= 100 || value == value.rounded() { return String(Int(value.rounded())) }
        return value >= 1 ? String(format: "%.1f", value) : String(format: "%.2f", value)
    }
}
