import AWS
import Foundation
import HTTPCurl
@testable import Telemetry
import Testing
import TestSupport

@Suite("CloudWatch pusher against moto_server (SigV4 checked)")
struct CloudWatchTests {
    private func client(endpoint: String = TestServices.awsEndpoint, secret: String = TestServices.awsSecretAccessKey,
                        retry: CloudWatchClient.RetryPolicy = .init(attempts: 2, base: .milliseconds(20), cap: .milliseconds(50))) -> CloudWatchClient {
        let chain = AWSCredentialChain(environment: ["AWS_ACCESS_KEY_ID": TestServices.awsAccessKeyID, "AWS_SECRET_ACCESS_KEY": secret])
        return CloudWatchClient(endpoint: endpoint, region: TestServices.awsRegion, credentials: chain, retry: retry)
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

    @Test("pushed hits, misses and latency read back exactly; the hit ratio is a percent")
    func pushAndReadBack() async throws {
        let namespace = "CacheLoadTest\(UUID().uuidString.prefix(8))"
        let client = client()
        let pusher = CloudWatchPusher(configuration: configuration(namespace), client: client, spool: spool())
        pusher.count(CloudWatchPusher.Name.hits, 90)
        pusher.count(CloudWatchPusher.Name.misses, 10)
        pusher.count(CloudWatchPusher.Name.hits, 30)
        for latency in [1.5, 2.5, 40.0] { pusher.observe(CloudWatchPusher.Name.latency, latency) }
        let outcome = await pusher.flush()
        #expect(outcome.delivered == 4)
        #expect(outcome.requests == 1)
        #expect(try await sum(CloudWatchPusher.Name.hits, namespace: namespace, client: client) == 120)
        #expect(try await sum(CloudWatchPusher.Name.misses, namespace: namespace, client: client) == 10)
        #expect(try await sum(CloudWatchPusher.Name.latency, namespace: namespace, client: client) == 44)
        let ratio = try await sum(CloudWatchPusher.Name.hitRatio, namespace: namespace, client: client)
        #expect(abs(ratio - 100 * 120 / 130) < 1e-6)
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

    @Test("endpoint down: datums spooled to disk, delivered once it is back, none lost or duplicated")
    func spoolAndDeliver() async throws {
        let namespace = "CacheLoadTestSpool\(UUID().uuidString.prefix(6))"
        let port = freeLoopbackPort()
        let endpoint = "http://127.0.0.1:\(port)"
        let spool = spool()
        let down = CloudWatchPusher(configuration: configuration(namespace), client: client(endpoint: endpoint), spool: spool)
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
}

@Suite("AWS credential chain, in the SDKs' order")
struct CredentialChainTests {
    private func temporaryFile(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("aws-\(UUID())").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("environment first, then shared files (AWS_PROFILE), then ECS, then IMDSv2")
    func order() async throws {
        let metadata = try await MetadataServer()
        let credentials = try temporaryFile("[default]\naws_access_key_id = FILEDEFAULT\naws_secret_access_key = s1\n\n[ops]\naws_access_key_id = FILEOPS\naws_secret_access_key = s2\naws_session_token = t2\n")
        let base: [String: String] = [
            "HOME": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": credentials, "AWS_CONFIG_FILE": "/nonexistent",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": metadata.baseURL + "/ecs/credentials",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": MetadataServer.ecsAuthorization,
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": metadata.baseURL,
        ]
        var environment = base
        environment["AWS_ACCESS_KEY_ID"] = "ENVKEY"
        environment["AWS_SECRET_ACCESS_KEY"] = "envsecret"
        #expect(try await AWSCredentialChain(environment: environment).resolve().credentials.accessKeyID == "ENVKEY")

        #expect(try await AWSCredentialChain(environment: base).resolve().credentials.accessKeyID == "FILEDEFAULT")
        var profile = base
        profile["AWS_PROFILE"] = "ops"
        let ops = try await AWSCredentialChain(environment: profile).resolve()
        #expect(ops.credentials.accessKeyID == "FILEOPS" && ops.credentials.sessionToken == "t2" && ops.source == .sharedFile)

        var container = base
        container["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent"
        let ecs = try await AWSCredentialChain(environment: container).resolve()
        #expect(ecs.credentials.accessKeyID == "ECS" && ecs.credentials.sessionToken == "token-ECS" && ecs.source == .container)

        var instance = container
        instance["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = nil
        let imds = try await AWSCredentialChain(environment: instance).resolve()
        #expect(imds.credentials.accessKeyID == "IMDS" && imds.source == .instanceMetadata)

        var nothing = instance
        nothing["AWS_EC2_METADATA_DISABLED"] = "true"
        do {
            _ = try await AWSCredentialChain(environment: nothing).resolve()
            Issue.record("credentials appeared from nowhere")
        } catch let error as AWSCredentialError {
            #expect(error.message.contains("environment") && error.message.contains("container") && error.message.contains("instance metadata"))
        }
        try await metadata.close()
    }

    @Test("region: AWS_REGION, then AWS_DEFAULT_REGION, then the profile, then us-east-1")
    func region() throws {
        let config = try temporaryFile("[profile ops]\nregion = eu-west-3\n")
        #expect(AWSCredentialChain(environment: ["AWS_REGION": "ap-south-1", "AWS_DEFAULT_REGION": "x"]).region() == "ap-south-1")
        #expect(AWSCredentialChain(environment: ["AWS_DEFAULT_REGION": "sa-east-1"]).region() == "sa-east-1")
        #expect(AWSCredentialChain(environment: ["AWS_CONFIG_FILE": config, "AWS_PROFILE": "ops"]).region() == "eu-west-3")
        #expect(AWSCredentialChain(environment: ["AWS_CONFIG_FILE": "/nonexistent"]).region() == "us-east-1")
    }
}
