import ConnectionPool
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// An HTTP client over libcurl whose blocking transfers run on a thread pool of their own, so
/// callers simply `await` and no event loop ever waits on the network.
///
/// Easy handles are reused across requests, which keeps connections to the same host alive.
package final class CurlClient: Sendable {
    /// Started by the first transfer, not by `init`.
    private let threadPool: LazyThreadPool
    private let freeHandles = NIOLockedValueBox<[CurlEasyHandle]>([])

    /// - Parameter concurrency: how many transfers may run at once.
    package init(concurrency: Int = 4) {
        threadPool = LazyThreadPool(numberOfThreads: concurrency)
    }

    /// Sends the request and returns the response, whatever its status.
    /// - Throws: ``CurlError`` when no response arrived (refused, timed out, reset).
    package func execute(_ request: CurlRequest) async throws -> CurlResponse {
        do {
            return try await threadPool.runIfActive { [freeHandles] in
                let handle = freeHandles.withLockedValue { $0.popLast() } ?? CurlEasyHandle()
                defer { freeHandles.withLockedValue { $0.append(handle) } }
                return try handle.perform(request)
            }
        } catch let error as CurlError {
            throw error
        } catch {
            throw CurlError(.shutdown, "the HTTP client is shut down: \(error)")
        }
    }

    /// Sends the request and returns as soon as the response head is in; the body follows as
    /// chunks in `body`, as libcurl receives them (for objects too large to hold in memory).
    ///
    /// At most about `bufferLimit` bytes wait between the transfer and the reader: a slow reader
    /// slows the transfer instead of growing memory. Dropping the body aborts the transfer.
    package func stream(_ request: CurlRequest, bufferLimit: Int = 1 << 20) async throws -> CurlStreamingResponse {
        let pipe = ChunkPipe(limit: bufferLimit)
        let body = CurlBodyStream(pipe)
        return try await withCheckedThrowingContinuation { (head: CheckedContinuation<CurlStreamingResponse, any Error>) in
            let collector = ResponseCollector()
            let headDelivered = NIOLockedValueBox(false)
            collector.onHead = { status, headers in
                headDelivered.withLockedValue { $0 = true }
                head.resume(returning: CurlStreamingResponse(status: status, headers: headers, body: body))
            }
            collector.onBody = { pipe.write($0) }
            let freeHandles = self.freeHandles
            let job = threadPool.runIfActive(eventLoop: MultiThreadedEventLoopGroup.singleton.any()) {
                let handle = freeHandles.withLockedValue { $0.popLast() } ?? CurlEasyHandle()
                defer { freeHandles.withLockedValue { $0.append(handle) } }
                _ = try handle.perform(request, collector: collector)
            }
            job.whenComplete { result in
                pipe.finish(result.map { _ in () })
                if !headDelivered.withLockedValue({ $0 }) {
                    head.resume(throwing: result.failureError ?? CurlError(.transport, "the response ended before its head"))
                }
            }
        }
    }

    /// Stops the thread pool; in-flight requests finish first.
    package func shutdown() async {
        await threadPool.shutdown()
        freeHandles.withLockedValue { $0.removeAll() }
    }
}

/// A response whose body arrives as a stream of chunks.
package struct CurlStreamingResponse: Sendable {
    package let status: Int
    package let headers: [(name: String, value: String)]
    package let body: CurlBodyStream

    /// The first value of header `name`, compared case-insensitively.
    package func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name.lowercased() == lowered }?.value
    }
}

extension Result {
    var failureError: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
