import Foundation
import HTTPCurl
import NIOCore
import NIOPosix
import Testing
import TestSupport

/// Raw bytes a browser would never send: the server must answer 400 and close, or close on its
/// own schedule, and never let one client's bytes slow another's answers.
@Suite("Hostile clients: malformed request lines, oversized headers, slowloris")
struct HostileClientTests {
    /// What one raw connection saw.
    struct Exchange {
        var received: [UInt8]
        /// The server closed the connection (rather than our deadline ending the wait).
        var closedByServer: Bool
        var elapsed: Duration
        var text: String { String(decoding: received, as: UTF8.self) }
    }

    /// Connects, sends `chunks` (waiting `gap` between them), then reads until the server closes
    /// or `limit` passes.
    static func exchange(port: Int, _ chunks: [[UInt8]], gap: Duration = .zero, limit: Duration = .seconds(3)) async throws -> Exchange {
        let clock = ContinuousClock()
        let start = clock.now
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(isOutboundHalfClosureEnabled: false))
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await withThrowingTaskGroup(of: Exchange?.self) { group in
                group.addTask {
                    var received: [UInt8] = []
                    do {
                        for try await buffer in inbound { received += Array(buffer.readableBytesView) }
                    } catch {
                        // A reset is a close too.
                    }
                    return Exchange(received: received, closedByServer: true, elapsed: clock.now - start)
                }
                group.addTask {
                    for (index, chunk) in chunks.enumerated() {
                        if index > 0 { try await Task.sleep(for: gap) }
                        try? await outbound.write(ByteBuffer(bytes: chunk))
                    }
                    try await Task.sleep(until: start + limit)
                    return nil
                }
                // Whichever ends first: the server closing (an exchange), or the deadline (nil).
                let first = try await group.next() ?? nil
                group.cancelAll()
                return first ?? Exchange(received: [], closedByServer: false, elapsed: limit)
            }
        }
    }

    @Test("malformed request lines, bad versions, 100 KB headers and URLs, binary junk: 400 and close, server unharmed")
    func malformed() async throws {
        let server = try await TestServer.start()
        let big = String(repeating: "a", count: 100_000)
        let hostile: [(String, [UInt8])] = [
            ("garbage line", Array("GARBAGE\r\n\r\n".utf8)),
            ("method only", Array("GET\r\n\r\n".utf8)),
            ("unknown version", Array("GET /product/1 HTTP/9.9\r\nHost: x\r\n\r\n".utf8)),
            ("negative Content-Length", Array("PUT /product/1 HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n".utf8)),
            ("two Content-Lengths", Array("PUT /product/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab".utf8)),
            ("header without colon", Array("GET /product/1 HTTP/1.1\r\nHost x\r\n\r\n".utf8)),
            ("100 KB header", Array("GET /product/1 HTTP/1.1\r\nHost: x\r\nX-Big: \(big)\r\n\r\n".utf8)),
            ("5000 headers", Array(("GET /product/1 HTTP/1.1\r\nHost: x\r\n" + (0..<5000).map { "X-H\($0): v\r\n" }.joined() + "\r\n").utf8)),
            ("100 KB URL", Array("GET /\(big) HTTP/1.1\r\nHost: x\r\n\r\n".utf8)),
            ("NUL bytes", [0, 0, 0, 13, 10, 13, 10]),
            ("TLS ClientHello on the plain port", [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]),
        ]
        for (name, bytes) in hostile {
            let seen = try await Self.exchange(port: server.port, [bytes])
            #expect(seen.text.hasPrefix("HTTP/1.1 400"), "\(name): \(seen.text.prefix(80))")
            #expect(seen.closedByServer, "\(name): connection left open")
            #expect(seen.elapsed < .seconds(2), "\(name): took \(seen.elapsed)")
        }
        #expect(try await server.request(.GET, "/product/1").status == 200)
        #expect(try await server.request(.GET, "/health").status == 200)
        await server.stop()
    }

    @Test("slowloris: 100 connections that never finish their headers are closed at the idle timeout; others are served meanwhile")
    func slowloris() async throws {
        let server = try await TestServer.start(idleTimeout: .seconds(1))
        _ = try await server.request(.GET, "/product/1")
        let head = Array("GET /product/1 HTTP/1.1\r\nHost: x\r\n".utf8)
        // Each sends a partial head, then one more header byte every 300 ms — never the blank line.
        let attackers = Task {
            try await withThrowingTaskGroup(of: Exchange.self) { group in
                for _ in 0..<100 {
                    group.addTask {
                        try await Self.exchange(port: server.port, [head] + Array(repeating: Array("X".utf8), count: 10),
                                                gap: .milliseconds(300), limit: .seconds(6))
                    }
                }
                var all: [Exchange] = []
                for try await exchange in group { all.append(exchange) }
                return all
            }
        }
        // A well-behaved client while the attack is on.
        let clock = ContinuousClock()
        var worst = Duration.zero
        for index in 0..<100 {
            let start = clock.now
            let response = try await server.request(.GET, "/product/\(index % 10 + 1)")
            worst = max(worst, clock.now - start)
            #expect(response.status == 200)
        }
        let results = try await attackers.value
        #expect(results.count == 100)
        #expect(results.allSatisfy { $0.closedByServer }, "\(results.filter { !$0.closedByServer }.count) slow connections left open")
        let slowest = results.map(\.elapsed).max() ?? .zero
        #expect(slowest < .seconds(3), "closed after \(slowest) with a 1 s idle timeout")
        #expect(results.allSatisfy { $0.received.isEmpty || String(decoding: $0.received, as: UTF8.self).hasPrefix("HTTP/1.1 4") })
        #expect(worst < .milliseconds(500), "a normal request took \(worst) during the attack")
        print("slowloris: 100 connections closed after at most \(slowest); normal requests meanwhile: worst \(worst)")
        await server.stop()
    }
}
