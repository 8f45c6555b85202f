import Foundation
import LoadGen
import NIOCore
import NIOPosix
import Testing
import TestSupport

/// A target that answers every request with the same bytes, whatever they are: a lying
/// `Content-Length`, a negative chunk size, a 503 — after `delay` when given.
final class FixedAnswerServer: Sendable {
    let channel: any Channel
    var port: Int { channel.localAddress!.port! }

    init(answer: String, delay: TimeAmount = .zero) async throws {
        let bytes = Array(answer.utf8)
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Answerer(bytes: bytes, delay: delay)) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func close() async throws { try await channel.close() }

    private final class Answerer: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let bytes: [UInt8]
        let delay: TimeAmount
        init(bytes: [UInt8], delay: TimeAmount) {
            self.bytes = bytes
            self.delay = delay
        }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let channel = context.channel
            let answer = channel.allocator.buffer(bytes: bytes)
            if delay == .zero {
                channel.writeAndFlush(answer, promise: nil)
            } else {
                channel.eventLoop.scheduleTask(in: delay) { channel.writeAndFlush(answer, promise: nil) }
            }
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

    @Test("every answer a 503: errors<1% fails (exit 99) and says it judged HTTP failures; --expect-status 503 declares them answers")
    func serviceFailingIsAFailure() async throws {
        let server = try await FixedAnswerServer(answer: "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
        let url = "http://127.0.0.1:\(server.port)/product/{key}"
        let failing = try await runCacheload(["load", url, "--requests", "300", "-c", "4", "--quiet", "--threshold", "errors<1%"])
        #expect(failing.status == 99, "\(failing.output.suffix(800))")
        #expect(failing.output.contains("✗ errors<1%"), "\(failing.output.suffix(800))")
        #expect(failing.output.contains("100.00% of requests failed"), "\(failing.output.suffix(800))")
        #expect(failing.output.contains("HTTP failures 300"), "\(failing.output.suffix(800))")
        let transport = try await runCacheload(["load", url, "--requests", "300", "-c", "4", "--quiet", "--threshold", "transport_errors<1%"])
        #expect(transport.status == 0, "\(transport.output.suffix(800))")
        let declared = try await runCacheload(["load", url, "--requests", "300", "-c", "4", "--quiet", "--expect-status", "503",
                                               "--threshold", "errors<1%"])
        #expect(declared.status == 0, "\(declared.output.suffix(800))")
        let bad = try await runCacheload(["load", url, "--requests", "3", "--expect-status", "600"])
        #expect(bad.status == 64 && bad.output.contains("--expect-status \"600\""), "\(bad.output)")
        try await server.close()
    }

    @Test("a generator that cannot keep its schedule says so: unsent in text and JSON, and an unsent threshold fails the run")
    func saturatedGeneratorNamed() async throws {
        // One connection to a target that takes 50 ms: at most ~20 req/s can be sent of 200 asked.
        let server = try await FixedAnswerServer(answer: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", delay: .milliseconds(50))
        let json = FileManager.default.temporaryDirectory.appendingPathComponent("saturated-\(UUID()).json").path
        defer { try? FileManager.default.removeItem(atPath: json) }
        let run = try await runCacheload(["load", "http://127.0.0.1:\(server.port)/{key}", "--rate", "200", "-c", "1", "-d", "2s",
                                          "--json", json, "--threshold", "unsent<1%"])
        #expect(run.status == 99, "\(run.output.suffix(800))")
        #expect(run.output.contains("the load generator could not keep its schedule"), "\(run.output.suffix(800))")
        let result = try LoadResult.fromJSON(Data(contentsOf: URL(fileURLWithPath: json)))
        #expect(result.counts.sent + result.counts.unsent == 400, "\(result.counts)")
        #expect(result.counts.unsent > 300, "\(result.counts)")
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any]
        let generator = (document?["summary"] as? [String: Any])?["generator"] as? [String: Any]
        #expect(generator?["saturated"] as? Bool == true && generator?["unsent"] as? Int == result.counts.unsent, "\(String(describing: generator))")
        try await server.close()
    }
}
