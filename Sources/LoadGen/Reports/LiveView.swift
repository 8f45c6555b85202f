import Foundation
import Synchronization

/// `load --live`: a compact full-screen view redrawn every second, oha-style — the last
/// second's rate, p50, p99, hit ratio and errors, each with a sparkline of the run so far, and
/// the totals. Drawn on the terminal's alternate screen, which ``finish()`` leaves, so the
/// terminal gets back what it showed and the summary prints below it as usual.
package final class LiveView: Sendable {
    private struct History {
        var rate: [Double] = []
        var p50: [Double] = []
        var p99: [Double] = []
        var hitRatio: [Double] = []
        var errors: [Double] = []
        var started = false
        var finished = false
    }

    private let title: String
    private let target: String
    private let total: Duration?
    private let history = Mutex(History())
    private let write: @Sendable (String) -> Void

    /// - Parameter write: where frames go (standard output; a test may collect them).
    package init(plan: LoadPlan, write: @escaping @Sendable (String) -> Void = LiveView.standardOutput) {
        let template = plan.template
        title = "cacheload load  \(template.isTLS ? "https" : "http")://\(template.host):\(template.port)\(template.pathTemplate)"
        target = "\(plan.connections) connections · "
            + (plan.rate.map { "\(plan.schedule?.duration != nil ? "staged rate, average" : "constant rate") \(Int($0)) req/s" } ?? "closed loop")
        total = plan.duration
        self.write = write
    }

    package static let standardOutput: @Sendable (String) -> Void = { FileHandle.standardOutput.write(Data($0.utf8)) }

    /// Whether standard output is a terminal, where the view can be drawn (else: progress lines).
    package static var canDraw: Bool { isatty(STDOUT_FILENO) == 1 }

    /// Adds the last complete second and redraws.
    package func update(_ progress: LoadEngine.Progress) {
        let (history, first) = self.history.withLock { history -> (History, Bool) in
            guard !history.finished else { return (history, false) }
            let first = !history.started
            history.started = true
            if let second = progress.lastSecond {
                history.rate.append(Double(second.responses))
                history.p50.append(second.p50)
                history.p99.append(second.p99)
                history.hitRatio.append((second.hitRatio ?? 0) * 100)
                history.errors.append(Double(second.errors))
            }
            return (history, first)
        }
        guard !history.finished else { return }
        // Alternate screen and hidden cursor on the first frame; then home, each line cleared to its end.
        let frame = frame(history, progress: progress, columns: Self.columns()).map { $0 + "\u{1B}[K" }.joined(separator: "\n")
        write((first ? "\u{1B}[?1049h\u{1B}[?25l" : "") + "\u{1B}[H" + frame + "\n\u{1B}[J")
    }

    /// Leaves the alternate screen (once; nothing when no frame was drawn).
    package func finish() {
        let drawn = history.withLock { history -> Bool in
            defer { history.finished = true }
            return history.started && !history.finished
        }
        if drawn { write("\u{1B}[?25h\u{1B}[?1049l") }
    }

    private func frame(_ history: History, progress: LoadEngine.Progress, columns: Int) -> [String] {
        let elapsed = Int(progress.elapsed.components.seconds)
        var clock = "[\(String(format: "%3d", elapsed))s\(total.map { " / \($0.components.seconds)s" } ?? "")]"
        if let total, total > .zero {
            let done = min(1, progress.elapsed / total)
            let width = 20
            clock += " " + String(repeating: "█", count: Int(done * Double(width))) + String(repeating: "░", count: width - Int(done * Double(width)))
                + String(format: " %3.0f%%", done * 100)
        }
        let spark = max(8, columns - 28)
        let counts = progress.counts
        func row(_ name: String, _ value: String, _ series: [Double]) -> String {
            name.padding(toLength: 10, withPad: " ", startingAt: 0) + value.padding(toLength: 16, withPad: " ", startingAt: 0)
                + Self.sparkline(Array(series.suffix(spark)))
        }
        return [
            String(title.prefix(columns)),
            String("\(target)   \(clock)".prefix(columns)),
            "",
            row("rate", "\(Int(history.rate.last ?? 0)) req/s", history.rate),
            row("p50", String(format: "%.2f ms", history.p50.last ?? 0), history.p50),
            row("p99", String(format: "%.2f ms", history.p99.last ?? 0), history.p99),
            row("hit ratio", history.hitRatio.isEmpty ? "-" : String(format: "%.1f %%", history.hitRatio.last!), history.hitRatio),
            row("errors", "\(Int(history.errors.last ?? 0))/s", history.errors),
            "",
            String("sent \(counts.sent) · answered \(counts.completed) · errors \(counts.errors) (connect \(counts.connectErrors), "
                + "timeout \(counts.timeouts), reset \(counts.resets), tls \(counts.tlsErrors))".prefix(columns)),
            "Ctrl-C stops, drains and reports",
        ]
    }

    /// Eight levels from the series' smallest (or 0) to its largest value.
    static func sparkline(_ values: [Double]) -> String {
        let levels = Array("▁▂▃▄▅▆▇█")
        guard let high = values.max(), high > 0 else { return String(repeating: levels[0], count: values.count) }
        let low = min(0, values.min() ?? 0)
        return String(values.map { levels[min(7, Int(((($0 - low) / (high - low)) * 7).rounded()))] })
    }

    /// The terminal's width (80 when it cannot be asked).
    private static func columns() -> Int {
        var size = winsize()
        return ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 80
    }
}
