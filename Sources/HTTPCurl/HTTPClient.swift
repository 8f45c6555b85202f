import NIOConcurrencyHelpers
import NIOPosix

/// An HTTP client over libcurl whose blocking transfers run on a thread pool of their own, so
/// callers simply `await` and no event loop ever waits on the network.
///
/// Easy handles are reused across requests, which keeps connections to the same host alive.
public final class HTTPClient: Sendable {
    private let threadPool: NIOThreadPool
    private let freeHandles = NIOLockedValueBox<[CurlEasyHandle]>([])

    /// - Parameter concurrency: how many transfers may run at once.
    public init(concurrency: Int = 4) {
        threadPool = NIOThreadPool(numberOfThreads: max(1, concurrency))
        threadPool.start()
    }

    /// Sends the request and returns the response, whatever its status.
    /// - Throws: ``HTTPClientError`` when no response arrived (refused, timed out, reset).
    public func execute(_ request: HTTPRequest) async throws -> HTTPResponse {
        do {
            return try await threadPool.runIfActive { [freeHandles] in
                let handle = freeHandles.withLockedValue { $0.popLast() } ?? CurlEasyHandle()
                defer { freeHandles.withLockedValue { $0.append(handle) } }
                return try handle.perform(request)
            }
        } catch let error as HTTPClientError {
            throw error
        } catch {
            throw HTTPClientError(.shutdown, "the HTTP client is shut down: \(error)")
        }
    }

    /// Stops the thread pool; in-flight requests finish first.
    public func shutdown() async {
        try? await threadPool.shutdownGracefully()
        freeHandles.withLockedValue { $0.removeAll() }
    }
}
