import AWS
import Foundation
import HTTPCurl
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
@testable import Telemetry
import Testing

/// Faults moto_server cannot produce — throttling, an endpoint that refuses gzip bodies — played
/// by a local HTTP server whose answer to each request is scripted.
final class ScriptedEndpoint: Sendable {
    /// One request as received.
    struct Seen: Sendable {
        var number: Int
        var headers: HTTPHeaders
        var body: [UInt8]
    }
    typealias Script = @Sendable (Seen) -> (status: HTTPResponseStatus, body: String)

    let channel: any Channel
    private let log: Log
    var port: Int { channel.localAddress!.port! }
    var requests: [Seen] { log.seen.withLock { $0 } }
    var seen: Int { requests.count }

    init(_ script: @escaping Script) async throws {
        let log = Log()
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(log: log, script: script))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        self.log = log
    }

    /// Answers `400 Throttling` to the first `count` requests, then `200`.
    convenience init(throttleFirst count: Int) async throws {
        try await self.init { request in
            request.number <= count
                ? (.badRequest, "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>")
                : (.ok, Self.accepted)
        }
    }

    static let accepted = "<PutMetricDataResponse><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></PutMetricDataResponse>"

    func close() async throws { try await channel.close() }

    final class Log: Sendable {
        let seen = Mutex<[Seen]>([])
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let log: Log
        let script: Script
        var headers = HTTPHeaders()
        var body: [UInt8] = []
        init(log: Log, script: @escaping Script) {
            self.log = log
            self.script = script
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                headers = head.headers
                body = []
            case .body(let buffer):
                body += Array(buffer.readableBytesView)
            case .end:
                let request = log.seen.withLock { seen -> Seen in
                    seen.append(Seen(number: seen.count + 1, headers: headers, body: body))
                    return seen[seen.count - 1]
                }
                let (status, text) = script(request)
                let head = HTTPResponseHead(version: .http1_1, status: status,
                                            headers: ["Content-Length": "\(text.utf8.count)", "Content-Type": "text/xml"])
                context.write(wrapOutboundOut(.head(head)), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}

@Suite("CloudWatch faults moto cannot play: throttling, no gzip")
struct ThrottlingTests {
    @Test("Throttling is retried with backoff until accepted; nothing spooled or lost")
    func retriedUntilAccepted() async throws {
        let endpoint = try await ScriptedEndpoint(throttleFirst: 2)
        let retries = Mutex(0)
        let chain = AWSCredentialChain(environment: ["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret"])
        let client = CloudWatchClient(endpoint: "http://127.0.0.1:\(endpoint.port)", region: "us-east-1", credentials: chain,
                                      retry: .init(attempts: 4, base: .milliseconds(10), cap: .milliseconds(50)),
                                      onRetry: { retries.withLock { $0 += 1 } })
        let spool = MetricSpool(path: FileManager.default.temporaryDirectory.appendingPathComponent("throttle-\(UUID())/s.jsonl").path)
        let pusher = CloudWatchPusher(configuration: .init(flushInterval: .seconds(3600)), client: client, spool: spool)
        pusher.count(CloudWatchPusher.Name.hits, 5)
        let outcome = await pusher.flush()
        #expect(outcome.delivered == 2)  // hits and hit ratio
        #expect(outcome.spooled == 0)
        #expect(endpoint.seen == 3)
        #expect(retries.withLock { $0 } == 2)

        // Throttled on every attempt: the datums go to the spool, not away.
        let stubborn = try await ScriptedEndpoint(throttleFirst: 100)
        let throttled = CloudWatchClient(endpoint: "http://127.0.0.1:\(stubborn.port)", region: "us-east-1", credentials: chain,
                                         retry: .init(attempts: 3, base: .milliseconds(5), cap: .milliseconds(20)))
        let spooling = CloudWatchPusher(configuration: .init(flushInterval: .seconds(3600)), client: throttled, spool: spool)
        spooling.count(CloudWatchPusher.Name.misses, 1)
        #expect(await spooling.flush().spooled == 2)
        #expect(spool.count == 2)
        #expect(stubborn.seen == 3)
        try await endpoint.close()
        try await stubborn.close()
    }

    @Test("spooled datums stay in the spool file while their delivery is under way: a crash mid-flush loses none")
    func spoolKeptUntilDelivered() async throws {
        let chain = AWSCredentialChain(environment: ["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret"])
        let spool = MetricSpool(path: FileManager.default.temporaryDirectory.appendingPathComponent("spool-\(UUID())/datums.jsonl").path)
        let configuration = CloudWatchPusher.Configuration(namespace: "CacheLoadSpoolTest")
        let down = CloudWatchClient(endpoint: "http://127.0.0.1:1", region: "us-east-1", credentials: chain,
                                    retry: .init(attempts: 1, base: .milliseconds(1), cap: .milliseconds(1)))
        let first = CloudWatchPusher(configuration: configuration, client: down, spool: spool)
        first.count(CloudWatchPusher.Name.hits, 5)
        first.count(CloudWatchPusher.Name.misses, 1)
        #expect(await first.flush().spooled == 3)
        // What the spool file holds at the moment CloudWatch receives the request: a process
        // killed then must find its datums on disk when it starts again.
        let duringDelivery = Mutex<[Int]>([])
        let endpoint = try await ScriptedEndpoint { _ in
            duringDelivery.withLock { $0.append(spool.count) }
            return (.ok, ScriptedEndpoint.accepted)
        }
        let up = CloudWatchClient(endpoint: "http://127.0.0.1:\(endpoint.port)", region: "us-east-1", credentials: chain)
        let outcome = await CloudWatchPusher(configuration: configuration, client: up, spool: spool).flush()
        #expect(outcome.delivered == 3)
        #expect(duringDelivery.withLock { $0 } == [3], "spool size while the delivery was in flight")
        #expect(spool.count == 0)
        try await endpoint.close()
    }

    @Test("credentials that cannot be looked up (metadata endpoint down) spool the datums instead of dropping them as rejected")
    func credentialsOutageSpools() async throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("home-\(UUID())").path
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        // No keys in the environment or files; the instance metadata endpoint refuses connections.
        let chain = AWSCredentialChain(environment: ["HOME": home, "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:1"])
        let endpoint = try await ScriptedEndpoint { _ in (.ok, ScriptedEndpoint.accepted) }
        let spool = MetricSpool(path: home + "/spool/datums.jsonl")
        let client = CloudWatchClient(endpoint: "http://127.0.0.1:\(endpoint.port)", region: "us-east-1", credentials: chain,
                                      retry: .init(attempts: 2, base: .milliseconds(1), cap: .milliseconds(1)))
        let pusher = CloudWatchPusher(configuration: CloudWatchPusher.Configuration(namespace: "CacheLoadCredentialsTest"), client: client, spool: spool)
        pusher.count(CloudWatchPusher.Name.hits, 2)
        let outcome = await pusher.flush()
        #expect(outcome.rejected == 0 && outcome.spooled == 2, "\(outcome)")
        #expect(spool.count == 2)
        #expect(endpoint.seen == 0)
        await chain.shutdown()
        try await endpoint.close()
    }

    @Test("an endpoint that refuses gzip bodies gets the same body plain, and plain bodies from then on")
    func gzipRefused() async throws {
        let endpoint = try await ScriptedEndpoint { request in
            request.headers["Content-Encoding"].first == "gzip"
                ? (.unsupportedMediaType, "<ErrorResponse><Error><Code>UnsupportedMediaType</Code><Message>no gzip here</Message></Error></ErrorResponse>")
                : (.ok, ScriptedEndpoint.accepted)
        }
        let chain = AWSCredentialChain(environment: ["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret"])
        let client = CloudWatchClient(endpoint: "http://127.0.0.1:\(endpoint.port)", region: "us-east-1", credentials: chain,
                                      retry: .init(attempts: 1), compressionThreshold: 0)
        let spool = MetricSpool(path: FileManager.default.temporaryDirectory.appendingPathComponent("gzip-\(UUID())/s.jsonl").path)
        let pusher = CloudWatchPusher(configuration: .init(flushInterval: .seconds(3600)), client: client, spool: spool)
        #expect(client.compressesRequests)
        pusher.count(CloudWatchPusher.Name.hits, 7)
        let first = await pusher.flush()
        #expect(first.delivered == 2 && first.rejected == 0 && first.spooled == 0)
        #expect(!client.compressesRequests)
        pusher.count(CloudWatchPusher.Name.hits, 1)
        #expect(await pusher.flush().delivered == 2)
        let requests = endpoint.requests
        #expect(requests.map { $0.headers["Content-Encoding"].first ?? "identity" } == ["gzip", "identity", "identity"])
        // The refused body was gzip of the very form that was then accepted plain.
        #expect(try Zlib.decompress(requests[0].body, format: .gzip) == requests[1].body)
        #expect(String(decoding: requests[1].body, as: UTF8.self).contains("MetricData.member.1.MetricName=CacheHits"))
        try await endpoint.close()
    }
}
