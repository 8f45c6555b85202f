import Foundation

/// A moto_server of a test's own (signature checks off): for tests that read back every value
/// CloudWatch stored. moto keeps each sample of a values/counts datum as an object of its own,
/// so the shared one, which the demo and the servers of other tests push to, grows too large
/// to dump.
package final class PrivateMoto: @unchecked Sendable {
    package let port: Int
    private let pid: pid_t

    package init() throws {
        port = freeLoopbackPort()
        pid = try spawn("/bin/sh", ["-c", "exec moto_server -H 127.0.0.1 -p \(port)"])
        try waitUntilAccepting(port: port, seconds: 30)
    }

    deinit { stop() }

    package var endpoint: String { "http://127.0.0.1:\(port)" }

    package func stop() {
        stopIfRunning(pid)
    }
}
