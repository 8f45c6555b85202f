import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A minimal keep-alive HTTP server on loopback that answers every request at once — except
/// during one known window, when it holds every answer until the window ends. The target for
/// proving coordinated-omission correction: the stall's effect on percentiles is computable.
final class StallingServer: Sendable {
    let channel: any Channel
    var port: Int { channel.localAddress!.port! }
    private let box: Box
    /// Whether any request has arrived.
    var receivedAny: Bool { box.first.withLock { $0 != nil } }
    /// Requests answered so far.
    var answered: Int { box.answered.withLock { $0 } }
    /// Request bytes received so far.
    var receivedBytes: Int { box.bytes.withLock { $0 } }

    /// - Parameters:
    ///   - stallAfter: start of the stall, counted from the first request received.
    ///   - stallFor: how long every answer is held.
    init(stallAfter: TimeAmount?, stallFor: TimeAmount) async throws {
        let box = Box()
        self.box = box
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Handler(box: box, stallAfter: stallAfter, stallFor: stallFor))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func close() async throws { try await channel.close() }

    final class Box: Sendable {
        let first = Mutex<NIODeadline?>(nil)
        let answered = Mutex(0)
        let bytes = Mutex(0)
        func start() -> NIODeadline {
            first.withLock { value in
                if value == nil { value = .now() }
                return value!
            }
        }
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let box: Box
        let stallAfter: TimeAmount?
        let stallFor: TimeAmount
        var pending: [UInt8] = []
        static let response = ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Cache: HIT\r\n\r\nok")

        init(box: Box, stallAfter: TimeAmount?, stallFor: TimeAmount) {
            self.box = box
            self.stallAfter = stallAfter
            self.stallFor = stallFor
        }

        /// Body bytes of the current request still to come (its `Content-Length`).
        var bodyLeft = 0

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = unwrapInboundIn(data).readableBytesView
            box.bytes.withLock { $0 += bytes.count }
            pending += bytes
            // One response per complete request: its head, then its body if it has one.
            while true {
                if bodyLeft > 0 {
                    let taken = min(bodyLeft, pending.count)
                    pending.removeFirst(taken)
                    bodyLeft -= taken
                    guard bodyLeft == 0 else { return }
                    answer(context)
                }
                guard let end = pending.firstRange(of: [13, 10, 13, 10]) else { return }
                let head = String(decoding: pending[..<end.lowerBound], as: UTF8.self).lowercased()
                pending.removeSubrange(..<end.upperBound)
                let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                bodyLeft = length.flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                if bodyLeft == 0 { answer(context) }
            }
        }

        private func answer(_ context: ChannelHandlerContext) {
            box.answered.withLock { $0 += 1 }
            let start = box.start()
            let now = NIODeadline.now()
            let context = NIOLoopBound(context, eventLoop: context.eventLoop)
            if let stallAfter, now >= start + stallAfter, now < start + stallAfter + stallFor {
                context.value.eventLoop.scheduleTask(deadline: start + stallAfter + stallFor) {
                    context.value.writeAndFlush(NIOAny(Self.response), promise: nil)
                }
            } else {
                context.value.writeAndFlush(NIOAny(Self.response), promise: nil)
            }
        }
    }
}
