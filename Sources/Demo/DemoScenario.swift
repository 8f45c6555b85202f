import AWS
import Dispatch
import Foundation
import HTTPCurl
import LoadGen
import Logging
import Origins
import Postgres
import Redis
import Server
import Telemetry

/// `cacheload demo`: the whole story on one machine — before (cache off), cold → warm, warm,
/// 1000 concurrent, constant rate, the slow page, S3 objects, and the alarm — then the
/// before/after table and `demo-report/`.
package final class DemoScenario: @unchecked Sendable {
    /// What the demo runs against and where it writes.
    package struct Configuration: Sendable {
        package var redis: RedisConfiguration
        /// The database behind the cache: PostgreSQL or MySQL (`--origin`).
        package var origin: OriginDatabase
        /// Short phases (for tests and a quick look).
        package var quick = false
        package var reportDirectory = "demo-report"
        /// Seconds `slow_version()` sleeps.
        package var slowSeconds = 3.0
        /// Prometheus binary and alert rules for the alert phase (skipped when missing).
        package var prometheus = "/usr/bin/prometheus"
        package var rules = "dashboards/prometheus/alerts.yml"
        /// The fleet phase (origin amplification, three servers): with the others, alone (as
        /// `make bench` runs it), or left out.
        package var fleet = FleetPhase.included

        package init(redis: RedisConfiguration, origin: OriginDatabase) {
            self.redis = redis
            self.origin = origin
        }
    }

    /// Where the fleet phase runs: with the others, alone, or not at all.
    package enum FleetPhase: Sendable {
        case included, only, leftOut
    }

    private let configuration: Configuration
    /// The process's one credential chain: S3 (the demo's and its servers'), CloudWatch.
    private let chain = AWSCredentialChain()
    private let server: DemoServer
    private let say: @Sendable (String) -> Void
    /// Phases run so far. `@unchecked Sendable`: the scenario runs its phases one after another
    /// from one task; nothing else touches them.
    private var phases: [DemoPhase] = []

    /// - Parameter say: prints a line (and flushes: progress that arrives at the end is no progress).
    package init(configuration: Configuration, say: @escaping @Sendable (String) -> Void) {
        self.configuration = configuration
        var logger = Logger(label: "cacheload.demo")
        logger.logLevel = .warning
        server = DemoServer(redis: configuration.redis, origin: configuration.origin, logger: logger, chain: chain)
        self.say = say
    }

    /// Stops the processes the demo started (its Prometheus), for an interrupt handler; the
    /// servers run in this process and go with it.
    package static func stopChildren() {
        DemoPrometheus.stopChildren()
    }

    /// Runs every phase and writes the report.
    /// - Returns: the claims of the story the phases contradicted (the demo then exits 1), one
    ///   line each; empty when the story holds.
    package func run() async throws -> [String] {
        do {
            let contradictions = try await runStory()
            await chain.shutdown()
            return contradictions
        } catch {
            await chain.shutdown()
            throw error
        }
    }

    private func runStory() async throws -> [String] {
        let directory = configuration.reportDirectory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        say("== CacheLoad demo ==\nRedis \(configuration.redis)\nOrigin \(configuration.origin)\n")
        let redis = RedisClient(configuration: configuration.redis)
        if configuration.fleet == .only {
            do {
                try await prepare(redis)
                let rows = try await amplification().run(redis: redis)
                say("\n" + OriginAmplification.table(rows).joined(separator: "\n"))
                try JSONSerialization.data(withJSONObject: rows.map(\.json), options: [.prettyPrinted, .sortedKeys])
                    .write(to: URL(fileURLWithPath: "\(directory)/origin-amplification.json"))
            } catch {
                await redis.shutdown()
                throw error
            }
            await redis.shutdown()
            return []
        }
        do {
            let report = try await runPhases(redis: redis)
            await redis.shutdown()
            say("\n" + report.text)
            try JSONSerialization.data(withJSONObject: report.json, options: [.prettyPrinted, .sortedKeys])
                .write(to: URL(fileURLWithPath: "\(directory)/summary.json"))
            try report.html.write(toFile: "\(directory)/index.html", atomically: true, encoding: .utf8)
            say("\nreport: \(directory)/index.html, \(directory)/summary.json")
        } catch {
            await redis.shutdown()
            throw error
        }
        let story = DemoStory(phases: phases.map { ($0.name, $0.result) }, slowSeconds: configuration.slowSeconds)
        let contradictions = story.contradictions.map(\.description)
        say(contradictions.isEmpty ? "\nthe story holds: every phase measured what it claims"
            : "\n✗ the story does not hold:\n" + contradictions.map { "  ✗ " + $0 }.joined(separator: "\n"))
        return contradictions
    }

    /// Every phase in order; the report of what they measured.
    private func runPhases(redis: RedisClient) async throws -> DemoReport {
        try await prepare(redis)
        let before = try await server.with(cache: false) { port, _ in
            try await measure("before", "before: --cache off, 50 connections, every request from the origin database", port: port)
        }
        let cloudWatch = CloudWatchClient.fromEnvironment(credentials: chain)
        let registry = MetricsRegistry()
        // Hits and misses for the alarm phase; no latency: the demo's CloudWatch is usually the local
        // moto_server, which keeps every latency sample of a values/counts datum as an object of its
        // own (hundreds of thousands here). Real CloudWatch stores the ≤ 150 values as they are.
        var pushed = CloudWatchPusher.Configuration(environment: "demo", flushInterval: .seconds(3600), highResolution: true)
        pushed.sendsLatency = false
        let pusher = CloudWatchPusher(configuration: pushed,
                                      client: cloudWatch, spool: MetricSpool(path: "\(configuration.reportDirectory)/cloudwatch-spool.jsonl"),
                                      registry: registry, logger: server.logger)
        let cached = try await cachePhases(registry: registry, pusher: pusher)
        _ = await pusher.flush()
        await objectPhases()
        let alarm = await alarmPhase(redis: redis, pusher: pusher, cloudWatch: cloudWatch)
        let redisInfo = (try? await redis.info("stats")) ?? [:]
        var amplification: [OriginAmplification.Row] = []
        if configuration.fleet == .leftOut {
            say("\n-- the fleet phase (three servers on one Redis) left out: --no-fleet")
        } else {
            amplification = try await self.amplification().run(redis: redis)
        }
        return DemoReport(before: before, after: cached.warm, phases: phases, redisInfo: redisInfo,
                          originQueries: cached.originQueries, slowCold: cached.slowCold, alarm: alarm, amplification: amplification)
    }

    private func amplification() -> OriginAmplification {
        OriginAmplification(server: server, quick: configuration.quick, say: say)
    }

    private func prepare(_ redis: RedisClient) async throws {
        let slowSeconds = configuration.slowSeconds
        let seeded = try await configuration.origin.withCatalogStore { try await $0.seed(products: 1005, slowSeconds: slowSeconds) }
        say("seeded \(seeded.total) products; slow_version() sleeps \(configuration.slowSeconds) s")
        try await redis.flushdb()
    }

    /// Cold → warm, warm, 1000 concurrent, constant rate and the slow page, on one server.
    private func cachePhases(registry: MetricsRegistry, pusher: CloudWatchPusher) async throws
        -> (warm: LoadResult, originQueries: Int, slowCold: Duration) {
        let quick = configuration.quick
        return try await server.with(cache: true, registry: registry, pusher: pusher) { port, originQueries in
            _ = try await measure("cold-to-warm", "cold → warm: cache on, from an empty Redis, 50 connections", port: port)
            // Keys the random cold → warm phase did not draw are read once here: the warm phase
            // then starts warm on any machine, however few requests the first phase managed.
            try await readOnce(port: port, paths: (1...1005).map { "/product/\($0)" })
            let warm = try await measure("warm", "warm: the same load as before, cache on", port: port)
            _ = try await measure("concurrent-1000", "1000 concurrent connections (closed loop)", port: port, connections: quick ? 300 : 1000)
            _ = try await measure("constant-rate", "constant rate: \(quick ? 1000 : 3000) req/s over 100 connections, latency from intended start",
                                  port: port, connections: 100, rate: quick ? 1000 : 3000)
            let clock = ContinuousClock()
            let start = clock.now
            let probe = CurlClient(concurrency: 1)
            _ = try? await probe.execute(CurlRequest(url: "http://127.0.0.1:\(port)/", timeout: .seconds(120)))
            await probe.shutdown()
            let slowCold = clock.now - start
            say("\n-- the slow page: first GET / took \(Int(slowCold / .milliseconds(1))) ms (slow_version() ran)")
            _ = try await measure("slow-page", "the slow page, cached: GET / with 1 connection", port: port, path: "/", connections: 1,
                                  duration: .seconds(2))
            return (warm, originQueries(), slowCold)
        }
    }

    /// `GET` of each path, eight at a time: every key loaded once before a phase that shows the
    /// cache warm.
    private func readOnce(port: Int, paths: [String]) async throws {
        let client = CurlClient(concurrency: 8)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, path) in paths.enumerated() {
                    if index >= 8 { try await group.next() }
                    group.addTask { _ = try await client.execute(CurlRequest(url: "http://127.0.0.1:\(port)\(path)", timeout: .seconds(30))) }
                }
                try await group.waitForAll()
            }
        } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
    }

    /// S3 objects behind the cache (the "Caching Amazon S3 with ElastiCache" sample), off then on.
    private func objectPhases() async {
        let s3 = S3Configuration(bucket: "cacheload-demo-objects", region: chain.region(), endpoint: S3Configuration.endpoint())
        let objects = S3ObjectStore(configuration: s3, credentials: chain.credentials)
        let seconds: Duration = .seconds(configuration.quick ? 1 : 4)
        do {
            _ = try await S3SampleObjects(store: objects).put(count: 100, size: 1024)
            for cache in [false, true] {
                try await server.with(cache: cache, s3: s3) { port, _ in
                    // With the cache on, each object's first read (from S3) happens here; the
                    // phase then shows what the cache serves after it.
                    if cache { try await readOnce(port: port, paths: (1...100).map { "/object/object-\($0)" }) }
                    _ = try await measure(cache ? "s3-cache-on" : "s3-cache-off",
                                          cache ? "S3 objects, cache on: GET /object/{key} from Redis, each object read once before"
                                              : "S3 objects, cache off: every GET /object/{key} from S3",
                                          port: port, path: "/object/object-{key}", connections: 20, duration: seconds, keys: 1...100)
                }
            }
        } catch {
            say("S3 phase skipped: \(error)")
        }
        await objects.shutdown()
        await chain.shutdown()
    }

    /// A sweep far wider than the cache drives the hit ratio under 80%: Prometheus's alert fires,
    /// CloudWatch receives the ratio and holds the alarm.
    private func alarmPhase(redis: RedisClient, pusher: CloudWatchPusher, cloudWatch: CloudWatchClient) async -> String {
        let alarm = HitRatioAlarm(environment: "demo")
        var prometheusLine = "Prometheus alert phase skipped (no \(configuration.prometheus) or \(configuration.rules))"
        let alarmLine: String
        do {
            try await alarm.create(with: cloudWatch)
            try await redis.flushdb()
            let port = DemoPrometheus.freePort()
            let watcher = await DemoPrometheus.started(binary: configuration.prometheus, rules: configuration.rules, target: port,
                                                       directory: "\(configuration.reportDirectory)/prometheus")
            defer { watcher.value?.stop() }
            if let reason = watcher.skipped { prometheusLine = reason }
            if let line = try await sweep(port: port, pusher: pusher, watcher: watcher.value) { prometheusLine = line }
            alarmLine = try await alarmReadBack(alarm, pusher: pusher, cloudWatch: cloudWatch)
        } catch {
            alarmLine = "CloudWatch step failed: \(error)"
        }
        say("\n-- alarm\n" + prometheusLine + "\n" + alarmLine)
        return prometheusLine + "; " + alarmLine
    }

    /// Two million ids, almost all never requested: nearly every lookup misses (unknown ids are
    /// answered 404 and cached as not-found). Returns what Prometheus saw, when it watched.
    private func sweep(port: Int, pusher: CloudWatchPusher, watcher: DemoPrometheus?) async throws -> String? {
        let limit: Duration = .seconds(15)
        return try await server.with(cache: true, registry: MetricsRegistry(), pusher: pusher, port: port) { port, _ in
            let watching = watcher.map { watcher in Task { await watcher.waitForAlert("CacheHitRatioLow", within: limit) } }
            _ = try await measure("alarm", "alarm: a sweep over 2,000,000 mostly unseen ids (the hit ratio falls)", port: port,
                                  connections: 50, duration: limit, keys: 1...2_000_000)
            guard let watching else { return nil }
            let fired = await watching.value
            return fired.map { "Prometheus alert CacheHitRatioLow firing after \(String(format: "%.1f", $0 / .seconds(1))) s of the sweep "
                + "(rules from \(configuration.rules), windows shortened to seconds)" } ?? "Prometheus alert CacheHitRatioLow did not fire"
        }
    }

    /// The lowest CacheHitRatio of the last ten minutes, read back from CloudWatch, and the alarm's state.
    private func alarmReadBack(_ alarm: HitRatioAlarm, pusher: CloudWatchPusher, cloudWatch: CloudWatchClient) async throws -> String {
        let outcome = await pusher.flush()
        let lowest = try await cloudWatch.statistics(
            namespace: alarm.namespace, metric: CloudWatchPusher.Name.hitRatio, dimensions: alarm.dimensions, statistic: "Minimum",
            from: Date().addingTimeInterval(-600), to: Date().addingTimeInterval(60)).min()
        let ratio = lowest ?? phases.last?.result.hitRatio.map { $0 * 100 } ?? 0
        let state = try await HitRatioAlarm.describe(alarm.name, with: cloudWatch)
        return String(format: "CloudWatch CacheHitRatio %.1f%% ", ratio) + (ratio < 80 ? "<" : "≥")
            + " 80% threshold; \(outcome.delivered) datums delivered to CloudWatch; alarm \(alarm.name) created, state \(state?.state ?? "missing")"
            + " (a local endpoint stores the data but does not evaluate alarms)"
    }

    /// One load phase: runs it, prints and writes its results, and keeps it for the report.
    private func measure(_ name: String, _ title: String, port: Int, path: String = "/product/{key}", connections: Int = 50,
                         rate: Double? = nil, duration: Duration? = nil, keys: ClosedRange<Int> = 1...1005) async throws -> LoadResult {
        say("\n-- \(title)")
        let plan = LoadPlan(template: try RequestTemplate(url: "http://127.0.0.1:\(port)\(path)"), keys: keys, distribution: .uniform,
                            seed: 42, connections: connections, rate: rate,
                            duration: duration ?? .seconds(configuration.quick ? 2 : 8), timeout: .seconds(10))
        let result = try await LoadEngine(plan: plan).run { [say] progress in say(progress.line(total: plan.duration)) }
        say(result.summary)
        let directory = configuration.reportDirectory
        try result.jsonData().write(to: URL(fileURLWithPath: "\(directory)/\(name).json"))
        try result.html.write(toFile: "\(directory)/\(name).html", atomically: true, encoding: .utf8)
        phases.append(DemoPhase(name: name, title: title, result: result))
        return result
    }
}
