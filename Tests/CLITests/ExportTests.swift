import Foundation
import HTTPCurl
import Redis
import Telemetry
import Testing
import TestSupport

@Suite("cacheload export: Redis INFO and /stats to Prometheus and CloudWatch")
struct ExportTests {
    @Test("keyspace counters and the server's hit ratio reach /metrics (promtool clean) and CloudWatch")
    func export() async throws {
        let server = try await TestServer.start()
        for id in [1, 1, 1, 2, 2, 3] { _ = try await server.request(.GET, "/product/\(id)") }
        let redis = RedisClient(configuration: try RedisConfiguration(url: server.redisServer.url))
        let info = try await redis.info("stats")
        await redis.shutdown()

        let binary = TestServices.cacheloadBinary
        let port = freeLoopbackPort()
        let environment = "export\(UUID().uuidString.prefix(6))"
        let pid = try spawn("/usr/bin/env", [
            "AWS_ENDPOINT_URL=\(TestServices.awsEndpoint)", "AWS_REGION=\(TestServices.awsRegion)",
            "AWS_ACCESS_KEY_ID=\(TestServices.awsAccessKeyID)", "AWS_SECRET_ACCESS_KEY=\(TestServices.awsSecretAccessKey)",
            binary, "export", "--redis", server.redisServer.url, "--server", server.baseURL, "--listen", "127.0.0.1:\(port)",
            "--interval", "1", "--cloudwatch", "--flush-interval", "600", "--environment", environment, "--log-level", "warning",
        ])
        try waitUntilAccepting(port: port, seconds: 10)
        let client = HTTPClient(concurrency: 1)
        var text = ""
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(10)
        while clock.now < deadline {
            text = try await client.execute(HTTPRequest(url: "http://127.0.0.1:\(port)/metrics")).text
            if text.contains("cacheload_export_target_up{target=\"server\"} 1") { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(text.contains("cacheload_redis_keyspace_hits_total \(info["keyspace_hits"]!)"))
        #expect(text.contains("cacheload_redis_keyspace_misses_total \(info["keyspace_misses"]!)"))
        #expect(text.contains("cacheload_server_hit_ratio 0.5"))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("export-\(UUID()).txt")
        try text.write(to: file, atomically: true, encoding: .utf8)
        let check = try run("/bin/sh", ["-c", "promtool check metrics < \(file.path) 2>&1"])
        #expect(!check.contains("error"), "\(check)")
        try? FileManager.default.removeItem(at: file)

        // SIGTERM: the pusher flushes what it aggregated before exiting.
        kill(pid, SIGTERM)
        #expect(waitForExit(pid) == 0)
        let cloudWatch = TestServices.cloudWatch()
        let sums = try await cloudWatch.statistics(
            namespace: "CacheLoad", metric: CloudWatchPusher.Name.hits,
            dimensions: CloudWatchPusher.Configuration(environment: environment).dimensions, statistic: "Sum",
            from: Date(timeIntervalSinceNow: -3600), to: Date(timeIntervalSinceNow: 600))
        #expect(sums.reduce(0, +) == 3, "\(sums)")
        await client.shutdown()
        await server.stop()
    }
}
