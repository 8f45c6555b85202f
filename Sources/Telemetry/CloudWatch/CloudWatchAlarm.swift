import AWS
import Foundation
import HTTPCurl

/// What the alarms here share: the metrics' namespace and dimensions, M of N periods (missing
/// data not breaching: no traffic is neither a low hit ratio nor a slow one), whom they notify.
package struct AlarmSchedule: Sendable, Equatable {
    package var name: String
    package var namespace: String
    package var dimensions: [Dimension]
    package var periodSeconds: Int
    package var evaluationPeriods: Int
    package var datapointsToAlarm: Int
    /// SNS topic ARNs notified when the alarm fires.
    package var actions: [String]

    package init(name: String, namespace: String = "CacheLoad", service: String = "cacheload", environment: String = "dev",
                periodSeconds: Int = 60, evaluationPeriods: Int = 5, datapointsToAlarm: Int = 3, actions: [String] = []) {
        self.name = name
        self.namespace = namespace
        self.dimensions = [Dimension("Service", service), Dimension("Environment", environment)]
        self.periodSeconds = periodSeconds
        self.evaluationPeriods = evaluationPeriods
        self.datapointsToAlarm = datapointsToAlarm
        self.actions = actions
    }

    /// The PutMetricAlarm fields every alarm has; the metric and threshold follow.
    func form(description: String) -> String {
        let e = PutMetricData.escape
        var form = "Action=PutMetricAlarm&Version=2010-08-01&AlarmName=\(e(name))&AlarmDescription=\(e(description))"
        form += "&EvaluationPeriods=\(evaluationPeriods)&DatapointsToAlarm=\(datapointsToAlarm)&TreatMissingData=notBreaching"
        for (index, action) in actions.enumerated() {
            form += "&AlarmActions.member.\(index + 1)=\(e(action))"
        }
        return form
    }
}

/// The hit-ratio alarm: metric math `100*hits/(hits+misses)` below a threshold for M of N
/// periods, missing data not breaching — the definition Terraform deploys, created with
/// PutMetricAlarm and read back with DescribeAlarms.
@dynamicMemberLookup
package struct HitRatioAlarm: Sendable, Equatable {
    package var schedule: AlarmSchedule
    /// Percent; the alarm fires below it.
    package var threshold: Double

    package static let expression = "100*hits/(hits+misses)"

    /// The name an alarm of `service` in `environment` gets unless given one: what makes it
    /// distinct is in it, so one environment's alarm never replaces another's (the Terraform
    /// module names them the same way: `cacheload-prod-hit-ratio-low`).
    package static func defaultName(service: String, environment: String) -> String { "\(service)-\(environment)-hit-ratio-low" }

    package init(name: String? = nil, namespace: String = "CacheLoad", service: String = "cacheload",
                environment: String = "dev", threshold: Double = 80, periodSeconds: Int = 60, evaluationPeriods: Int = 5,
                datapointsToAlarm: Int = 3, actions: [String] = []) {
        schedule = AlarmSchedule(name: name ?? Self.defaultName(service: service, environment: environment), namespace: namespace,
                                 service: service, environment: environment, periodSeconds: periodSeconds,
                                 evaluationPeriods: evaluationPeriods, datapointsToAlarm: datapointsToAlarm, actions: actions)
        self.threshold = threshold
    }

    package subscript<Value>(dynamicMember keyPath: KeyPath<AlarmSchedule, Value>) -> Value { schedule[keyPath: keyPath] }

    /// The PutMetricAlarm form.
    package var putForm: String {
        let e = PutMetricData.escape
        var form = schedule.form(description: "Cache hit ratio below \(Int(threshold))% (\(Self.expression))")
        form += "&ComparisonOperator=LessThanThreshold&Threshold=\(threshold)"
        for (index, (id, metric)) in [("hits", CloudWatchPusher.Name.hits), ("misses", CloudWatchPusher.Name.misses)].enumerated() {
            let prefix = "&Metrics.member.\(index + 1)."
            form += "\(prefix)Id=\(id)\(prefix)ReturnData=false"
            form += "\(prefix)MetricStat.Metric.Namespace=\(e(self.namespace))\(prefix)MetricStat.Metric.MetricName=\(metric)"
            for (position, dimension) in self.dimensions.enumerated() {
                form += "\(prefix)MetricStat.Metric.Dimensions.member.\(position + 1).Name=\(e(dimension.name))"
                form += "\(prefix)MetricStat.Metric.Dimensions.member.\(position + 1).Value=\(e(dimension.value))"
            }
            form += "\(prefix)MetricStat.Period=\(self.periodSeconds)\(prefix)MetricStat.Stat=Sum"
        }
        form += "&Metrics.member.3.Id=ratio&Metrics.member.3.Expression=\(e(Self.expression))"
        form += "&Metrics.member.3.Label=\(e("Cache hit ratio (%)"))&Metrics.member.3.ReturnData=true"
        return form
    }

    /// Creates or updates the alarm.
    package func create(with client: CloudWatchClient) async throws {
        try await client.call(putForm)
    }
}

/// The latency alarm: CloudWatch's `p99` of `RequestLatency` (sent as Values/Counts, so the
/// percentile is CloudWatch's own) above a threshold for M of N periods; missing data not
/// breaching. Terraform's monitoring module deploys the same definition.
@dynamicMemberLookup
package struct LatencyAlarm: Sendable, Equatable {
    package var schedule: AlarmSchedule
    /// `p99`, `p99.9`, `p50`: an extended statistic.
    package var percentile: String
    /// Milliseconds; the alarm fires above it.
    package var thresholdMilliseconds: Double

    /// The latency alarm's name unless given one (see ``HitRatioAlarm/defaultName(service:environment:)``).
    package static func defaultName(service: String, environment: String) -> String { "\(service)-\(environment)-latency-p99-high" }

    package init(name: String? = nil, namespace: String = "CacheLoad", service: String = "cacheload",
                environment: String = "dev", percentile: String = "p99", thresholdMilliseconds: Double,
                periodSeconds: Int = 60, evaluationPeriods: Int = 5, datapointsToAlarm: Int = 3, actions: [String] = []) {
        schedule = AlarmSchedule(name: name ?? Self.defaultName(service: service, environment: environment), namespace: namespace,
                                 service: service, environment: environment, periodSeconds: periodSeconds,
                                 evaluationPeriods: evaluationPeriods, datapointsToAlarm: datapointsToAlarm, actions: actions)
        self.percentile = percentile
        self.thresholdMilliseconds = thresholdMilliseconds
    }

    package subscript<Value>(dynamicMember keyPath: KeyPath<AlarmSchedule, Value>) -> Value { schedule[keyPath: keyPath] }

    /// The PutMetricAlarm form.
    package var putForm: String {
        let e = PutMetricData.escape
        var form = schedule.form(description: "\(percentile) request latency above \(thresholdMilliseconds) ms")
        form += "&Namespace=\(e(self.namespace))&MetricName=\(CloudWatchPusher.Name.latency)&ExtendedStatistic=\(e(percentile))"
        for (position, dimension) in self.dimensions.enumerated() {
            form += "&Dimensions.member.\(position + 1).Name=\(e(dimension.name))&Dimensions.member.\(position + 1).Value=\(e(dimension.value))"
        }
        form += "&Period=\(self.periodSeconds)&Unit=Milliseconds&ComparisonOperator=GreaterThanThreshold&Threshold=\(thresholdMilliseconds)"
        return form
    }

    /// Creates or updates the alarm.
    package func create(with client: CloudWatchClient) async throws {
        try await client.call(putForm)
    }
}

extension HitRatioAlarm {
    /// What DescribeAlarms says about an alarm.
    package struct State: Sendable, Equatable {
        package var name: String
        package var state: String
        package var reason: String
        package var threshold: String
        package var comparison: String
        package var expressions: [String]
        /// The metric and extended statistic of a single-metric alarm (`RequestLatency p99`).
        package var metric: String?
        /// The dimensions its metrics are read with (`Environment=prod`, …), each once.
        package var dimensions: [Dimension] = []
        /// SNS topics and other actions run when it fires.
        package var actions: [String] = []

        /// The dimensions as `Name=Value, …`.
        package var dimensionsText: String { dimensions.map { "\($0.name)=\($0.value)" }.joined(separator: ", ") }
    }

    /// Every distinct dimension in an alarm's definition (a metric-math alarm repeats them per metric).
    private static func dimensions(in alarm: String) -> [Dimension] {
        var seen: [Dimension] = []
        for block in XMLText.elements("Dimensions", in: alarm) {
            for member in XMLText.elements("member", in: block) {
                guard let name = XMLText.element("Name", in: member), let value = XMLText.element("Value", in: member) else { continue }
                let dimension = Dimension(XMLText.unescaped(name), XMLText.unescaped(value))
                if !seen.contains(dimension) { seen.append(dimension) }
            }
        }
        return seen
    }

    /// Reads the alarm back; `nil` when it does not exist.
    package static func describe(_ name: String, with client: CloudWatchClient) async throws -> State? {
        let body = try await client.call("Action=DescribeAlarms&Version=2010-08-01&AlarmNames.member.1=\(PutMetricData.escape(name))")
        guard let alarm = XMLText.element("MetricAlarms", in: body), alarm.contains("<AlarmName>") else { return nil }
        return State(
            name: XMLText.element("AlarmName", in: alarm) ?? name,
            state: XMLText.element("StateValue", in: alarm) ?? "UNKNOWN",
            reason: XMLText.element("StateReason", in: alarm) ?? "",
            threshold: XMLText.element("Threshold", in: alarm) ?? "",
            comparison: XMLText.element("ComparisonOperator", in: alarm) ?? "",
            expressions: XMLText.elements("Expression", in: alarm),
            metric: XMLText.element("ExtendedStatistic", in: alarm).map { "\(XMLText.element("MetricName", in: alarm) ?? "?") \($0)" },
            dimensions: dimensions(in: alarm),
            actions: XMLText.element("AlarmActions", in: alarm).map { XMLText.elements("member", in: $0).map(XMLText.unescaped) } ?? [])
    }
}

extension AlarmSchedule {
    /// Before a create under this name: refuses an alarm that watches other dimensions (another
    /// environment's, unless `replace`), and keeps the existing alarm's actions when this create
    /// names none (`say` tells so).
    package mutating func takeOver(replace: Bool, with client: CloudWatchClient, say: (String) -> Void) async throws {
        guard let existing = try await HitRatioAlarm.describe(name, with: client) else { return }
        if !existing.dimensions.isEmpty, Set(existing.dimensions) != Set(dimensions), !replace {
            let wanted = dimensions.map { "\($0.name)=\($0.value)" }.joined(separator: ", ")
            throw AlarmOwnerError(description: "alarm \(name) exists and watches \(existing.dimensionsText); this create is for \(wanted) "
                + "and would replace it. Leave out --name (names carry the environment), give another --name, or pass --replace")
        }
        if actions.isEmpty, !existing.actions.isEmpty {
            actions = existing.actions
            say("alarm \(name): keeping its actions (\(existing.actions.joined(separator: ", "))); give --sns-topic to change them")
        }
    }
}

/// An alarm create that would replace another service's or environment's alarm.
package struct AlarmOwnerError: Error, CustomStringConvertible, Sendable {
    package let description: String
}

