import ArgumentParser
import Telemetry

/// `cacheload alarm create`'s definition flags and the alarms they make: the hit-ratio alarm, and
/// with `--latency-p99` the latency alarm on the same M of N periods and SNS topics.
package struct AlarmOptions: ParsableArguments {
    package init() {}

    @Option(help: ArgumentHelp("Alarm name (default SERVICE-ENVIRONMENT-hit-ratio-low, e.g. cacheload-prod-hit-ratio-low: one alarm per environment).", valueName: "name"))
    package var name: String?
    @Option(help: "Percent below which the alarm fires.") package var threshold: Double = 80
    @Option(help: "Period in seconds.") package var period: Int = 60
    @Option(help: "Evaluation periods (N).") package var periods: Int = 5
    @Option(help: "Breaching datapoints that fire the alarm (M of N).") package var datapoints: Int = 3
    @Option(help: "SNS topic ARN to notify, repeatable.") package var snsTopic: [String] = []
    @Option(help: ArgumentHelp("Also create the latency alarm: fires when p99 RequestLatency is above this (50ms, 0.2s).", valueName: "duration"))
    package var latencyP99: String?
    @Option(help: ArgumentHelp("Name of the latency alarm (default SERVICE-ENVIRONMENT-latency-p99-high).", valueName: "name"))
    package var latencyName: String?
    @Flag(help: "Replace an alarm of the same name that watches another service or environment (refused otherwise).")
    package var replace = false

    package func validate() throws {
        _ = try latencyThreshold()
        guard (0...100).contains(threshold) else { throw ValidationError("--threshold is a percent between 0 and 100") }
        guard datapoints >= 1, periods >= datapoints else { throw ValidationError("need 1 ≤ --datapoints ≤ --periods") }
        // What PutMetricAlarm takes: 10, 20 or 30 (high-resolution metrics) or a multiple of 60.
        guard [10, 20, 30].contains(period) || (period >= 60 && period % 60 == 0) else {
            throw ValidationError("--period \(period): CloudWatch takes 10, 20 or 30 (high-resolution metrics) or a multiple of 60 seconds")
        }
        for topic in snsTopic where !(topic.hasPrefix("arn:aws") && topic.split(separator: ":", omittingEmptySubsequences: false).count >= 6) {
            throw ValidationError("--sns-topic \"\(topic)\": expected the topic's ARN, such as arn:aws:sns:us-east-1:123456789012:alerts")
        }
    }

    /// `--latency-p99` in milliseconds; `nil` when not given.
    private func latencyThreshold() throws -> Double? {
        guard let latencyP99 else { return nil }
        let duration = try usage { () throws(OptionValueError) in try DurationText.parse(latencyP99, option: "--latency-p99") }
        guard duration > .zero else { throw ValidationError("--latency-p99 \"\(latencyP99)\": expected a positive duration such as 50ms or 0.2s") }
        return duration / .milliseconds(1)
    }

    /// The alarms to create, in `target`'s namespace and dimensions.
    package func alarms(in target: CloudWatchTarget) throws -> (hitRatio: HitRatioAlarm, latency: LatencyAlarm?) {
        let hitRatio = HitRatioAlarm(name: name, namespace: target.namespace, service: target.service, environment: target.environment,
                                     threshold: threshold, periodSeconds: period, evaluationPeriods: periods, datapointsToAlarm: datapoints,
                                     actions: snsTopic)
        let latency = try latencyThreshold().map { milliseconds in
            LatencyAlarm(name: latencyName, namespace: target.namespace, service: target.service, environment: target.environment,
                         thresholdMilliseconds: milliseconds, periodSeconds: period, evaluationPeriods: periods,
                         datapointsToAlarm: datapoints, actions: snsTopic)
        }
        return (hitRatio, latency)
    }

    /// What the created alarms do, one line each.
    package func descriptions(hitRatio: HitRatioAlarm, latency: LatencyAlarm?) -> [String] {
        let schedule = "for \(datapoints) of \(periods) periods of \(period) s"
        let watched = hitRatio.dimensions.map { "\($0.name)=\($0.value)" }.joined(separator: ", ")
        let actions = hitRatio.actions.isEmpty ? "no actions" : "notifies \(hitRatio.actions.joined(separator: ", "))"
        var lines = ["alarm \(hitRatio.name): fires when \(HitRatioAlarm.expression) < \(threshold) \(schedule) (\(watched); \(actions))"]
        if let latency {
            lines.append("alarm \(latency.name): fires when \(latency.percentile) \(CloudWatchPusher.Name.latency) > \(latency.thresholdMilliseconds) ms \(schedule)")
        }
        return lines
    }
}
