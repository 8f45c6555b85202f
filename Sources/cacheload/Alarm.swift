import ArgumentParser
import CommandOptions
import Telemetry

struct Alarm: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create or show the CloudWatch alarms: hit ratio below 80%, and optionally p99 latency too high.",
        discussion: """
            The hit-ratio alarm uses metric math 100*hits/(hits+misses) on CacheHits and CacheMisses (Sum), fires below --threshold for --datapoints of --periods periods, and treats missing data as not breaching — the same definition the Terraform monitoring module deploys. With --latency-p99, a second alarm fires when CloudWatch's p99 of RequestLatency (pushed as values and counts) is above it for the same M of N periods.

            Examples:
              cacheload alarm create --environment prod \\
                  --sns-topic arn:aws:sns:eu-west-1:123456789012:alerts
              cacheload alarm create --environment prod --latency-p99 50ms
              cacheload alarm describe --environment prod
            """,
        subcommands: [Create.self, Describe.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or update the hit-ratio alarm (and with --latency-p99 the latency alarm) of one service and environment.",
            discussion: "Names carry the service and environment (cacheload-prod-hit-ratio-low), so one environment's create never touches another's. An alarm of the given --name that watches another service or environment is refused unless --replace; an update without --sns-topic keeps the alarm's actions.")
        @OptionGroup var cloudWatch: CloudWatchTarget
        @OptionGroup var alarm: AlarmOptions

        func run() async throws {
            var (hitRatio, latency) = try alarm.alarms(in: cloudWatch)
            let client = cloudWatch.client()
            do {
                try await hitRatio.schedule.takeOver(replace: alarm.replace, with: client, say: { say($0) })
                if var definition = latency {
                    try await definition.schedule.takeOver(replace: alarm.replace, with: client, say: { say($0) })
                    latency = definition
                }
                try await hitRatio.create(with: client)
                try await latency?.create(with: client)
            } catch {
                throw CommandFailure("\(error)")
            }
            alarm.descriptions(hitRatio: hitRatio, latency: latency).forEach(say)
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the alarms of one service and environment: state, definition, dimensions and actions.")
        @OptionGroup var cloudWatch: CloudWatchTarget
        @Option(help: ArgumentHelp("Alarm name (default SERVICE-ENVIRONMENT-hit-ratio-low).", valueName: "name")) var name: String?
        @Option(help: ArgumentHelp("Name of the latency alarm (default SERVICE-ENVIRONMENT-latency-p99-high).", valueName: "name")) var latencyName: String?

        func run() async throws {
            let client = cloudWatch.client()
            let name = name ?? HitRatioAlarm.defaultName(service: cloudWatch.service, environment: cloudWatch.environment)
            let latencyName = latencyName ?? LatencyAlarm.defaultName(service: cloudWatch.service, environment: cloudWatch.environment)
            guard let state = try await HitRatioAlarm.describe(name, with: client) else {
                throw CommandFailure("alarm \(name) does not exist; create it with: cacheload alarm create --environment \(cloudWatch.environment)")
            }
            say("\(state.name): \(state.state)\n  \(state.expressions.joined(separator: ", ")) \(state.comparison) \(state.threshold)\n  \(state.reason)")
            say(Self.ownerLine(state))
            if let latency = try await HitRatioAlarm.describe(latencyName, with: client) {
                say("\(latency.name): \(latency.state)\n  \(latency.metric ?? "") \(latency.comparison) \(latency.threshold) ms\n  \(latency.reason)")
                say(Self.ownerLine(latency))
            }
        }

        private static func ownerLine(_ state: HitRatioAlarm.State) -> String {
            "  watches \(state.dimensionsText.isEmpty ? "no dimensions" : state.dimensionsText); "
                + (state.actions.isEmpty ? "no actions" : "notifies \(state.actions.joined(separator: ", "))")
        }
    }
}
