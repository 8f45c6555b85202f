import Foundation
import Testing
import TestSupport

@Suite("HTTP/1.0 connection semantics (what ab relies on)")
struct HTTP10Tests {
    /// Sends raw bytes on one TCP connection and reads until the server closes it or `seconds` pass.
    private func exchange(port: Int, _ requests: [String], seconds: Int = 3) throws -> (text: String, closedByServer: Bool) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(connected == 0)
        for request in requests { _ = request.withCString { send(fd, $0, strlen($0), 0) } }
        var received = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count == 0 { return (String(decoding: received, as: UTF8.self), true) }
            if count < 0 { return (String(decoding: received, as: UTF8.self), false) }
            received += buffer[0..<count]
        }
    }

    @Test("HTTP/1.0 without keep-alive: one answer, then the server closes the connection")
    func closesAfterResponse() async throws {
        let server = try await TestServer.start()
        let result = try exchange(port: server.port, ["GET /product/1 HTTP/1.0\r\nHost: x\r\n\r\n"])
        #expect(result.closedByServer)
        #expect(result.text.hasPrefix("HTTP/1.1 200"))
        #expect(result.text.contains("\"product\""))
        await server.stop()
    }

    @Test("HTTP/1.0 with Connection: keep-alive: announced back, and the connection serves a second request")
    func keepAlive() async throws {
        let server = try await TestServer.start()
        let request = "GET /product/2 HTTP/1.0\r\nHost: x\r\nConnection: Keep-Alive\r\n\r\n"
        let result = try exchange(port: server.port, [request, request], seconds: 1)
        #expect(!result.closedByServer)
        #expect(result.text.components(separatedBy: "HTTP/1.1 200").count - 1 == 2)
        #expect(result.text.lowercased().contains("connection: keep-alive"))
        await server.stop()
    }

    @Test("HTTP/1.1 after HTTP/1.0 keep-alive on one connection, then HTTP/1.1 alone: every answer arrives, none announces keep-alive twice")
    func mixedThenPlain() async throws {
        let server = try await TestServer.start()
        let old = "GET /product/3 HTTP/1.0\r\nHost: x\r\nConnection: Keep-Alive\r\n\r\n"
        let new = "GET /product/3 HTTP/1.1\r\nHost: x\r\n\r\n"
        let mixed = try exchange(port: server.port, [old, new, new], seconds: 1)
        #expect(!mixed.closedByServer)
        #expect(mixed.text.components(separatedBy: "HTTP/1.1 200").count - 1 == 3)
        #expect(mixed.text.lowercased().components(separatedBy: "connection: keep-alive").count - 1 == 1)
        // HTTP/1.1 only: the handler has left the pipeline after the first request; later
        // pipelined requests on the connection are still answered in order.
        let plain = try exchange(port: server.port, [new, new, new, new], seconds: 1)
        #expect(!plain.closedByServer)
        #expect(plain.text.components(separatedBy: "HTTP/1.1 200").count - 1 == 4)
        #expect(!plain.text.lowercased().contains("connection: keep-alive"))
        await server.stop()
    }
}
