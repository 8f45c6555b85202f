import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import Synchronization

/// An h2c target for faults no server here sends on demand, decided by the path's last number
/// (the key): a key divisible by `resetEvery` is answered `RST_STREAM INTERNAL_ERROR` (taken,
/// then failed) every time; a key divisible by `refuseEvery` is `RST_STREAM REFUSED_STREAM` (never
/// taken: safe to send again) the first time it comes, then answered; the rest get `200` with
/// `X-Cache: HIT`. It counts what it did, for a test to compare with the client's.
package final class HTTP2FaultServer: Sendable {
    package struct Tally: Sendable, Equatable {
        package var answered = 0, reset = 0, refused = 0
    }

    /// What was done so far, and how many streams came.
    private final class Record: Sendable {
        let state = Mutex((tally: Tally(), refusedKeys: Set<Int>()))
    }

    private let channel: any Channel
    private let record = Record()
    package var port: Int { channel.localAddress!.port! }
    package var counts: Tally { record.state.withLock { $0.tally } }

    package init(resetEvery: Int, refuseEvery: Int) async throws {
        let record = self.record
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOHTTP2Handler(mode: .server))
                    try channel.pipeline.syncOperations.addHandler(Responder { key in
                        record.state.withLock { state in
                            if key % resetEvery == 0 { state.tally.reset += 1; return .reset }
                            if key % refuseEvery == 0, state.refusedKeys.insert(key).inserted { state.tally.refused += 1; return .refuse }
                            state.tally.answered += 1
                            return .answer
                        }
                    })
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    package func close() async throws { try await channel.close() }

    enum Outcome { case answer, reset, refuse }

    /// Frame-level: answers each request's HEADERS as `decide` says.
    private final class Responder: ChannelInboundHandler {
        typealias InboundIn = HTTP2Frame
        typealias OutboundOut = HTTP2Frame
        /// Decides by the key at the end of the path.
        private let decide: (Int) -> Outcome

        init(decide: @escaping (Int) -> Outcome) {
            self.decide = decide
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let frame = unwrapInboundIn(data)
            guard case .headers(let headers) = frame.payload, headers.endStream else { return }
            let key = headers.headers.first(name: ":path").flatMap { Int($0.split(separator: "/").last ?? "") } ?? 1
            switch decide(key) {
            case .answer:
                let head: HPACKHeaders = [":status": "200", "x-cache": "HIT", "content-type": "application/json"]
                context.write(wrapOutboundOut(HTTP2Frame(streamID: frame.streamID, payload: .headers(.init(headers: head)))), promise: nil)
                let body = ByteBuffer(string: #"{"ok":true}"#)
                context.writeAndFlush(wrapOutboundOut(HTTP2Frame(streamID: frame.streamID, payload: .data(.init(data: .byteBuffer(body), endStream: true)))), promise: nil)
            case .reset:
                context.writeAndFlush(wrapOutboundOut(HTTP2Frame(streamID: frame.streamID, payload: .rstStream(.internalError))), promise: nil)
            case .refuse:
                context.writeAndFlush(wrapOutboundOut(HTTP2Frame(streamID: frame.streamID, payload: .rstStream(.refusedStream))), promise: nil)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
