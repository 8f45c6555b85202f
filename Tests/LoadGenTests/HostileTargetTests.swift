import Foundation
import LoadGen
import NIOCore
import NIOPosix
import Testing
import TestSupport

/// A target that answers every request with the same bytes, whatever they are: a lying
/// `Content-Length`, a negative chunk size.
final class FixedAnswerServer: Sendable {
    let channel: any Channel
    var port: Int { channel.localAddress!.port! }

    init(answer: String) async throws {
        let bytes = Array(answer.utf8)
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Answerer(bytes: bytes)) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func close() async throws { try await channel.close() }

    private final class Answerer: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let bytes: [UInt8]
        init(bytes: [UInt8]) { self.bytes = bytes }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            context.writeAndFlush(NIOAny(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
        }
    }
}

@Suite("cacheload load against targets that lie")
struct HostileTargetTests {
    @Test("a lying Content-Length or chunk size is a bad response, counted — never a crash, never a 2xx",
          arguments: ["Content-Length: 9223372036854775808", "Content-Length: 99999999999999999999999", "Content-Length: -5",
                      "Content-Length: 18446744073709551621", "Transfer-Encoding: chunked\r\n\r\n-5"])
    func lyingFraming(_ header: String) async throws {
        let server = try await FixedAnswerServer(answer: "HTTP/1.1 200 OK\r\n\(header)\r\n\r\nhello")
        let json = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(UUID()).json").path
        defer { try? FileManager.default.removeItem(atPath: json) }
        let run = try await runCacheload(["load", "http://127.0.0.1:\(server.port)/x/{key}", "--requests", "200", "-c", "2",
                                          "--quiet", "--json", json], within: 60)
        // 1: the run finished with errors (not 0, not a signal's 128+n).
        #expect(run.status == 1, "\(header): exit \(String(describing: run.status)): \(run.output.suffix(800))")
        let result = try LoadResult.fromJSON(Data(contentsOf: URL(fileURLWithPath: json)))
        #expect(result.counts.status2xx == 0, "\(header): counted as answers")
        #expect(result.counts.badResponses > 0 && result.counts.badResponses == result.counts.failedRequests, "\(header): \(result.counts)")
        try await server.close()
    }
}
