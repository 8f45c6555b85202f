import Foundation
import Logging
import Synchronization

/// Logs an outage once when it starts and once when it ends — with how long it lasted and how
/// many calls failed meanwhile — instead of a line per failed call: a database down under load
/// would otherwise write thousands of identical warnings a second.
package final class OutageLog: Sendable {
    private struct State {
        var since: ContinuousClock.Instant?
        var failures = 0
    }

    private let state = Mutex(State())
    private let logger: Logger
    private let what: String

    /// - Parameter what: the dependency, as a log line names it ("PostgreSQL").
    package init(_ what: String, logger: Logger) {
        self.what = what
        self.logger = logger
    }

    /// A call failed: the first failure of an outage is logged, the others counted.
    package func failed(_ error: any Error, _ message: String) {
        let starts = state.withLock { state -> Bool in
            state.failures += 1
            guard state.since == nil else { return false }
            state.since = .now
            return true
        }
        if starts {
            // libpq's messages span lines: one log entry stays one line.
            let flat = "\(error)".split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
            logger.warning("\(message); further failures are counted until \(what) answers again", metadata: ["error": "\(flat)"])
        }
    }

    /// A call worked: ends an outage in progress, with its length and count.
    package func succeeded() {
        let ended = state.withLock { state -> (Duration, Int)? in
            guard let since = state.since else { return nil }
            defer { state = State() }
            return (.now - since, state.failures)
        }
        guard let (length, failures) = ended else { return }
        let seconds = Double(length.components.seconds) + Double(length.components.attoseconds) / 1e18
        logger.notice("\(what) answers again", metadata: [
            "outage_seconds": "\((seconds * 10).rounded() / 10)", "failed_calls": "\(failures)",
        ])
    }
}
