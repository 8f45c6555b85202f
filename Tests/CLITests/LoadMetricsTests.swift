import Foundation
import HTTPCurl
import Testing
import TestSupport

@Suite("cacheload load --metrics-listen")
struct LoadMetricsTests {
    @Test("the run's Prometheus metrics are served while it runs, and promtool accepts them")
    func metricsWhileRunning() async throws {
        let server = try await TestServer.start()
        let binary = TestServices.cacheloadBinary
        let port = freeLoopbackPort()
        let pid = try spawn(binary, ["load", "\(server.baseURL)/product/{key}", "--rate", "200", "-c", "10", "-d", "4s", "-q",
                                     "--keys", "1-50", "--metrics-listen", "127.0.0.1:\(port)"])
        defer { stopIfRunning(pid) }
        try waitUntilAccepting(port: port, seconds: 10)
        let client = CurlClient(concurrency: 1)
        // Scrape until a full second of the run has been recorded (polled, bounded by the run).
        var text = ""
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(4)
        while clock.now < deadline {
            text = try await client.execute(CurlRequest(url: "http://127.0.0.1:\(port)/metrics")).text
            if text.contains("cacheload_load_request_duration_seconds_count") && !text.contains("_count 0\n") { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(waitForExit(pid) == 0)
        await client.shutdown()
        #expect(text.contains("# HELP cacheload_load_responses_total"))
        #expect(text.contains("cacheload_load_target_rate_requests_per_second 200"))
        #expect(text.contains("cacheload_load_cache_responses_total{cache=\"hit\"}"))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("load-metrics-\(UUID()).txt")
        try text.write(to: file, atomically: true, encoding: .utf8)
        let check = try run("/bin/sh", ["-c", "promtool check metrics < \(file.path) 2>&1"])
        #expect(!check.contains("error"), "\(check)")
        try? FileManager.default.removeItem(at: file)
        await server.stop()
    }
}
