import Foundation
@testable import HTTPCurl
import Testing
import TestSupport

/// A streamed body must never be buffered whole: S3 objects of any size pass through the server
/// to clients of any speed.
@Suite("Streamed bodies: bounded buffering and abort on abandon")
struct StreamingTests {
    static let limit = 256 * 1024
    static let payload = [UInt8](repeating: 97, count: 8 << 20)

    private func post(_ client: CurlClient, _ server: EchoServer) async throws -> CurlStreamingResponse {
        try await client.stream(CurlRequest(method: .POST, url: "http://127.0.0.1:\(server.port)/big", body: Self.payload,
                                            timeout: .seconds(30)), bufferLimit: Self.limit)
    }

    /// Reads one chunk and lets the stream go.
    private func readOneChunkAndDrop(_ client: CurlClient, _ server: EchoServer) async throws {
        let response = try await post(client, server)
        var iterator = response.body.makeAsyncIterator()
        #expect(try await iterator.next() != nil)
    }

    @Test("a reader that has not started holds the transfer at the limit; then every byte arrives, in order")
    func boundedBuffering() async throws {
        let server = try await EchoServer()
        let client = CurlClient(concurrency: 1)
        let response = try await post(client, server)
        let pipe = response.body.pipe
        // Nothing read yet: the transfer must stop at the limit, not run through 8 MB.
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(10)
        while !pipe.isWriterWaiting, clock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(pipe.isWriterWaiting, "the transfer never waited for the reader")
        #expect(pipe.peakBufferedBytes <= Self.limit + 64 * 1024, "buffered \(pipe.peakBufferedBytes) bytes")

        var received: [UInt8] = []
        for try await chunk in response.body { received += chunk }
        #expect(received.count > Self.payload.count)
        #expect(received.suffix(Self.payload.count).elementsEqual(Self.payload))
        #expect(pipe.peakBufferedBytes <= Self.limit + 64 * 1024, "buffered \(pipe.peakBufferedBytes) bytes")
        await client.shutdown()
        try await server.close()
    }

    @Test("dropping a half-read stream aborts its transfer and frees the client's thread")
    func abandonAborts() async throws {
        let server = try await EchoServer()
        let client = CurlClient(concurrency: 1)  // one thread: the next request needs the first transfer gone
        try await readOneChunkAndDrop(client, server)
        let clock = ContinuousClock()
        let start = clock.now
        let next = try await client.execute(CurlRequest(url: "http://127.0.0.1:\(server.port)/status/200", timeout: .seconds(10)))
        #expect(next.status == 200)
        #expect(clock.now - start < .seconds(5))
        await client.shutdown()
        try await server.close()
    }
}
