import AWS
import Foundation
import HTTPCurl
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
@testable import Telemetry
import Testing

/// CloudWatch throttling cannot be produced with moto_server, so this one fault is played by a
/// local HTTP server: it answers `400 Throttling` a set number of times, then `200`.
final class ThrottlingEndpoint: Sendable {
    let channel: any Channel
    let requests = Mutex(0)
    var port: Int { channel.localAddress!.port! }

    init(throttleFirst count: Int) async throws {
        let box = Counter(limit: count)
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(box: box))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        self.box = box
    }

    private let box: Counter
    var seen: Int { box.seen.withLock { $0 } }

    func close() async throws { try await channel.close() }

    final class Counter: Sendable {
        let seen = Mutex(0)
        let limit: Int
        init(limit: Int) { self.limit = limit }
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let box: Counter
        init(box: Counter) { self.box = box }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .end = unwrapInboundIn(data) else { return }
            let number = box.seen.withLock { value -> Int in
                value += 1
                return value
            }
            let throttled = number <= box.limit
            let body = throttled
                ? "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>"
                : "<PutMetricDataResponse><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></PutMetricDataResponse>"
            let head = HTTPResponseHead(version: .http1_1, status: throttled ? .badRequest : .ok,
                                        headers: ["Content-Length": "\(body.utf8.count)", "Content-Type": "text/xml"])
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}

@Suite("CloudWatch throttling")
struct ThrottlingTests {
    @Test("Throttling is retried with backoff until accepted; nothing spooled or lost")
    func retriedUntilAccepted() async throws {
        let endpoint = try await ThrottlingEndpoint(throttleFirst: 2)
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
        let stubborn = try await ThrottlingEndpoint(throttleFirst: 100)
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
}
