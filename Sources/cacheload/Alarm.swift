import ArgumentParser
import LoadGen
import Telemetry

struct Alarm: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create or show the CloudWatch alarms: hit ratio below 80%, and optionally p99 latency too high.",
        discussion: """
            The hit-ratio alarm uses metric math 100*hits/(hits+misses) on CacheHits and CacheMisses (Sum), fires below --threshold for --datapoints of --periods periods, and treats missing data as not breaching — the same definition the Terraform monitoring module deploys. With --latency-p99, a second alarm fires when CloudWatch's p99 of RequestLatency (pushed as values and counts) is above it for the same M of N periods.

            Examples:
              cacheload alarm create --environment prod \\
                  --sns-topic arn:aws:sns:eu-west-1:123456789012:alerts
              cacheload alarm create --latency-p99 50ms
              cacheload alarm describe
            """,
        subcommands: [Create.self, Describe.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create or update the hit-ratio alarm.")
        @OptionGroup var cloudWatch: CloudWatchTarget
        @Option(help: "Alarm name.") var name: String = "cacheload-hit-ratio-low"
        @Option(help: "Percent below which the alarm fires.") var threshold: Double = 80
        @Option(help: "Period in seconds.") var period: Int = 60
        @Option(help: "Evaluation periods (N).") var periods: Int = 5
        @Option(help: "Breaching datapoints that fire the alarm (M of N).") var datapoints: Int = 3
        @Option(help: "SNS topic ARN to notify, repeatable.") var snsTopic: [String] = []
        @Option(help: ArgumentHelp("Also create the latency alarm: fires when p99 RequestLatency is above this (50ms, 0.2s).", valueName: "duration"))
        var latencyP99: String?
        @Option(help: "Name of the latency alarm.") var latencyName: String = "cacheload-latency-p99-high"

        func validate() throws {
            if let latencyP99 {
                guard (try? DurationText.parse(latencyP99, option: "--latency-p99")) ?? .zero > .zero else {
                    throw ValidationError("--latency-p99 \"\(latencyP99)\": expected a positive duration such as 50ms or 0.2s")
                }
            }
            guard (0...100).contains(threshold) else { throw ValidationError("--threshold is a percent between 0 and 100") }
            guard datapoints >= 1, periods >= datapoints else { throw ValidationError("need 1 ≤ --datapoints ≤ --periods") }
            guard period >= 10 else { throw ValidationError("--period must be at least 10 seconds") }
        }

        func run() async throws {
            let alarm = HitRatioAlarm(name: name, namespace: cloudWatch.namespace, service: cloudWatch.service,
                                      environment: cloudWatch.environment, threshold: threshold, periodSeconds: period,
                                      evaluationPeriods: periods, datapointsToAlarm: datapoints, actions: snsTopic)
            let latency = try latencyP99.map { text in
                LatencyAlarm(name: latencyName, namespace: cloudWatch.namespace, service: cloudWatch.service, environment: cloudWatch.environment,
                             thresholdMilliseconds: try DurationText.parse(text, option: "--latency-p99") / .milliseconds(1),
                             periodSeconds: period, evaluationPeriods: periods, datapointsToAlarm: datapoints, actions: snsTopic)
            }
            let client = cloudWatch.client()
            do {
                try await alarm.create(with: client)
                try await latency?.create(with: client)
            } catch {
                throw CommandFailure("\(error)")
            }
            say("alarm \(name): fires when \(HitRatioAlarm.expression) < \(threshold) for \(datapoints) of \(periods) periods of \(period) s")
            if let latency {
                say("alarm \(latency.name): fires when p99 \(CloudWatchPusher.Name.latency) > \(latency.thresholdMilliseconds) ms for \(datapoints) of \(periods) periods of \(period) s")
            }
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the alarms' definitions and states (the latency alarm when it exists).")
        @OptionGroup var cloudWatch: CloudWatchTarget
        @Option(help: "Alarm name.") var name: String = "cacheload-hit-ratio-low"
        @Option(help: "Name of the latency alarm.") var latencyName: String = "cacheload-latency-p99-high"

        func run() async throws {
            let client = cloudWatch.client()
            guard let state = try await HitRatioAlarm.describe(name, with: client) else {
                throw CommandFailure("alarm \(name) does not exist; create it with: cacheload alarm create")
            }
            say("\(state.name): \(state.state)\n  \(state.expressions.joined(separator: ", ")) \(state.comparison) \(state.threshold)\n  \(state.reason)")
            if let latency = try await HitRatioAlarm.describe(latencyName, with: client) {
                say("\(latency.name): \(latency.state)\n  \(latency.metric ?? "") \(latency.comparison) \(latency.threshold) ms\n  \(latency.reason)")
            }
        }
    }
}
