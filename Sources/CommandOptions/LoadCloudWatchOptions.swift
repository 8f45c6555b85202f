import AWS
import ArgumentParser
import Foundation
import LoadGen
import Telemetry

/// `--cloudwatch` on `load` and `report merge`: the run pushed as ``LoadCloudWatch``'s datums.
package struct LoadCloudWatchOptions: ParsableArguments {
    @Flag(help: "Push the run's latency (LoadLatency, values/counts per minute, so CloudWatch computes p99), LoadRequests, LoadErrors, and LoadHits and LoadMisses when answers stated a cache outcome, to CloudWatch.")
    package var cloudwatch = false

    @OptionGroup package var target: CloudWatchTarget

    package init() {}

    /// Delivers the run's datums (and any an earlier run spooled).
    /// - Parameter credentials: the process's credential chain (one per process).
    /// - Returns: what went wrong, for the command to end with; `nil` when all were delivered.
    package func push(_ result: LoadResult, credentials: AWSCredentialChain, say: (String) -> Void) async -> String? {
        guard cloudwatch else { return nil }
        let spool = MetricSpool(path: FileManager.default.temporaryDirectory.appendingPathComponent("cacheload-cloudwatch/load-spool.jsonl").path)
        let pusher = CloudWatchPusher(configuration: .init(namespace: target.namespace, service: target.service, environment: target.environment),
                                      client: target.client(credentials: credentials), spool: spool)
        let outcome = await pusher.deliver(LoadCloudWatch.datums(of: result, dimensions: pusher.configuration.dimensions))
        if outcome.rejected > 0 { return "CloudWatch rejected \(outcome.rejected) datums (the error is logged above)" }
        if outcome.spooled > 0 {
            return "CloudWatch unreachable: \(outcome.spooled) datums spooled to \(spool.path); the next load --cloudwatch delivers them"
        }
        say("pushed \(outcome.delivered) datums to CloudWatch namespace \(target.namespace)")
        return nil
    }
}
