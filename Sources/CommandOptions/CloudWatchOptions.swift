import AWS
import ArgumentParser
import Telemetry
import Foundation
import Logging

// The command-line face of the CloudWatch client and pusher, shared by `serve`, `export` and
// `alarm`: the flags live beside what they configure.

/// Where CloudWatch is and whose metrics are meant: shared by the pushers and `alarm`.
package struct CloudWatchTarget: ParsableArguments {
    package init() {}

    @Option(help: ArgumentHelp("CloudWatch endpoint (default: AWS_ENDPOINT_URL_CLOUDWATCH, AWS_ENDPOINT_URL, then the region's).", valueName: "url"))
    package var cloudwatchEndpoint: String?

    @Option(help: "CloudWatch namespace.")
    package var namespace: String = "CacheLoad"

    @Option(help: "Value of the Service dimension.")
    package var service: String = "cacheload"

    @Option(help: "Value of the Environment dimension.")
    package var environment: String = "dev"

    /// - Parameter credentials: the process's credential chain (one per process).
    package func client(registry: MetricsRegistry? = nil, credentials: AWSCredentialChain = AWSCredentialChain()) -> CloudWatchClient {
        let retried = registry?.counter("cloudwatch_requests_retried", help: "PutMetricData requests retried after throttling, 5xx or a network error.")
        return CloudWatchClient.fromEnvironment(endpoint: cloudwatchEndpoint, credentials: credentials, onRetry: { retried?.increment() })
    }
}

/// `--cloudwatch` and how the datums are pushed: serve and export.
package struct CloudWatchOptions: ParsableArguments {
    package init() {}

    @Flag(help: "Push CacheHits, CacheMisses and CacheHitRatio to CloudWatch (serve also pushes RequestLatency and Errors; export reads no latency).")
    package var cloudwatch = false

    @OptionGroup package var target: CloudWatchTarget

    @Option(help: ArgumentHelp("Extra dimension on every datum, repeatable (the same on every instance of a fleet, or the fleet's alarm sees only one).", valueName: "Name=Value"))
    package var dimension: [String] = []

    @Option(help: ArgumentHelp(
        "Also push CacheHitsByInstance and CacheMissesByInstance with an InstanceId dimension of this value; the fleet's CacheHits and CacheMisses stay without it, so every instance adds to the one alarm.",
        valueName: "id"))
    package var instanceId: String?

    @Option(help: "Seconds aggregated into one datum per metric (60, or 1 with --resolution 1).")
    package var flushInterval: Int = 60

    @Option(help: ArgumentHelp("Storage resolution: 60 (standard) or 1 (high resolution).", valueName: "seconds"))
    package var resolution: Int = 60

    @Option(help: ArgumentHelp("Where undeliverable datums wait for CloudWatch.", valueName: "file"))
    package var spool: String = FileManager.default.temporaryDirectory.appendingPathComponent("cacheload-cloudwatch/spool.jsonl").path

    package func validate() throws {
        guard [1, 60].contains(resolution) else { throw ValidationError("--resolution must be 1 or 60") }
        guard flushInterval >= 1 else { throw ValidationError("--flush-interval must be at least 1 second") }
        // Standard-resolution metrics keep one value a minute: a datum a second would be merged.
        guard resolution == 1 || flushInterval >= 60 else {
            throw ValidationError("--flush-interval \(flushInterval) needs --resolution 1 (high resolution); standard metrics keep one value per minute, so flush every 60 s or more")
        }
        _ = try extraDimensions()
    }

    package func extraDimensions() throws -> [Telemetry.Dimension] {
        try dimension.map { text in
            let parts = text.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw ValidationError("--dimension \"\(text)\": expected Name=Value")
            }
            return Telemetry.Dimension(String(parts[0]), String(parts[1]))
        }
    }

    /// The pusher, when `--cloudwatch` is on.
    /// - Parameter credentials: the process's credential chain, shared with its other AWS clients.
    package func pusher(registry: MetricsRegistry?, logger: Logger, credentials: AWSCredentialChain = AWSCredentialChain()) -> CloudWatchPusher? {
        guard cloudwatch else { return nil }
        return CloudWatchPusher(
            configuration: .init(namespace: target.namespace, service: target.service, environment: target.environment,
                                 extraDimensions: (try? extraDimensions()) ?? [], instanceID: instanceId,
                                 flushInterval: .seconds(flushInterval), highResolution: resolution == 1),
            client: target.client(registry: registry, credentials: credentials), spool: MetricSpool(path: spool), registry: registry, logger: logger)
    }
}
