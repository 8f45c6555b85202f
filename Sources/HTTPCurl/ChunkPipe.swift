import Dispatch
import NIOConcurrencyHelpers

/// Hands body chunks from the thread running a transfer to an async reader, holding at most
/// about `limit` bytes. When the reader falls behind (a slow client downstream), the transfer
/// thread waits, TCP slows the origin down, and memory stays bounded whatever the body's size.
/// When the reader goes away, the next write says so and the transfer is aborted.
final class ChunkPipe: Sendable {
    private struct State {
        var chunks: [[UInt8]] = []
        var head = 0
        var bufferedBytes = 0
        var peakBufferedBytes = 0
        var end: Result<Void, any Error>?
        var reader: CheckedContinuation<[UInt8]?, any Error>?
        var writerWaiting = false
        var cancelled = false
    }

    let limit: Int
    private let state = NIOLockedValueBox(State())
    private let space = DispatchSemaphore(value: 0)

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Transfer thread: queues a chunk, waiting while the pipe is full.
    /// - Returns: `false` once the reader is gone (the transfer should stop).
    func write(_ chunk: [UInt8]) -> Bool {
        enum Action { case handOver(CheckedContinuation<[UInt8]?, any Error>), done(Bool), wait }
        while true {
            let action = state.withLockedValue { state -> Action in
                if state.cancelled { return .done(false) }
                if let reader = state.reader {
                    state.reader = nil
                    return .handOver(reader)
                }
                guard state.bufferedBytes < limit else {
                    state.writerWaiting = true
                    return .wait
                }
                state.chunks.append(chunk)
                state.bufferedBytes += chunk.count
                state.peakBufferedBytes = max(state.peakBufferedBytes, state.bufferedBytes)
                return .done(true)
            }
            switch action {
            case .handOver(let reader):
                reader.resume(returning: chunk)
                return true
            case .done(let accepted):
                return accepted
            case .wait:
                space.wait()
            }
        }
    }

    /// Transfer thread: no more chunks; `error` when the transfer failed.
    func finish(_ result: Result<Void, any Error>) {
        let reader = state.withLockedValue { state -> CheckedContinuation<[UInt8]?, any Error>? in
            state.end = result
            defer { state.reader = nil }
            return state.reader
        }
        reader?.resume(with: result.map { nil })
    }

    /// Reader: the next chunk, or `nil` at the end.
    func read() async throws -> [UInt8]? {
        try await withCheckedThrowingContinuation { continuation in
            let (ready, wakeWriter) = state.withLockedValue { state -> (Result<[UInt8]?, any Error>?, Bool) in
                if state.head < state.chunks.count {
                    let chunk = state.chunks[state.head]
                    state.head += 1
                    state.bufferedBytes -= chunk.count
                    if state.head == state.chunks.count {
                        state.chunks.removeAll(keepingCapacity: true)
                        state.head = 0
                    }
                    defer { state.writerWaiting = false }
                    return (.success(chunk), state.writerWaiting)
                }
                if let end = state.end { return (end.map { nil }, false) }
                state.reader = continuation
                return (nil, false)
            }
            if wakeWriter { space.signal() }
            if let ready { continuation.resume(with: ready) }
        }
    }

    /// Reader gone: drop what is queued and release a waiting writer.
    func cancel() {
        let wakeWriter = state.withLockedValue { state -> Bool in
            state.cancelled = true
            state.chunks.removeAll()
            state.head = 0
            state.bufferedBytes = 0
            defer { state.writerWaiting = false }
            return state.writerWaiting
        }
        if wakeWriter { space.signal() }
    }

    /// For tests: the most bytes ever queued, and whether the writer is waiting for room now.
    var peakBufferedBytes: Int { state.withLockedValue { $0.peakBufferedBytes } }
    var isWriterWaiting: Bool { state.withLockedValue { $0.writerWaiting } }
}

/// The body of a streamed response: chunks in order, with bounded buffering behind them.
/// Dropping every copy of the stream (and its iterators) aborts the transfer.
package struct CurlBodyStream: AsyncSequence, Sendable {
    package typealias Element = [UInt8]

    /// Cancels the pipe when the last holder of the stream lets go.
    final class Lifetime: Sendable {
        let pipe: ChunkPipe
        init(_ pipe: ChunkPipe) { self.pipe = pipe }
        deinit { pipe.cancel() }
    }

    let lifetime: Lifetime
    var pipe: ChunkPipe { lifetime.pipe }

    init(_ pipe: ChunkPipe) {
        lifetime = Lifetime(pipe)
    }

    package struct AsyncIterator: AsyncIteratorProtocol {
        let lifetime: Lifetime
        package mutating func next() async throws -> [UInt8]? { try await lifetime.pipe.read() }
    }

    package func makeAsyncIterator() -> AsyncIterator { AsyncIterator(lifetime: lifetime) }
}
