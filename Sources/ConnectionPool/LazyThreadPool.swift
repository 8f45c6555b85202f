import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A `NIOThreadPool` whose threads start with the first job, not when the client that owns it is
/// made: constructing a client starts no thread, and one that is never used never has any.
/// Shut down once by its owner; a job after that fails (the pool is inactive), never restarts it.
package final class LazyThreadPool: Sendable {
    private enum State {
        case idle
        case running
        case shutDown
    }

    private let pool: NIOThreadPool
    private let state = NIOLockedValueBox(State.idle)

    package init(numberOfThreads: Int) {
        pool = NIOThreadPool(numberOfThreads: max(1, numberOfThreads))
    }

    /// Whether the threads have been started (by a first job) and not shut down.
    package var isRunning: Bool { state.withLockedValue { $0 == .running } }

    /// Runs `work` on a pool thread, starting the threads first if this is the first job.
    /// - Throws: what `work` throws, or NIO's inactive-pool error after ``shutdown()``.
    package func runIfActive<Result: Sendable>(_ work: @escaping @Sendable () throws -> Result) async throws -> Result {
        startIfIdle()
        return try await pool.runIfActive(work)
    }

    /// ``runIfActive(_:)`` completing a future on `eventLoop`.
    package func runIfActive<Result: Sendable>(eventLoop: any EventLoop, _ work: @escaping @Sendable () throws -> Result)
        -> EventLoopFuture<Result> {
        startIfIdle()
        return pool.runIfActive(eventLoop: eventLoop, work)
    }

    /// Stops the threads (after the jobs that run finish); nothing to stop if none started.
    package func shutdown() async {
        let wasRunning = state.withLockedValue { state -> Bool in
            defer { state = .shutDown }
            return state == .running
        }
        if wasRunning { try? await pool.shutdownGracefully() }
    }

    private func startIfIdle() {
        // Decided under the lock; NIOThreadPool.start() only flips its own state, so calling it
        // under ours cannot wait on anything.
        state.withLockedValue { state in
            guard state == .idle else { return }
            pool.start()
            state = .running
        }
    }
}
