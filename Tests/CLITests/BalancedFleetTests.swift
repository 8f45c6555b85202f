import Foundation
import Telemetry
import Testing
import TestSupport

/// Three `cacheload serve` instances behind a real balancer (Debian's HAProxy, health checks on
/// `/health` as an ALB target group does them) under constant-rate load through it: one is sent
/// SIGTERM mid-run (it drains: no request fails), another is SIGKILLed mid-run (failures are
/// counted and bounded by the health checks), and the CloudWatch datums of the fleet equal what
/// each instance answered as the balancer counted it.
@Suite("A fleet behind HAProxy: SIGTERM drains, SIGKILL is bounded, CloudWatch adds up", .serialized)
struct BalancedFleetTests {
    private static let rate = 200
    private static let requests = 1200
    private static let concurrency = 16

    /// A constant-rate run through the balancer: the exit status and `summary` of its JSON.
    private func load(_ balancer: HAProxyProcess) async throws -> (status: Int32?, output: String, summary: [String: Any]) {
        let json = FileManager.default.temporaryDirectory.appendingPathComponent("fleet-\(UUID()).json").path
        defer { try? FileManager.default.removeItem(atPath: json) }
        let (status, output) = try await runCacheload([
            "load", "\(balancer.baseURL)/product/{key}", "--keys", "1-200", "--rate", "\(Self.rate)", "--requests", "\(Self.requests)",
            "-c", "\(Self.concurrency)", "--quiet", "--json", json,
        ], within: 60)
        let document = try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any]
        return (status, output, document?["summary"] as? [String: Any] ?? [:])
    }

    /// Requests that did not get a 2xx answer: non-2xx statuses and answers that never came.
    private func failures(_ summary: [String: Any]) -> Int {
        let status = summary["status"] as? [String: Int] ?? [:]
        let errors = summary["errors"] as? [String: Int] ?? [:]
        let unanswered = ["connect", "timeout", "reset", "bad_response", "tls"].reduce(0) { $0 + (errors[$1] ?? 0) }
        return (summary["requests"] as? Int ?? 0) - (status["2xx"] ?? 0) + unanswered
    }

    /// Waits (bounded) until `condition` holds, reading it every 50 ms.
    private func waitUntil(_ what: String, seconds: Double = 20, _ condition: () throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if try condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("timed out waiting until \(what)")
        throw CancellationError()
    }

    @Test("SIGTERM mid-run loses nothing, SIGKILL's failures stay within the health checks, CloudWatch sums what each served")
    func drainCrashAndTotals() async throws {
        let redis = try RedisServerProcess()
        let database = try await TestDatabase.create(products: 200)
        let environment = "alb\(UUID().uuidString.prefix(8).lowercased())"
        let aws = TestServices.awsEnvironment
        let instances = try (0..<3).map { index in
            try ServeProcess(redis: redis.url, postgres: database.url, arguments: [
                "--drain-seconds", "2", "--log-level", "notice",
                "--cloudwatch", "--environment", environment, "--instance-id", "i-\(index)", "--resolution", "1", "--flush-interval", "1",
                "--spool", FileManager.default.temporaryDirectory.appendingPathComponent("alb-spool-\(UUID()).jsonl").path,
            ], environment: aws)
        }
        let balancer = try HAProxyProcess(servers: instances.map(\.port))
        try await waitUntil("HAProxy sees three servers UP") {
            let states = try balancer.serverStates()
            return states.count == 3 && states.values.allSatisfy { $0 == "UP" }
        }

        // 1. SIGTERM under load: the instance drains (/health 503, still serving), HAProxy takes
        //    it out, then it stops. Not one request may fail.
        async let drained = load(balancer)
        try await waitUntil("s0 answered 100 requests") { try balancer.answered()["s0", default: 0] >= 100 }
        #expect(await instances[0].stop() == 0, "\(instances[0].output)")
        #expect(try balancer.serverStates()["s0"]?.hasPrefix("DOWN") == true, "the draining instance was taken out by its health checks")
        #expect(instances[0].output.contains("draining"))
        let first = try await drained
        #expect(first.status == 0, "\(first.output)")
        #expect(first.summary["requests"] as? Int == Self.requests, "\(first.summary)")
        #expect(failures(first.summary) == 0, "SIGTERM with a drain loses no request: \(first.summary)")

        // 2. SIGKILL under load: what was in flight and what reached it before two failed checks fail.
        let answeredBefore = try balancer.answered()["s1", default: 0]
        async let crashed = load(balancer)
        try await waitUntil("s1 answered 100 more requests") { try balancer.answered()["s1", default: 0] >= answeredBefore + 100 }
        instances[1].crash()
        let second = try await crashed
        let failed = failures(second.summary)
        // Half the rate reaches the dead instance until `fall` checks failed (one more interval for
        // the check under way), plus what was in flight.
        let bound = Self.rate / 2 * (balancer.fall + 1) * balancer.checkInterval / 1000 + Self.concurrency
        #expect(failed >= 1 && failed <= bound, "SIGKILL: \(failed) failed requests, bound \(bound): \(second.summary)")
        try await waitUntil("HAProxy takes s1 out") { try balancer.serverStates()["s1"]?.hasPrefix("DOWN") == true }

        // 3. CloudWatch: the last instance stops gracefully (its final flush), then the datums are
        //    compared with what HAProxy counted each instance answering.
        #expect(await instances[2].stop() == 0, "\(instances[2].output)")
        let answered = try balancer.answered()
        let client = TestServices.cloudWatch()
        let alarm = HitRatioAlarm(environment: environment)
        func sum(_ metric: String, _ dimensions: [Telemetry.Dimension]) async throws -> Int {
            Int(try await client.statistics(namespace: alarm.namespace, metric: metric, dimensions: dimensions, statistic: "Sum",
                                            from: Date(timeIntervalSinceNow: -3600), to: Date(timeIntervalSinceNow: 600), periodSeconds: 1)
                .reduce(0, +))
        }
        var pushed: [Int] = []
        for index in 0..<3 {
            let own = alarm.dimensions + [Telemetry.Dimension("InstanceId", "i-\(index)")]
            pushed.append(try await sum(CloudWatchPusher.Name.hitsByInstance, own) + (try await sum(CloudWatchPusher.Name.missesByInstance, own)))
        }
        let fleet = try await sum(CloudWatchPusher.Name.hits, alarm.dimensions) + (try await sum(CloudWatchPusher.Name.misses, alarm.dimensions))
        #expect(fleet == pushed.reduce(0, +), "the alarm's metrics are the sum of the instances' (\(pushed))")
        #expect(pushed[0] == answered["s0"], "drained instance: every answer pushed (\(pushed[0]) vs \(answered))")
        #expect(pushed[2] == answered["s2"], "stopped instance: every answer pushed (\(pushed[2]) vs \(answered))")
        // A SIGKILL loses what was counted since the last flush (1 s): at most a second of its share.
        let lost = (answered["s1"] ?? 0) - pushed[1]
        #expect(lost >= 0 && lost <= Self.rate / 2 + Self.concurrency, "killed instance: \(pushed[1]) pushed of \(answered["s1"] ?? 0) answered")

        await TestDatabase.drop(database.name)
        redis.stop()
    }
}
