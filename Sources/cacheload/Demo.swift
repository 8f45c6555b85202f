import ArgumentParser
import CacheAside
import Foundation
import HTTPCurl
import LoadGen
import Logging
import Origins
import Postgres
import Redis
import Server
import ServiceLifecycle
import Telemetry

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the whole story on this machine: before/after, 1000 concurrent, constant rate, slow page, alarm.",
        discussion: """
            `make demo` starts throwaway Redis, PostgreSQL and moto_server and runs this. By hand:
              scripts/services start && set -a && . ./.services.env && set +a && cacheload demo
            Writes demo-report/summary.json and one result file per phase.
            """)

    @OptionGroup var connections: ConnectionOptions

    @Flag(help: "Short phases (for tests and a quick look).")
    var quick = false

    @Option(help: ArgumentHelp("Where the report goes.", valueName: "dir"))
    var reportDir: String = "demo-report"

    @Option(help: "Seconds slow_version() sleeps.")
    var slowSeconds: Double = 3

    @Option(help: ArgumentHelp("Prometheus binary for the alert phase (skipped when missing).", valueName: "path"))
    var prometheus: String = "/usr/bin/prometheus"

    @Option(help: ArgumentHelp("Alert rules; the demo shortens their windows and `for` to seconds.", valueName: "file"))
    var rules: String = "dashboards/prometheus/alerts.yml"

    struct Phase {
        var name: String
        var title: String
        var result: LoadResult
    }

    func run() async throws {
        var logger = Logger(label: "cacheload.demo")
        logger.logLevel = .warning
        let signalSources = DemoPrometheus.stopChildrenOnSignal()
        defer { signalSources.forEach { $0.cancel() } }
        let redisConfiguration = try connections.redisConfiguration()
        let postgresConfiguration = try connections.postgresConfiguration(poolSize: 16)
        let seconds: Duration = quick ? .seconds(2) : .seconds(8)
        try FileManager.default.createDirectory(atPath: reportDir, withIntermediateDirectories: true)

        say("== CacheLoad demo ==\nRedis \(redisConfiguration)\nPostgreSQL \(postgresConfiguration)\n")
        let postgres = PostgresClient(configuration: postgresConfiguration)
        let seeded = try await CatalogSeeder(postgres: postgres).seed(products: 1005, slowSeconds: slowSeconds)
        await postgres.shutdown()
        say("seeded \(seeded.total) products; slow_version() sleeps \(slowSeconds) s")
        let redis = RedisClient(configuration: redisConfiguration)
        try await redis.flushdb()

        var phases: [Phase] = []
        func load(_ name: String, _ title: String, port: Int, path: String = "/product/{key}", connections: Int = 50,
                  rate: Double? = nil, duration: Duration? = nil, requests: Int? = nil,
                  distribution: KeyDistribution = .uniform, keys: ClosedRange<Int> = 1...1005) async throws -> LoadResult {
            say("\n-- \(title)")
            let plan = LoadPlan(template: try RequestTemplate(url: "http://127.0.0.1:\(port)\(path)"), keys: keys,
                                distribution: distribution, seed: 42, connections: connections, rate: rate,
                                duration: requests == nil ? (duration ?? seconds) : nil, requests: requests, timeout: .seconds(10))
            let result = try await LoadEngine(plan: plan).run { progress in
                Load.printProgress(progress, total: plan.duration, interactive: false)
            }
            say(result.summary)
            try result.jsonData().write(to: URL(fileURLWithPath: "\(reportDir)/\(name).json"))
            try result.html.write(toFile: "\(reportDir)/\(name).html", atomically: true, encoding: .utf8)
            phases.append(Phase(name: name, title: title, result: result))
            return result
        }

        // 1. Before: every request from PostgreSQL.
        let before = try await withServer(redisConfiguration, postgresConfiguration, cache: false, logger: logger) { port, _ in
            try await load("before", "before: --cache off, 50 connections, every request from PostgreSQL", port: port)
        }
        // 2–5. With the cache.
        let registry = MetricsRegistry()
        let cloudWatchClient = try CloudWatchOptions.parse([]).client()
        let pusher = CloudWatchPusher(configuration: .init(environment: "demo", flushInterval: .seconds(3600), highResolution: true),
                                      client: cloudWatchClient, spool: MetricSpool(path: "\(reportDir)/cloudwatch-spool.jsonl"),
                                      registry: registry, logger: logger)
        var after: LoadResult?
        var slowCold: Duration = .zero
        var originQueries = 0
        try await withServer(redisConfiguration, postgresConfiguration, cache: true, logger: logger, registry: registry, pusher: pusher) { port, stats in
            _ = try await load("cold-to-warm", "cold → warm: cache on, from an empty Redis, 50 connections", port: port)
            after = try await load("warm", "warm: the same load as before, cache on", port: port)
            _ = try await load("concurrent-1000", "1000 concurrent connections (closed loop)", port: port, connections: quick ? 300 : 1000)
            _ = try await load("constant-rate", "constant rate: \(quick ? 1000 : 3000) req/s over 100 connections, latency from intended start",
                               port: port, connections: 100, rate: quick ? 1000 : 3000)
            let clock = ContinuousClock()
            let start = clock.now
            _ = try? await HTTPProbe.get(port: port, path: "/")
            slowCold = clock.now - start
            say("\n-- the slow page: first GET / took \(Int(slowCold.seconds * 1000)) ms (slow_version() ran)")
            _ = try await load("slow-page", "the slow page, cached: GET / with 1 connection", port: port, path: "/", connections: 1,
                               duration: .seconds(2))
            originQueries = stats()
        }
        _ = await pusher.flush()

        // 6. S3 objects behind the cache (the "Caching Amazon S3 with ElastiCache" sample).
        let chain = AWSCredentialChain()
        let s3 = S3Configuration(bucket: "cacheload-demo-objects", region: chain.region(), endpoint: S3Configuration.endpoint())
        let objects = S3ObjectStore(configuration: s3, credentials: { try await chain.resolve().credentials })
        do {
            try await objects.createBucket()
            for index in 1...100 {
                try await objects.put(S3.key(index), S3Object(body: Array(repeating: UInt8(index), count: 1024), contentType: "application/octet-stream"))
            }
            try await withServer(redisConfiguration, postgresConfiguration, cache: false, logger: logger, s3: s3) { port, _ in
                _ = try await load("s3-cache-off", "S3 objects, cache off: every GET /object/{key} from S3", port: port,
                                   path: "/object/object-{key}", connections: 20, duration: .seconds(quick ? 1 : 4), keys: 1...100)
            }
            try await withServer(redisConfiguration, postgresConfiguration, cache: true, logger: logger, s3: s3) { port, _ in
                _ = try await load("s3-cache-on", "S3 objects, cache on: GET /object/{key} from Redis after the first read", port: port,
                                   path: "/object/object-{key}", connections: 20, duration: .seconds(quick ? 1 : 4), keys: 1...100)
            }
        } catch {
            say("S3 phase skipped: \(error)")
        }

        // 7. Alarm: a key spread far wider than the cache holds drives the hit ratio under 80%.
        let alarm = HitRatioAlarm(environment: "demo")
        var alarmLine = "CloudWatch unavailable"
        var prometheusLine = "Prometheus alert phase skipped (no \(prometheus) or \(rules))"
        do {
            try await alarm.create(with: cloudWatchClient)
            try await redis.flushdb()
            let alarmPort = DemoPrometheus.freePort()
            var watcher = try? DemoPrometheus(binary: prometheus, rules: rules, target: alarmPort, directory: "\(reportDir)/prometheus")
            defer { watcher?.stop() }
            if let started = watcher, await !started.waitUntilReady(within: .seconds(20)) {
                started.stop()
                watcher = nil
                prometheusLine = "Prometheus did not become ready; alert phase skipped"
            }
            try await withServer(redisConfiguration, postgresConfiguration, cache: true, logger: logger, registry: MetricsRegistry(),
                                 pusher: pusher, port: alarmPort) { port, _ in
                // A sweep across two million ids, almost all never requested before: nearly every
                // lookup misses (unknown ids are answered 404 and cached as not-found).
                let limit: Duration = .seconds(15)
                let watching = watcher.map { watcher in Task { await watcher.waitForAlert("CacheHitRatioLow", within: limit) } }
                _ = try await load("alarm", "alarm: a sweep over 2,000,000 mostly unseen ids (the hit ratio falls)", port: port,
                                   connections: 50, duration: limit, distribution: .uniform, keys: 1...2_000_000)
                if let watching {
                    let fired = await watching.value
                    prometheusLine = fired.map { "Prometheus alert CacheHitRatioLow firing after \(String(format: "%.1f", $0.seconds)) s of the sweep (rules from \(rules), windows shortened to seconds)" }
                        ?? "Prometheus alert CacheHitRatioLow did not fire"
                }
            }
            let outcome = await pusher.flush()
            // Read the ratio back from CloudWatch: the lowest CacheHitRatio of the last ten minutes.
            let lowest = try await cloudWatchClient.statistics(
                namespace: alarm.namespace, metric: CloudWatchPusher.Name.hitRatio, dimensions: alarm.dimensions, statistic: "Minimum",
                from: Date().addingTimeInterval(-600), to: Date().addingTimeInterval(60)).min()
            let ratio = lowest ?? phases.last?.result.hitRatio.map { $0 * 100 } ?? 0
            let state = try await HitRatioAlarm.describe(alarm.name, with: cloudWatchClient)
            alarmLine = String(format: "CloudWatch CacheHitRatio %.1f%% ", ratio) + (ratio < 80 ? "<" : "≥")
                + " 80% threshold; \(outcome.delivered) datums delivered to CloudWatch; alarm \(alarm.name) created, state \(state?.state ?? "missing")"
                + " (a local endpoint stores the data but does not evaluate alarms)"
        } catch {
            alarmLine = "CloudWatch step failed: \(error)"
        }
        say("\n-- alarm\n" + prometheusLine + "\n" + alarmLine)

        let info = (try? await redis.info("stats")) ?? [:]
        await redis.shutdown()
        let summary = Self.summary(before: before, after: after!, phases: phases, redisInfo: info, originQueries: originQueries,
                                   slowCold: slowCold, alarm: prometheusLine + "; " + alarmLine)
        say("\n" + summary.text)
        try JSONSerialization.data(withJSONObject: summary.json, options: [.prettyPrinted, .sortedKeys])
            .write(to: URL(fileURLWithPath: "\(reportDir)/summary.json"))
        try Self.indexHTML(phases: phases, summary: summary.text).write(toFile: "\(reportDir)/index.html", atomically: true, encoding: .utf8)
        say("\nreport: \(reportDir)/index.html, \(reportDir)/summary.json")
        if phases.contains(where: { $0.result.counts.completed == 0 }) { throw ExitCode(1) }
    }

    /// Runs a server in-process for the duration of `body`.
    private func withServer<T: Sendable>(
        _ redis: RedisConfiguration, _ postgres: PostgresConfiguration, cache: Bool, logger: Logger,
        registry: MetricsRegistry = MetricsRegistry(), pusher: CloudWatchPusher? = nil, s3: S3Configuration? = nil, port: Int = 0,
        _ body: (Int, @escaping @Sendable () -> Int) async throws -> T
    ) async throws -> T {
        var configuration = ServerConfiguration(host: "127.0.0.1", port: port, redis: redis, postgres: postgres,
                                                cache: .init(enabled: cache))
        configuration.s3 = s3
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let server = CacheLoadServer(configuration: configuration, registry: registry, logger: logger, cloudWatch: pusher) { port in
            continuation.yield(port)
            continuation.finish()
        }
        let group = ServiceGroup(configuration: .init(services: [server], logger: logger))
        let task = Task { try await group.run() }
        guard let port = await ports.first(where: { _ in true }) else { throw CommandFailure("the server did not start") }
        let stats: @Sendable () -> Int = {
            let text = String(decoding: registry.exposition(), as: UTF8.self)
            return text.split(separator: "\n").filter { $0.hasPrefix("cacheload_origin_queries_total") }
                .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0) { $0 + Int($1) }
        }
        do {
            let value = try await body(port, stats)
            await group.triggerGracefulShutdown()
            _ = try? await task.value
            return value
        } catch {
            await group.triggerGracefulShutdown()
            _ = try? await task.value
            throw error
        }
    }

    static func summary(before: LoadResult, after: LoadResult, phases: [Phase], redisInfo: [String: String], originQueries: Int,
                        slowCold: Duration, alarm: String) -> (text: String, json: [String: Any]) {
        func ms(_ value: Double) -> String { String(format: "%.2f ms", value) }
        let beforeMean = before.meanLatencyMilliseconds, afterMean = after.meanLatencyMilliseconds
        let beforeP99 = before.latencyMilliseconds(atPercentile: 99), afterP99 = after.latencyMilliseconds(atPercentile: 99)
        let improvement = beforeMean > 0 ? (beforeMean - afterMean) / beforeMean * 100 : 0
        let served = phases.filter { !["before", "alarm"].contains($0.name) && !$0.name.hasPrefix("s3-") }.reduce(0) { $0 + $1.result.counts.completed }
        var lines = ["== before / after (the labs' terms, and what they never measured) =="]
        func row(_ name: String, _ a: String, _ b: String) { lines.append(name.padding(toLength: 28, withPad: " ", startingAt: 0) + a.leftPadded(14) + b.leftPadded(14)) }
        row("", "before", "after")
        row("requests/s", String(format: "%.0f", before.achievedRate), String(format: "%.0f", after.achievedRate))
        row("average latency", ms(beforeMean), ms(afterMean))
        row("p99 latency", ms(beforeP99), ms(afterP99))
        row("p99.9 latency", ms(before.latencyMilliseconds(atPercentile: 99.9)), ms(after.latencyMilliseconds(atPercentile: 99.9)))
        row("errors", "\(before.counts.errors + before.counts.status5xx)", "\(after.counts.errors + after.counts.status5xx)")
        row("hit ratio (client)", "-", String(format: "%.1f%%", (after.hitRatio ?? 0) * 100))
        lines.append(String(format: "average latency improvement: %.1f%%", improvement))
        lines.append("Redis keyspace_hits \(redisInfo["keyspace_hits"] ?? "?"), keyspace_misses \(redisInfo["keyspace_misses"] ?? "?")")
        lines.append("origin queries with the cache: \(originQueries) for \(served) requests (\(max(0, served - originQueries)) queries saved)")
        lines.append("slow page: \(Int(slowCold.seconds * 1000)) ms cold, p50 \(ms(phases.first { $0.name == "slow-page" }?.result.latencyMilliseconds(atPercentile: 50) ?? 0)) cached")
        if let off = phases.first(where: { $0.name == "s3-cache-off" })?.result, let on = phases.first(where: { $0.name == "s3-cache-on" })?.result {
            lines.append("S3 objects: p50 \(ms(off.latencyMilliseconds(atPercentile: 50))) from S3, \(ms(on.latencyMilliseconds(atPercentile: 50))) with the cache; \(String(format: "%.0f", off.achievedRate)) → \(String(format: "%.0f", on.achievedRate)) req/s")
        }
        lines.append("alarm: \(alarm)")
        let json: [String: Any] = [
            "before": ["requests_per_second": before.achievedRate, "mean_ms": beforeMean, "p99_ms": beforeP99],
            "after": ["requests_per_second": after.achievedRate, "mean_ms": afterMean, "p99_ms": afterP99, "hit_ratio": after.hitRatio ?? 0],
            "improvement_percent": improvement, "origin_queries": originQueries, "requests_with_cache": served,
            "keyspace_hits": Int(redisInfo["keyspace_hits"] ?? "") ?? 0, "keyspace_misses": Int(redisInfo["keyspace_misses"] ?? "") ?? 0,
            "slow_page_cold_ms": slowCold.seconds * 1000, "alarm": alarm,
            "phases": phases.map { ["name": $0.name, "title": $0.title, "requests_per_second": $0.result.achievedRate,
                                    "p99_ms": $0.result.latencyMilliseconds(atPercentile: 99), "hit_ratio": $0.result.hitRatio ?? NSNull(),
                                    "errors": $0.result.counts.errors, "file": "\($0.name).json"] as [String: Any] },
        ]
        return (lines.joined(separator: "\n"), json)
    }

    static func indexHTML(phases: [Phase], summary: String) -> String {
        let rows = phases.map { phase in
            "<tr><td>\(phase.title)</td><td>\(String(format: "%.0f", phase.result.achievedRate))</td><td>\(String(format: "%.2f", phase.result.latencyMilliseconds(atPercentile: 99)))</td><td>\(phase.result.hitRatio.map { String(format: "%.1f%%", $0 * 100) } ?? "-")</td><td><a href=\"\(phase.name).html\">report</a> · <a href=\"\(phase.name).json\">json</a></td></tr>"
        }.joined(separator: "\n")
        let escaped = summary.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        return """
            <!doctype html><html><head><meta charset="utf-8"><title>CacheLoad demo</title>
            <style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}td,th{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left}pre{background:#f6f6f6;padding:1em;white-space:pre-wrap}</style>
            </head><body><h1>CacheLoad demo</h1>
            <table><tr><th>phase</th><th>req/s</th><th>p99 ms</th><th>hit ratio</th><th>result</th></tr>
            \(rows)
            </table><h2>Summary</h2><pre>\(escaped)</pre></body></html>
            """
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}

/// One plain HTTP GET over libcurl, for timing the slow page's first request.
enum HTTPProbe {
    static func get(port: Int, path: String) async throws -> Int {
        let client = HTTPCurl.HTTPClient(concurrency: 1)
        defer { Task { await client.shutdown() } }
        return try await client.execute(HTTPCurl.HTTPRequest(url: "http://127.0.0.1:\(port)\(path)", timeout: .seconds(120))).status
    }
}

