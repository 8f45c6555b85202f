import ArgumentParser
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
        @OptionGroup var alarm: AlarmOptions

        func run() async throws {
            let (hitRatio, latency) = try alarm.alarms(in: cloudWatch)
            let client = cloudWatch.client()
            do {
                try await hitRatio.create(with: client)
                try await latency?.create(with: client)
            } catch {
                throw CommandFailure("\(error)")
            }
            alarm.descriptions(latency: latency).forEach(say)
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
