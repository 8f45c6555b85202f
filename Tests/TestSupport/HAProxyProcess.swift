import Foundation

/// Debian's HAProxy balancing over `cacheload serve` instances as an ALB target group does:
/// round robin, an HTTP health check on `/health` (200 keeps a server in, anything else takes it
/// out after `fall` checks), no retry on another server (a failure reaches the client, as with
/// an ALB), and a log line per request naming the server that answered.
package final class HAProxyProcess: @unchecked Sendable {
    package let port: Int
    /// Milliseconds between health checks, and the failed checks that take a server out.
    package let checkInterval: Int
    package let fall: Int
    private let statsPort: Int
    private let directory: URL
    private var pid: pid_t?

    package init(servers: [Int], checkInterval: Int = 200, fall: Int = 2) throws {
        port = freeLoopbackPort()
        statsPort = freeLoopbackPort()
        self.checkInterval = checkInterval
        self.fall = fall
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cacheload-haproxy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let backends = servers.enumerated().map { index, port in "    server s\(index) 127.0.0.1:\(port) check" }
        let config = """
            global
                maxconn 4096
            defaults
                mode http
                timeout connect 1s
                timeout client 30s
                timeout server 30s
                retries 1
            frontend stats
                bind 127.0.0.1:\(statsPort)
                stats enable
                stats uri /stats
            frontend cacheload
                bind 127.0.0.1:\(port)
                default_backend servers
            backend servers
                balance roundrobin
                option httpchk GET /health
                http-check expect status 200
                default-server inter \(checkInterval)ms fall \(fall) rise 2
            \(backends.joined(separator: "\n"))

            """
        try config.write(to: directory.appendingPathComponent("haproxy.cfg"), atomically: true, encoding: .utf8)
        let log = directory.appendingPathComponent("haproxy.log").path
        pid = try spawn("/usr/sbin/haproxy", ["-db", "-f", directory.appendingPathComponent("haproxy.cfg").path], outputPath: log)
        do {
            try waitUntilAccepting(port: port, seconds: 10)
        } catch {
            throw ProcessFailure(command: "haproxy", output: (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
        }
    }

    deinit {
        if let pid {
            kill(pid, SIGTERM)
            waitForExit(pid)
        }
        try? FileManager.default.removeItem(at: directory)
    }

    package var baseURL: String { "http://127.0.0.1:\(port)" }

    /// 2xx answers each server gave through the balancer (health checks not counted), by name.
    package func answered() throws -> [String: Int] {
        try column("hrsp_2xx").compactMapValues { Int($0) }
    }

    /// Each server's state as the health checks see it (`UP`, `DOWN`, …), by name `s0`, `s1`, ….
    package func serverStates() throws -> [String: String] {
        try column("status")
    }

    /// One column of HAProxy's CSV statistics for each server of the backend, by server name.
    private func column(_ name: String) throws -> [String: String] {
        let output = try run("/usr/bin/curl", ["-fsS", "http://127.0.0.1:\(statsPort)/stats;csv"])
        let lines = output.split(separator: "\n")
        guard let header = lines.first?.dropFirst(2).split(separator: ",", omittingEmptySubsequences: false),
              let index = header.firstIndex(of: Substring(name)) else { return [:] }
        var values: [String: String] = [:]
        for line in lines where line.hasPrefix("servers,s") {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            if fields.count > index { values[String(fields[1])] = String(fields[index]) }
        }
        return values
    }
}
