import Dispatch
import Foundation
import HTTPCurl
import Synchronization

/// A throwaway Prometheus for the demo's alert phase: scrapes the demo server every second and
/// evaluates the project's alert rules with their windows shortened from minutes to seconds.
final class DemoPrometheus: @unchecked Sendable {
    /// A started Prometheus that answers `/-/ready`, or why the alert phase goes without one.
    static func started(binary: String, rules: String, target: Int, directory: String) async -> (value: DemoPrometheus?, skipped: String?) {
        guard let prometheus = try? DemoPrometheus(binary: binary, rules: rules, target: target, directory: directory) else {
            return (nil, "Prometheus alert phase skipped (no \(binary) or \(rules))")
        }
        guard await prometheus.waitUntilReady(within: .seconds(20)) else {
            prometheus.stop()
            return (nil, "Prometheus did not become ready; alert phase skipped")
        }
        return (prometheus, nil)
    }

    private let process: Process
    private let port: Int
    private let http = CurlClient(concurrency: 1)

    /// - Throws: when the binary or the rules are missing, or Prometheus does not start.
    init(binary: String, rules: String, target: Int, directory: String) throws {
        guard FileManager.default.isExecutableFile(atPath: binary), let text = try? String(contentsOfFile: rules, encoding: .utf8) else {
            throw Unavailable()
        }
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let shortened = text.replacingOccurrences(of: "[5m]", with: "[5s]")
            .replacingOccurrences(of: "for: 5m", with: "for: 2s").replacingOccurrences(of: "for: 1m", with: "for: 2s")
        try shortened.write(toFile: "\(directory)/alerts.yml", atomically: true, encoding: .utf8)
        try """
            global: { scrape_interval: 1s, evaluation_interval: 1s }
            rule_files: [alerts.yml]
            scrape_configs:
              - job_name: cacheload-server
                static_configs: [{ targets: ["127.0.0.1:\(target)"] }]
            """.write(toFile: "\(directory)/prometheus.yml", atomically: true, encoding: .utf8)
        port = Self.freePort()
        process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--config.file=\(directory)/prometheus.yml", "--storage.tsdb.path=\(directory)/data",
                             "--web.listen-address=127.0.0.1:\(port)"]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        Self.children.withLock { _ = $0.insert(process.processIdentifier) }
    }

    /// Children to stop if the demo is interrupted (Ctrl-C or SIGTERM).
    static let children = Mutex<Set<Int32>>([])

    /// Stops the Prometheus children (on an interrupt: the servers are in-process and go with it).
    static func stopChildren() {
        for pid in children.withLock({ $0 }) { kill(pid, SIGTERM) }
    }

    /// Waits until Prometheus answers `/-/ready` (its storage and rule manager are up).
    func waitUntilReady(within limit: Duration) async -> Bool {
        let clock = ContinuousClock()
        let start = clock.now
        while clock.now - start < limit {
            if let response = try? await http.execute(CurlRequest(url: "http://127.0.0.1:\(port)/-/ready", timeout: .seconds(1))),
               response.status == 200 {
                return true
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// Polls the alerts API until `name` is firing; returns how long that took, or `nil`.
    func waitForAlert(_ name: String, within limit: Duration) async -> Duration? {
        let clock = ContinuousClock()
        let start = clock.now
        while clock.now - start < limit {
            if let response = try? await http.execute(CurlRequest(url: "http://127.0.0.1:\(port)/api/v1/alerts", timeout: .seconds(1))),
               response.text.contains("\"alertname\":\"\(name)\""), response.text.contains("\"state\":\"firing\"") {
                return clock.now - start
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
        return nil
    }

    func stop() {
        Self.children.withLock { _ = $0.remove(process.processIdentifier) }
        if process.isRunning { process.terminate() }
        Task { [http] in await http.shutdown() }
    }

    struct Unavailable: Error {}

    static func freePort() -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                _ = bind(socket, $0, length)
                _ = getsockname(socket, $0, &length)
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
