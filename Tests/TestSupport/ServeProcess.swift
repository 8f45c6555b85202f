import Foundation
import HTTPCurl

/// One `cacheload serve` child process on a free loopback port, as an instance of a fleet is
/// deployed: its own process, sharing Redis and PostgreSQL with the others.
package final class ServeProcess: @unchecked Sendable {
    package static let adminToken = "fleet-admin-token"
    package let port: Int
    package let pid: pid_t
    package let log: String
    private let http = CurlClient(concurrency: 8)

    /// Starts `cacheload serve` and waits until it accepts connections.
    /// - Parameter environment: `NAME=value` additions (AWS settings, say).
    package init(redis: String, postgres: String, arguments: [String] = [], environment: [String] = []) throws {
        port = freeLoopbackPort()
        log = FileManager.default.temporaryDirectory.appendingPathComponent("serve-\(UUID()).log").path
        pid = try spawn("/usr/bin/env", environment + [TestServices.cacheloadBinary, "serve", "--listen", "127.0.0.1:\(port)", "--redis", redis,
                                         "--postgres", postgres, "--admin-token", Self.adminToken, "--log-level", "warning"] + arguments,
                        outputPath: log)
        try waitUntilAccepting(port: port, seconds: 20)
    }

    deinit { stopIfRunning(pid) }

    package var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Sends a request; PUT and DELETE carry the admin token.
    package func request(_ method: CurlRequest.Method = .GET, _ path: String, body: String? = nil,
                        timeout: Duration = .seconds(15)) async throws -> CurlResponse {
        var headers: [(name: String, value: String)] = []
        if method != .GET { headers.append(("Authorization", "Bearer \(Self.adminToken)")) }
        if body != nil { headers.append(("Content-Type", "application/json")) }
        return try await http.execute(CurlRequest(method: method, url: baseURL + path, headers: headers,
                                                  body: body.map { Array($0.utf8) }, timeout: timeout))
    }

    /// `GET /stats` → the `server` object.
    package func stats() async throws -> [String: Any] {
        let json = try JSONSerialization.jsonObject(with: Data(try await request(.GET, "/stats").body)) as? [String: Any]
        return json?["server"] as? [String: Any] ?? [:]
    }

    /// Kills the process at once (SIGKILL: a crash) and reaps it.
    package func crash() {
        kill(pid, SIGKILL)
        _ = waitForExit(pid)
    }

    /// Stops with SIGTERM (a graceful shutdown); the exit status.
    @discardableResult
    package func stop() async -> Int32? {
        kill(pid, SIGTERM)
        let status = await exitStatus(of: pid, within: 15)
        await http.shutdown()
        return status
    }

    /// What the process wrote, for failure messages.
    package var output: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
}
