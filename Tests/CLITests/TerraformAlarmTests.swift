import Foundation
import HTTPCurl
import Telemetry
import Testing
import TestSupport

/// The alarm Terraform deploys must watch exactly the metrics `cacheload export` pushes: a
/// namespace or dimension that differs by one character leaves the alarm on a metric that never
/// gets data, and with missing data not breaching it would never fire.
@Suite("Terraform: the hit-ratio alarm matches what the exporter sends")
struct TerraformAlarmTests {
    struct Definition: Decodable {
        struct Query: Decodable {
            var id: String
            var expression: String?
            var return_data: Bool?
            var namespace: String?
            var metric_name: String?
            var dimensions: [String: String]?
            var period: Int?
            var stat: String?
        }
        var comparison_operator: String
        var threshold: Double
        var evaluation_periods: Int
        var datapoints_to_alarm: Int
        var treat_missing_data: String
        var metric_queries: [Query]
        var serve_args: [String]
        var latency: Latency

        struct Latency: Decodable {
            var namespace: String
            var metric_name: String
            var dimensions: [String: String]
            var extended_statistic: String
            var unit: String
            var period: Int
            var comparison_operator: String
            var threshold: Double
            var evaluation_periods: Int
            var datapoints_to_alarm: Int
            var treat_missing_data: String
        }
    }

    /// terraform/ read with python-hcl2, variables resolved to their defaults.
    private func definition() throws -> Definition {
        let root = TestServices.repositoryRoot
        let python = root.appendingPathComponent(".tools/hcl2/bin/python").path
        let script = root.appendingPathComponent("scripts/terraform/hit_ratio_alarm.py").path
        let json = try run(python, [script, root.appendingPathComponent("terraform").path])
        return try JSONDecoder().decode(Definition.self, from: Data(json.utf8))
    }

    @Test("threshold 80, LessThanThreshold, 100*hits/(hits+misses), the pusher's namespace, names and dimensions")
    func alarmDefinition() throws {
        let alarm = try definition()
        let reference = HitRatioAlarm()
        let pusher = CloudWatchPusher.Configuration()
        #expect(alarm.comparison_operator == "LessThanThreshold")
        #expect(alarm.threshold == 80)
        #expect(alarm.threshold == reference.threshold)
        #expect(alarm.evaluation_periods == reference.evaluationPeriods)
        #expect(alarm.datapoints_to_alarm == reference.datapointsToAlarm)
        #expect(alarm.treat_missing_data == "notBreaching")

        let ratio = try #require(alarm.metric_queries.first { $0.expression != nil })
        #expect(ratio.expression == HitRatioAlarm.expression)
        #expect(ratio.return_data == true)
        let metrics = alarm.metric_queries.filter { $0.expression == nil }
        #expect(Set(metrics.map(\.id)) == ["hits", "misses"])
        let expectedDimensions = Dictionary(uniqueKeysWithValues: pusher.dimensions.map { ($0.name, $0.value) })
        for metric in metrics {
            #expect(metric.namespace == pusher.namespace)
            #expect(metric.metric_name == (metric.id == "hits" ? CloudWatchPusher.Name.hits : CloudWatchPusher.Name.misses))
            #expect(metric.dimensions == expectedDimensions)
            #expect(metric.stat == "Sum")
            #expect(metric.period == reference.periodSeconds)
        }
    }

    @Test("the p99 alarm is `cacheload alarm create --latency-p99 50ms` on the RequestLatency the server pushes")
    func latencyAlarmDefinition() throws {
        let deployed = try definition().latency
        let reference = LatencyAlarm(thresholdMilliseconds: 50)
        let pusher = CloudWatchPusher.Configuration()
        #expect(deployed.metric_name == CloudWatchPusher.Name.latency)
        #expect(deployed.namespace == pusher.namespace)
        #expect(deployed.dimensions == Dictionary(uniqueKeysWithValues: pusher.dimensions.map { ($0.name, $0.value) }))
        #expect(deployed.extended_statistic == reference.percentile)
        #expect(reference.putForm.contains("&Unit=\(deployed.unit)&"))
        #expect(reference.putForm.contains("&ComparisonOperator=\(deployed.comparison_operator)&"))
        #expect(deployed.threshold == reference.thresholdMilliseconds)
        #expect(deployed.period == reference.periodSeconds)
        #expect(deployed.evaluation_periods == reference.evaluationPeriods && deployed.datapoints_to_alarm == reference.datapointsToAlarm)
        #expect(deployed.treat_missing_data == "notBreaching")
    }

    @Test("the serve unit's command line delivers datums the hit-ratio and p99 alarms' queries find in CloudWatch")
    func serveUnitFeedsAlarms() async throws {
        let alarm = try definition()
        let redis = try RedisServerProcess()
        let database = try await TestDatabase.create(products: 5)

        // The unit's own arguments, with this machine's paths and addresses; the environment is made
        // unique on both sides so datums of other tests in the same moto do not count.
        let environment = "tf\(UUID().uuidString.prefix(8).lowercased())"
        let port = freeLoopbackPort()
        let spool = FileManager.default.temporaryDirectory.appendingPathComponent("tf-spool-\(UUID()).jsonl").path
        var arguments = Array(alarm.serve_args.dropFirst())
        #expect(arguments.first == "serve")
        func replace(_ option: String, with value: String) {
            guard let index = arguments.firstIndex(of: option), index + 1 < arguments.count else {
                Issue.record("the serve unit has no \(option)")
                return
            }
            arguments[index + 1] = value
        }
        let deployedEnvironment = arguments.firstIndex(of: "--environment").map { arguments[$0 + 1] }
        #expect(arguments.contains("--cloudwatch") && arguments.contains("--instance-id"))
        replace("--listen", with: "127.0.0.1:\(port)")
        replace("--spool", with: spool)
        replace("--environment", with: environment)
        replace("--drain-seconds", with: "0")  // nothing balances this one
        arguments += ["--redis", redis.url, "--postgres", database.url, "--flush-interval", "600", "--log-level", "warning"]

        let pid = try spawn("/usr/bin/env", TestServices.awsEnvironment + [
            TestServices.cacheloadBinary,
        ] + arguments)
        defer { stopIfRunning(pid) }
        try waitUntilAccepting(port: port, seconds: 20)
        let client = CurlClient(concurrency: 1)
        for id in [1, 1, 1, 2, 2, 3] {
            #expect(try await client.execute(CurlRequest(url: "http://127.0.0.1:\(port)/product/\(id)")).status == 200)
        }
        kill(pid, SIGTERM) // the pusher flushes on SIGTERM
        #expect(waitForExit(pid) == 0)

        let cloudWatch = TestServices.cloudWatch()
        func statistic(_ metric: String, _ dimensions: [String: String], _ statistic: String, period: Int) async throws -> Double {
            var dimensions = dimensions
            #expect(dimensions["Environment"] == deployedEnvironment, "the alarm and the unit take Environment from one variable")
            dimensions["Environment"] = environment
            return try await cloudWatch.statistics(
                namespace: alarm.latency.namespace, metric: metric,
                dimensions: dimensions.sorted { $0.key < $1.key }.map { Telemetry.Dimension($0.key, $0.value) },
                statistic: statistic, from: Date(timeIntervalSinceNow: -3600), to: Date(timeIntervalSinceNow: 600),
                periodSeconds: period).reduce(0, +)
        }
        var sums: [String: Double] = [:]
        for query in alarm.metric_queries where query.expression == nil {
            #expect(query.namespace == alarm.latency.namespace)
            sums[query.id] = try await statistic(try #require(query.metric_name), try #require(query.dimensions), try #require(query.stat),
                                                 period: try #require(query.period))
        }
        // Requests 1,1,1,2,2,3: ids 1 and 2 miss once then hit (3 hits), id 3 misses: 3 misses.
        #expect(sums["hits"] == 3)
        #expect(sums["misses"] == 3)
        // The p99 alarm's metric holds one latency value per answered product request.
        let latencies = try await statistic(alarm.latency.metric_name, alarm.latency.dimensions, "SampleCount", period: alarm.latency.period)
        #expect(latencies == 6, "RequestLatency samples under the p99 alarm's dimensions")
        try? FileManager.default.removeItem(atPath: spool)
        await client.shutdown()
        await TestDatabase.drop(database.name)
        redis.stop()
    }
}
