import Foundation
import HTTPCurl
import Testing
import TestSupport

@Suite("A real Prometheus scrapes the server and the load generator")
struct PrometheusScrapeTests {
    /// The first value of an instant query, or nil while there is none.
    private func query(_ client: CurlClient, port: Int, _ expression: String) async throws -> Double? {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let encoded = expression.addingPercentEncoding(withAllowedCharacters: allowed)!
        let response = try await client.execute(CurlRequest(url: "http://127.0.0.1:\(port)/api/v1/query?query=\(encoded)"))
        let json = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        let result = (json?["data"] as? [String: Any])?["result"] as? [[String: Any]]
        return (result?.first?["value"] as? [Any])?.last.flatMap { ($0 as? String).flatMap(Double.init) }
    }

    @Test("during a run Prometheus's query API returns the hit ratio that /stats shows")
    func scrape() async throws {
        let server = try await TestServer.start()
        let binary = TestServices.cacheloadBinary
        let loadPort = freeLoopbackPort()

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("prometheus-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let config = """
            global: { scrape_interval: 1s, evaluation_interval: 1s }
            scrape_configs:
              - job_name: cacheload-server
                static_configs: [{ targets: ["127.0.0.1:\(server.port)"] }]
              - job_name: cacheload-load
                static_configs: [{ targets: ["127.0.0.1:\(loadPort)"] }]
            """
        try config.write(to: directory.appendingPathComponent("prometheus.yml"), atomically: true, encoding: .utf8)
        let prometheusPort = freeLoopbackPort()
        let prometheus = try spawn("/usr/bin/prometheus", [
            "--config.file=\(directory.path)/prometheus.yml", "--storage.tsdb.path=\(directory.path)/data",
            "--web.listen-address=127.0.0.1:\(prometheusPort)",
        ], outputPath: directory.path + "/prometheus.log")
        defer {
            kill(prometheus, SIGTERM)
            waitForExit(prometheus)
            try? FileManager.default.removeItem(at: directory)
        }
        try waitUntilAccepting(port: prometheusPort, seconds: 20)
        let client = CurlClient(concurrency: 1)
        let clock = ContinuousClock()
        let readyDeadline = clock.now + .seconds(20)
        while clock.now < readyDeadline,
              (try? await client.execute(CurlRequest(url: "http://127.0.0.1:\(prometheusPort)/-/ready")).status) != 200 {
            try await Task.sleep(for: .milliseconds(100))
        }
        let load = try spawn(binary, ["load", "\(server.baseURL)/product/{key}", "--rate", "300", "-c", "10", "-d", "10s", "-q",
                                      "--keys", "1-200", "--distribution", "zipf:0.99", "--metrics-listen", "127.0.0.1:\(loadPort)"])

        // The load generator's series arrive while it runs.
        var loadResponses: Double?
        let loadDeadline = clock.now + .seconds(8)
        while clock.now < loadDeadline, (loadResponses ?? 0) == 0 {
            loadResponses = try await query(client, port: prometheusPort, "sum(cacheload_load_responses_total)")
            try await Task.sleep(for: .milliseconds(250))
        }
        let targets = try await client.execute(CurlRequest(url: "http://127.0.0.1:\(prometheusPort)/api/v1/targets")).text
        #expect((loadResponses ?? 0) > 0, "\(targets)")

        // Every Grafana panel expression parses and returns data while the run goes on: polled
        // until each has data (rate() windows need a few scrapes), not waited for with a sleep.
        let dashboard = try JSONSerialization.jsonObject(with: Data(contentsOf: TestServices.repositoryRoot
            .appendingPathComponent("dashboards/grafana/cacheload.json"))) as? [String: Any]
        let panels = try #require(dashboard?["panels"] as? [[String: Any]])
        #expect(panels.count >= 10)
        var pending: [(title: String, expression: String)] = panels.flatMap { panel in
            (panel["targets"] as? [[String: Any]] ?? []).map { target in
                ("\(panel["title"] ?? "")", (target["expr"] as? String ?? "")
                    .replacingOccurrences(of: "$__rate_interval", with: "5s").replacingOccurrences(of: "$instance", with: ".*"))
            }
        }
        let panelDeadline = clock.now + .seconds(8)
        while !pending.isEmpty, clock.now < panelDeadline {
            var stillEmpty: [(title: String, expression: String)] = []
            for item in pending where try await query(client, port: prometheusPort, item.expression) == nil { stillEmpty.append(item) }
            pending = stillEmpty
            if !pending.isEmpty { try await Task.sleep(for: .milliseconds(250)) }
        }
        for item in pending { Issue.record("panel \(item.title) returned no data: \(item.expression)") }
        #expect(waitForExit(load) == 0)

        // After the run the counters stand still; the next scrape gives the final ratio.
        let stats = try await server.serverStats()
        let expected = try #require(stats["hit_ratio"] as? Double)
        let ratio = #"sum(cacheload_cache_lookups_total{result="hit"}) / (sum(cacheload_cache_lookups_total{result="hit"}) + sum(cacheload_cache_lookups_total{result="miss"}))"#
        var scraped: Double?
        let deadline = clock.now + .seconds(10)
        while clock.now < deadline {
            scraped = try await query(client, port: prometheusPort, ratio)
            if let scraped, abs(scraped - expected) < 1e-9 { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(scraped.map { abs($0 - expected) < 1e-9 } == true, "Prometheus \(String(describing: scraped)) vs /stats \(expected)")
        await client.shutdown()
        await server.stop()
    }
}
