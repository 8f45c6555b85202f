import Foundation
import HTTPCurl
import Telemetry
import Testing
import TestSupport

/// Three instances of a fleet push to one CloudWatch: their datums carry the same namespace and
/// dimensions, so the hit-ratio alarm's own queries (Sum of CacheHits and CacheMisses by Service
/// and Environment) return the fleet's totals; the per-instance copies carry InstanceId and
/// other names, so they never count twice.
@Suite("CloudWatch: a fleet's instances add up in one alarm")
struct FleetCloudWatchTests {
    @Test("three serve processes with --cloudwatch --instance-id: the alarm's metric queries return the fleet total exactly")
    func fleetTotals() async throws {
        let redis = try RedisServerProcess()
        let database = try await TestDatabase.create(products: 50)
        let environment = "fleet\(UUID().uuidString.prefix(8).lowercased())"
        let aws = TestServices.awsEnvironment
        let instances = try (0..<3).map { index in
            try ServeProcess(redis: redis.url, postgres: database.url, arguments: [
                "--cloudwatch", "--environment", environment, "--instance-id", "i-\(index)", "--flush-interval", "600",
                "--spool", FileManager.default.temporaryDirectory.appendingPathComponent("fleet-spool-\(UUID()).jsonl").path,
            ], environment: aws)
        }
        // Different traffic on each: 2, 4 and 6 products, each read three times.
        for (index, instance) in instances.enumerated() {
            for product in 1...(2 * (index + 1)) {
                for _ in 0..<3 { #expect(try await instance.request(.GET, "/product/\(product)").status == 200) }
            }
        }
        var hits: [Int] = [], misses: [Int] = []
        for instance in instances {
            let stats = try await instance.stats()
            hits.append(stats["hits"] as? Int ?? -1)
            misses.append(stats["misses"] as? Int ?? -1)
        }
        for instance in instances { #expect(await instance.stop() == 0, "\(instance.output)") }  // SIGTERM flushes

        let client = TestServices.cloudWatch()
        let alarm = HitRatioAlarm(environment: environment)
        func sum(_ metric: String, _ dimensions: [Telemetry.Dimension]) async throws -> Int {
            Int(try await client.statistics(namespace: alarm.namespace, metric: metric, dimensions: dimensions, statistic: "Sum",
                                            from: Date(timeIntervalSinceNow: -3600), to: Date(timeIntervalSinceNow: 600)).reduce(0, +))
        }
        #expect(try await sum(CloudWatchPusher.Name.hits, alarm.dimensions) == hits.reduce(0, +), "fleet hits \(hits)")
        #expect(try await sum(CloudWatchPusher.Name.misses, alarm.dimensions) == misses.reduce(0, +), "fleet misses \(misses)")
        for index in 0..<3 {
            let own = alarm.dimensions + [Telemetry.Dimension("InstanceId", "i-\(index)")]
            #expect(try await sum(CloudWatchPusher.Name.hitsByInstance, own) == hits[index])
            #expect(try await sum(CloudWatchPusher.Name.missesByInstance, own) == misses[index])
        }
        await TestDatabase.drop(database.name)
        redis.stop()
    }
}
