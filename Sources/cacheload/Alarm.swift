import ArgumentParser
import Telemetry

struct Alarm: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create or show the CloudWatch alarm that fires when the hit ratio drops below 80%.",
        discussion: """
            The alarm uses metric math 100*hits/(hits+misses) on CacheHits and CacheMisses (Sum), fires below --threshold for --datapoints of --periods periods, and treats missing data as not breaching — the same definition the Terraform monitoring module deploys.

            Examples:
              cacheload alarm create --environment prod \\
                  --sns-topic arn:aws:sns:eu-west-1:123456789012:alerts
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

        func validate() throws {
            guard (0...100).contains(threshold) else { throw ValidationError("--threshold is a percent between 0 and 100") }
            guard datapoints >= 1, periods >= datapoints else { throw ValidationError("need 1 ≤ --datapoints ≤ --periods") }
            guard period >= 10 else { throw ValidationError("--period must be at least 10 seconds") }
        }

        func run() async throws {
            let alarm = HitRatioAlarm(name: name, namespace: cloudWatch.namespace, service: cloudWatch.service,
                                      environment: cloudWatch.environment, threshold: threshold, periodSeconds: period,
                                      evaluationPeriods: periods, datapointsToAlarm: datapoints, actions: snsTopic)
            do {
                try await alarm.create(with: cloudWatch.client())
            } catch {
                throw CommandFailure("\(error)")
            }
            say("alarm \(name): fires when \(HitRatioAlarm.expression) < \(threshold) for \(datapoints) of \(periods) periods of \(period) s")
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the alarm's definition and state.")
        @OptionGroup var cloudWatch: CloudWatchTarget
        @Option(help: "Alarm name.") var name: String = "cacheload-hit-ratio-low"

        func run() async throws {
            guard let state = try await HitRatioAlarm.describe(name, with: cloudWatch.client()) else {
                throw CommandFailure("alarm \(name) does not exist; create it with: cacheload alarm create")
            }
            say("\(state.name): \(state.state)\n  \(state.expressions.joined(separator: ", ")) \(state.comparison) \(state.threshold)\n  \(state.reason)")
        }
    }
}
