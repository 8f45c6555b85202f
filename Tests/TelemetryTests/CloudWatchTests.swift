import AWS
import Foundation
import HTTPCurl
import Histogram
@testable import Telemetry
import Testing
import TestSupport

@Suite("CloudWatch pusher against moto_server (SigV4 checked)")
struct CloudWatchTests {
    private func client(endpoint: String = TestServices.awsEndpoint, secret: String = TestServices.awsSecretAccessKey,
                        retry: CloudWatchClient.RetryPolicy = .init(attempts: 2, base: .milliseconds(20), cap: .milliseconds(50)),
                        compressionThreshold: Int? = 10_240) -> CloudWatchClient {
        let chain = AWSCredentialChain(environment: ["AWS_ACCESS_KEY_ID": TestServices.awsAccessKeyID, "AWS_SECRET_ACCESS_KEY": secret])
        return CloudWatchClient(endpoint: endpoint, region: TestServices.awsRegion, credentials: chain, retry: retry,
                                compressionThreshold: compressionThreshold)
    }

    private func spool() -> MetricSpool {
        MetricSpool(path: FileManager.default.temporaryDirectory.appendingPathComponent("spool-\(UUID())/datums.jsonl").path)
    }

    /// GetMetricStatistics Sum for a metric over the last hour.
    private func sum(_ name: String, namespace: String, client: CloudWatchClient) async throws -> Double {
        try await client.statistics(namespace: namespace, metric: name, dimensions: configuration(namespace).dimensions, statistic: "Sum",
                                    from: Date(timeIntervalSinceNow: -3600), to: Date(timeIntervalSinceNow: 600)).reduce(0, +)
    }

    private func configuration(_ namespace: String) -> CloudWatchPusher.Configuration {
        .init(namespace: namespace, environment: "test", flushInterval: .seconds(3600))
    }

    @Test("pushed hits, misses and latency read back (latency within HDR precision); the hit ratio is a percent")
    func pushAndReadBack() async throws {
        let namespace = "CacheLoadTest\(UUID().uuidString.prefix(8))"
        let client = client()
        let pusher = CloudWatchPusher(configuration: configuration(namespace), client: client, spool: spool())
        pusher.count(CloudWatchPusher.Name.hits, 90)
        pusher.count(CloudWatchPusher.Name.misses, 10)
        pusher.count(CloudWatchPusher.Name.hits, 30)
        for latency in [1.5, 2.5, 40.0] { pusher.observe(CloudWatchPusher.Name.latency, milliseconds: latency) }
        let outcome = await pusher.flush()
        #expect(outcome.delivered == 4)
        #expect(outcome.requests == 1)
        #expect(try await sum(CloudWatchPusher.Name.hits, namespace: namespace, client: client) == 120)
        #expect(try await sum(CloudWatchPusher.Name.misses, namespace: namespace, client: client) == 10)
        #expect(abs(try await sum(CloudWatchPusher.Name.latency, namespace: namespace, client: client) - 44) < 44 * 0.001)
        let samples = try await client.statistics(namespace: namespace, metric: CloudWatchPusher.Name.latency, dimensions: configuration(namespace).dimensions,
                                                  statistic: "SampleCount", from: Date(timeIntervalSinceNow: -3600), to: Date(timeIntervalSinceNow: 600))
        #expect(samples.reduce(0, +) == 3)
        let ratio = try await sum(CloudWatchPusher.Name.hitRatio, namespace: namespace, client: client)
        #expect(abs(ratio - 100 * 120 / 130) < 1e-6)
    }

    @Test("latency goes as values/counts (≤ 150 per datum) that reproduce the p99 within the sent precision")
    func percentilesFromValues() async throws {
        let namespace = "CacheLoadTestP99\(UUID().uuidString.prefix(6))"
        let moto = try PrivateMoto()
        let client = client(endpoint: moto.endpoint)
        let pusher = CloudWatchPusher(configuration: configuration(namespace), client: client, spool: spool())
        // A seeded long tail: most requests near 1 ms, some to 400 ms — more distinct HDR values than a datum takes.
        var generator = SeededGenerator(seed: 42)
        var reference = CloudWatchDistribution.makeHistogram()
        for _ in 0..<4000 {
            let u = Double(generator.next() % 1_000_000) / 1_000_000
            let milliseconds = 0.2 + 0.8 * u + (u > 0.9 ? pow(u - 0.9, 2) * 40_000 : 0)
            pusher.observe(CloudWatchPusher.Name.latency, milliseconds: milliseconds)
            _ = reference.record(UInt64((milliseconds * 1000).rounded()))
        }
        let sent = CloudWatchDistribution.values(of: reference)
        #expect(sent.values.count <= 150)
        #expect(reference.recordedValues().map { _ in 1 }.count > 150)  // the merge was needed
        #expect(sent.relativeError < 0.1)
        #expect(await pusher.flush().delivered == 1)

        let stored = try await TestServices.storedMetricValues(CloudWatchPusher.Name.latency, namespace: namespace, endpoint: moto.endpoint).sorted()
        #expect(stored.count == 4000)
        for percentile in [50.0, 90.0, 99.0, 99.9] {
            let fromCloudWatch = stored[min(stored.count - 1, Int((percentile / 100 * Double(stored.count)).rounded(.up)) - 1)]
            let fromHDR = Double(reference.valueAtPercentile(percentile)) / 1000
            // Within the merged groups' width plus HDR's own 0.1%.
            #expect(abs(fromCloudWatch - fromHDR) <= fromHDR * (sent.relativeError + 0.002), "p\(percentile): \(fromCloudWatch) vs \(fromHDR)")
        }
    }

    @Test("batching splits at the API limits: 1001 datums → 2 requests, 151 values → 2 datums")
    func batching() {
        let datum = MetricDatum(name: "M", unit: .count, dimensions: [Dimension("Service", "s")], timestamp: Date(), value: .single(1))
        let bodies = PutMetricData.bodies(namespace: "N", datums: Array(repeating: datum, count: 1001))
        #expect(bodies.map(\.datums.count) == [1000, 1])
        #expect(bodies[0].body.contains("MetricData.member.1000.MetricName=M"))
        #expect(!bodies[0].body.contains("MetricData.member.1001."))

        var wide = datum
        wide.value = .distribution(values: (0..<151).map(Double.init), counts: Array(repeating: 1, count: 151))
        let split = PutMetricData.bodies(namespace: "N", datums: [wide])
        #expect(split.count == 1)
        #expect(split[0].datums.count == 2)
        #expect(split[0].body.contains("MetricData.member.1.Values.member.150="))
        #expect(!split[0].body.contains("MetricData.member.1.Values.member.151="))
        #expect(split[0].body.contains("MetricData.member.2.Values.member.1=150"))

        let big = MetricDatum(name: String(repeating: "x", count: 250), unit: .count,
                              dimensions: (0..<30).map { Dimension("D\($0)", String(repeating: "v", count: 250)) }, timestamp: Date(), value: .single(1))
        let sized = PutMetricData.bodies(namespace: "N", datums: Array(repeating: big, count: 200))
        #expect(sized.count > 1)
        #expect(sized.allSatisfy { $0.body.utf8.count < PutMetricData.maximumBodyBytes })
        #expect(sized.map(\.datums.count).reduce(0, +) == 200)
    }

    @Test("a wrong secret is rejected, reported and not retried or spooled")
    func wrongSecret() async throws {
        let spool = spool()
        let pusher = CloudWatchPusher(configuration: configuration("CacheLoadTestBad"), client: client(secret: "wrong"), spool: spool)
        pusher.count(CloudWatchPusher.Name.hits, 1)
        let outcome = await pusher.flush()
        #expect(outcome.rejected == 2)  // the hits and the hit ratio
        #expect(outcome.spooled == 0)
        #expect(spool.count == 0)
        do {
            try await client(secret: "wrong").call("Action=ListMetrics&Version=2010-08-01")
            Issue.record("a wrong secret was accepted")
        } catch let error as CloudWatchError {
            #expect(!error.isRetryable)
            #expect(error.message.contains("SignatureDoesNotMatch"))
        }
    }

    @Test("endpoint down: datums spooled to disk, delivered (gzip-compressed) once it is back, none lost or duplicated")
    func spoolAndDeliver() async throws {
        let namespace = "CacheLoadTestSpool\(UUID().uuidString.prefix(6))"
        let port = freeLoopbackPort()
        let endpoint = "http://127.0.0.1:\(port)"
        let spool = spool()
        let gzipping = client(endpoint: endpoint, compressionThreshold: 0)
        let down = CloudWatchPusher(configuration: configuration(namespace), client: gzipping, spool: spool)
        down.count(CloudWatchPusher.Name.hits, 7)
        down.count(CloudWatchPusher.Name.misses, 3)
        var outcome = await down.flush()
        #expect(outcome.spooled == 3)  // hits, misses, hit ratio
        #expect(spool.count == 3)
        down.count(CloudWatchPusher.Name.hits, 5)
        outcome = await down.flush()
        #expect(spool.count == 5)  // the first three again plus hits and ratio of the second period

        // CloudWatch comes back: a fresh moto_server on that port (signature checks off).
        let moto = try spawn("/bin/sh", ["-c", "exec moto_server -H 127.0.0.1 -p \(port)"])
        defer { kill(moto, SIGTERM); waitForExit(moto) }
        try waitUntilAccepting(port: port, seconds: 30)
        outcome = await down.flush()
        #expect(outcome.delivered == 5)
        #expect(spool.count == 0)
        // This moto checks no signatures, so it inflates and takes the gzip body. (The services'
        // moto, which does, hashes the inflated body and refuses it: the plain fallback's case.)
        #expect(gzipping.compressesRequests)
        let reader = client(endpoint: endpoint)
        #expect(try await sum(CloudWatchPusher.Name.hits, namespace: namespace, client: reader) == 12)
        #expect(try await sum(CloudWatchPusher.Name.misses, namespace: namespace, client: reader) == 3)
        #expect(await down.flush().delivered == 0)
        #expect(try await sum(CloudWatchPusher.Name.hits, namespace: namespace, client: reader) == 12)
    }

    @Test("the hit-ratio alarm is created with the metric math and read back")
    func alarm() async throws {
        let client = client()
        let alarm = HitRatioAlarm(name: "cacheload-test-\(UUID().uuidString.prefix(6))", environment: "test")
        try await alarm.create(with: client)
        let state = try #require(try await HitRatioAlarm.describe(alarm.name, with: client))
        #expect(state.comparison == "LessThanThreshold")
        #expect(Double(state.threshold) == 80)
        #expect(state.expressions.contains(HitRatioAlarm.expression))
        #expect(try await HitRatioAlarm.describe("no-such-alarm", with: client) == nil)
    }

    @Test("the p99 latency alarm is created on the extended statistic and read back")
    func latencyAlarm() async throws {
        let client = client()
        let alarm = LatencyAlarm(name: "cacheload-test-p99-\(UUID().uuidString.prefix(6))", environment: "test", thresholdMilliseconds: 50)
        try await alarm.create(with: client)
        let state = try #require(try await HitRatioAlarm.describe(alarm.name, with: client))
        #expect(state.comparison == "GreaterThanThreshold")
        #expect(Double(state.threshold) == 50)
        #expect(state.metric == "RequestLatency p99")
    }
}
