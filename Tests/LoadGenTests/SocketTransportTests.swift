import Foundation
@testable import LoadGen
import NIOCore
import NIOPosix
import Testing

/// The socket loop `http://` runs use: what NIO's channels did for the load generator before —
/// trying each address of a host, writing requests larger than the socket takes at once — must
/// still hold.
@Suite("Plain-HTTP socket loop")
struct SocketTransportTests {
    @Test("a host whose first address refuses: the next one connects, and no connect error is counted")
    func nextAddressAfterRefusal() async throws {
        let server = try await StallingServer(stallAfter: nil, stallFor: .zero)
        let refusing = try closedLoopbackPort()
        let plan = LoadPlan(template: try RequestTemplate(url: "http://127.0.0.1:\(server.port)/"), connections: 4,
                            duration: nil, requests: 400, threads: 1)
        // This machine's resolver gives one address for localhost; a dual-stack host gives two,
        // and a server may listen on only one of them.
        let addresses = [try SocketAddressBytes.resolve(host: "127.0.0.1", port: refusing).get() + SocketAddressBytes.resolve(host: "127.0.0.1", port: server.port).get()]
        #expect(addresses[0].count == 2)
        let result = try await LoadEngine(plan: plan) { _ in [try SocketTransport(addresses: addresses)] }.run()
        #expect(result.counts.completed == 400)
        #expect(result.counts.errors == 0, "\(result.counts)")
        #expect(server.answered == 400)
        try await server.close()

        // Every address refusing: each attempt is one connect error, and --requests ends the run.
        let nowhere = [try SocketAddressBytes.resolve(host: "127.0.0.1", port: refusing).get() + SocketAddressBytes.resolve(host: "127.0.0.1", port: refusing).get()]
        var dead = plan
        dead.requests = 3
        let failed = try await LoadEngine(plan: dead) { _ in [try SocketTransport(addresses: nowhere)] }.run()
        #expect(failed.counts.completed == 0)
        #expect(failed.counts.connectErrors >= 3, "\(failed.counts)")
    }

    @Test("requests larger than the socket buffer: every byte arrives and every request is answered")
    func partialWrites() async throws {
        let server = try await StallingServer(stallAfter: nil, stallFor: .zero)
        // 4 MiB bodies: far more than one send() takes on loopback, so the rest waits for the
        // socket to drain (write interest on, then off again).
        let body = [UInt8](repeating: UInt8(ascii: "a"), count: 4 << 20)
        let template = try RequestTemplate(url: "http://127.0.0.1:\(server.port)/upload", method: "PUT", body: body)
        let plan = LoadPlan(template: template, connections: 2, duration: nil, requests: 6, timeout: .seconds(20), threads: 1)
        let result = try await LoadEngine(plan: plan).run()
        #expect(result.counts.completed == 6, "\(result.counts)")
        #expect(result.counts.errors == 0)
        var request = ByteBuffer()
        template.format(key: 1, into: &request)
        #expect(server.receivedBytes == 6 * request.readableBytes)
        try await server.close()
    }

    /// A loopback port nothing listens on (bound once, then released).
    private func closedLoopbackPort() throws -> Int {
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(probe) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(probe, $0, length) == 0 && getsockname(probe, $0, &length) == 0 }
        }
        #expect(bound)
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
