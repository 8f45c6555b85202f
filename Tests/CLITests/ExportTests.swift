import Foundation
import HTTPCurl
import Redis
import Telemetry
import Testing
import TestSupport

@Suite("cacheload export: Redis INFO and /stats to Prometheus and CloudWatch")
struct ExportTests {
    @Test("keyspace counters and the server's hit ratio reach /metrics (promtool clean); CloudWatch gets increases only, none from before the start")
    func export() async throws {
        let server = try await TestServer.start()
        // Lifetime counts from before the sidecar started: 3 hits, 3 misses. They must not reach CloudWatch.
        for id in [1, 1, 1, 2, 2, 3] { _ = try await server.request(.GET, "/product/\(id)") }

        let binary = TestServices.cacheloadBinary
        let port = freeLoopbackPort()
        let environment = "export\(UUID().uuidString.prefix(6))"
        let pid = try spawn("/usr/bin/env", TestServices.awsEnvironment + [
            binary, "export", "--redis", server.redisServer.url, "--server", server.baseURL, "--listen", "127.0.0.1:\(port)",
            "--interval", "1", "--cloudwatch", "--flush-interval", "600", "--environment", environment, "--log-level", "warning",
        ])
        defer { stopIfRunning(pid) }
        try waitUntilAccepting(port: port, seconds: 10)
        let client = CurlClient(concurrency: 1)
        func metricsWhen(_ line: String) async throws -> String {
            var text = ""
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(10)
            while clock.now < deadline {
                text = try await client.execute(CurlRequest(url: "http://127.0.0.1:\(port)/metrics")).text
                if text.contains(line) { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            return text
        }
        // The first read sets the baseline (server hit ratio 3 of 6)…
        _ = try await metricsWhen("cacheload_server_hit_ratio 0.5\n")
        // …then 3 hits and 2 misses more: 6 of 11.
        for id in [4, 4, 5, 5, 5] { _ = try await server.request(.GET, "/product/\(id)") }
        let text = try await metricsWhen("cacheload_server_hit_ratio 0.5454")
        let redis = RedisClient(configuration: try RedisConfiguration(url: server.redisServer.url))
        let info = try await redis.info("stats")
        await redis.shutdown()
        #expect(text.contains("cacheload_redis_keyspace_hits_total \(info["keyspace_hits"]!)"), "\(text)")
        #expect(text.contains("cacheload_redis_keyspace_misses_total \(info["keyspace_misses"]!)"))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("export-\(UUID()).txt")
        try text.write(to: file, atomically: true, encoding: .utf8)
        let check = try run("/bin/sh", ["-c", "promtool check metrics < \(file.path) 2>&1"])
        #expect(!check.contains("error"), "\(check)")
        try? FileManager.default.removeItem(at: file)

        // SIGTERM: the pusher flushes what it aggregated before exiting.
        kill(pid, SIGTERM)
        #expect(waitForExit(pid) == 0)
        let cloudWatch = TestServices.cloudWatch()
        let dimensions = CloudWatchPusher.Configuration(environment: environment).dimensions
        let hits = try await cloudWatch.statistics(
            namespace: "CacheLoad", metric: CloudWatchPusher.Name.hits, dimensions: dimensions, statistic: "Sum",
            from: Date(timeIntervalSinceNow: -3600), to: Date(timeIntervalSinceNow: 600))
        let misses = try await cloudWatch.statistics(
            namespace: "CacheLoad", metric: CloudWatchPusher.Name.misses, dimensions: dimensions, statistic: "Sum",
            from: Date(timeIntervalSinceNow: -3600), to: Date(timeIntervalSinceNow: 600))
        #expect(hits.reduce(0, +) == 3, "\(hits)")
        #expect(misses.reduce(0, +) == 2, "\(misses)")
        await client.shutdown()
        await server.stop()
    }

    @Test("export publishes only what it was given: no server series without --server, no ratio without lookups; --server …/stats reads /stats")
    func onlyWhatItWasGiven() async throws {
        let redisServer = try RedisServerProcess()
        let client = CurlClient(concurrency: 1)
        func scrape(_ arguments: [String], until done: (String) -> Bool) async throws -> String {
            let port = freeLoopbackPort()
            let pid = try spawn(TestServices.cacheloadBinary, ["export", "--redis", redisServer.url, "--listen", "127.0.0.1:\(port)",
                                                               "--interval", "1", "--log-level", "error"] + arguments)
            defer { stopIfRunning(pid) }
            try waitUntilAccepting(port: port, seconds: 10)
            var text = ""
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline {
                text = try await client.execute(CurlRequest(url: "http://127.0.0.1:\(port)/metrics")).text
                if done(text) { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            return text
        }
        // A fresh Redis: read (up 1), but no lookups yet — no ratio to publish.
        let alone = try await scrape([]) { $0.contains("cacheload_export_target_up{target=\"redis\"} 1") }
        #expect(alone.contains("cacheload_export_target_up{target=\"redis\"} 1"), "\(alone)")
        #expect(!alone.contains("target=\"server\""), "\(alone)")
        #expect(!alone.contains("cacheload_server_hit_ratio"), "\(alone)")
        #expect(!alone.contains("cacheload_redis_hit_ratio "), "\(alone)")

        let server = try await TestServer.start(redisURL: redisServer.url)
        _ = try await server.request(.GET, "/product/1")
        _ = try await server.request(.GET, "/product/1")
        let pasted = try await scrape(["--server", server.baseURL + "/stats/"]) { $0.contains("cacheload_server_hit_ratio 0.5") }
        #expect(pasted.contains("cacheload_export_target_up{target=\"server\"} 1"), "\(pasted)")
        #expect(pasted.contains("cacheload_server_hit_ratio 0.5"), "\(pasted)")
        #expect(pasted.contains("cacheload_redis_hit_ratio 0.5"), "\(pasted)")
        await server.stop()

        // A server that does not answer: up 0, and its ratio is no sample rather than a 0.
        let unreadable = try await scrape(["--server", "http://127.0.0.1:9"]) { $0.contains("cacheload_export_target_up{target=\"server\"} 0") }
        #expect(unreadable.contains("cacheload_export_target_up{target=\"server\"} 0"), "\(unreadable)")
        #expect(!unreadable.contains("cacheload_server_hit_ratio"), "\(unreadable)")
        await client.shutdown()
    }

    @Test("a counter that goes backwards (CONFIG RESETSTAT) starts again from its new value and is counted")
    func counterReset() {
        var baseline = CounterBaseline<String>()
        #expect(baseline.increase("hits", reading: 1_436_895) == nil, "a first reading is a baseline, not an increase")
        #expect(baseline.increase("hits", reading: 1_436_900) == 5)
        #expect(baseline.increase("misses", reading: 10) == nil)
        #expect(baseline.increase("hits", reading: 3) == 3, "after a reset the new reading is the increase")
        #expect(baseline.resets == 1)
        #expect(baseline.increase("hits", reading: 3) == 0)
    }
}
