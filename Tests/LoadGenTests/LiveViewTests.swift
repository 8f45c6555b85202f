import Foundation
import NIOCore
import Testing
import TestSupport

/// `load --live` in a real terminal: tmux runs the command in a pane of known size, the test
/// reads the screen with capture-pane and presses Ctrl-C with send-keys.
@Suite("load --live under tmux")
struct LiveViewTests {
    /// One tmux server of its own (its socket name), so nothing of the user's is touched.
    struct Tmux {
        let socket = "cacheload-live-\(UUID().uuidString.prefix(8))"

        func callAsFunction(_ arguments: [String]) throws -> String {
            try run("/usr/bin/tmux", ["-L", socket] + arguments)
        }

        /// Polls `condition` on the pane's text until it holds or `seconds` pass.
        func screen(within seconds: Double, until condition: (String) -> Bool) async throws -> String {
            let deadline = ContinuousClock.now + .seconds(seconds)
            var text = ""
            while ContinuousClock.now < deadline {
                text = try self(["capture-pane", "-p", "-t", "live"])
                if condition(text) { return text }
                try await Task.sleep(for: .milliseconds(100))
            }
            return text
        }

        func pane(_ format: String) throws -> String {
            try self(["display-message", "-p", "-t", "live", format]).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    @Test("a full-screen view with rate, p50/p99, hit ratio and sparklines; Ctrl-C leaves it, drains and prints the summary")
    func liveViewInATerminal() async throws {
        let server = try await StallingServer(stallAfter: nil, stallFor: .zero)
        let tmux = Tmux()
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("tmux-\(UUID()).conf").path
        try "set -g remain-on-exit on\n".write(toFile: config, atomically: true, encoding: .utf8)
        defer {
            _ = try? tmux(["kill-server"])
            try? FileManager.default.removeItem(atPath: config)
        }
        // bash waits for its child through Ctrl-C (a shell that died at once would tell nothing) and
        // prints the exit status; tmux's own #{pane_dead_status} stays empty under a test runner.
        let load = "\(TestServices.cacheloadBinary) load http://127.0.0.1:\(server.port)/ --rate 200 -c 4 -d 60s --live"
        let command = "/bin/bash -c '\(load); echo \"exit status $?\"'"
        _ = try run("/usr/bin/tmux", ["-L", tmux.socket, "-f", config, "new-session", "-d", "-s", "live", "-x", "100", "-y", "30", command])

        let live = try await tmux.screen(within: 15) { $0.contains("p99") && $0.components(separatedBy: "█").count > 3 && $0.contains("[  2s / 60s]") }
        #expect(live.contains("cacheload load  http://127.0.0.1:\(server.port)/"), "\(live)")
        for row in ["rate      ", "p50       ", "p99       ", "hit ratio ", "errors    "] {
            #expect(live.split(separator: "\n").contains { $0.hasPrefix(row) && $0.contains { "▁▂▃▄▅▆▇█".contains($0) } }, "\(row): \(live)")
        }
        #expect(live.contains("hit ratio 100.0 %"), "every answer of this target is a HIT: \(live)")
        #expect(try tmux.pane("#{alternate_on}") == "1", "the view is on the alternate screen")

        _ = try tmux(["send-keys", "-t", "live", "C-c"])
        let ended = try await tmux.screen(within: 15) { $0.contains("exit status ") }
        #expect(ended.contains("exit status 130"), "an interrupted run exits 130: \(ended)")
        #expect(try tmux.pane("#{alternate_on}") == "0", "the terminal got its screen back")
        #expect(ended.contains("Requests/sec") && ended.contains("in flight at stop"), "\(ended)")
        #expect(!ended.contains("Ctrl-C stops, drains and reports"), "the live view was left: \(ended)")
        try await server.close()
    }

    @Test("--live with stdout not a terminal: progress lines and the summary, no escape sequences")
    func liveFallsBackToLines() async throws {
        let server = try await StallingServer(stallAfter: nil, stallFor: .zero)
        let (status, output) = try await runCacheload(["load", "http://127.0.0.1:\(server.port)/", "--rate", "100", "-c", "2", "-d", "2s", "--live"])
        #expect(status == 0, "\(output)")
        #expect(!output.contains("\u{1B}"), "\(output)")
        #expect(output.contains("[  1s / 2s]") && output.contains("Requests/sec"), "\(output)")
        let both = try await runCacheload(["load", "http://127.0.0.1:\(server.port)/", "--live", "--quiet"])
        #expect(both.status == 64 && both.output.contains("--live and --quiet exclude each other"), "\(both.output)")
        try await server.close()
    }
}
