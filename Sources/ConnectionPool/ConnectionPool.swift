import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A connection a ``ConnectionPool`` can hold: closed by the pool when it is dropped.
package protocol PooledConnection: AnyObject, Sendable {
    func close()
}

/// Why a pool refused a caller; each client maps it to its own typed error.
package enum PoolFailure: Sendable {
    /// The client was shut down.
    case closed
    /// No connection became free within the timeout, or the waiting task was cancelled.
    case timeout(String)
}

/// A bounded set of connections: at most `size` open, callers queue for up to a timeout.
///
/// The pool itself does no I/O. It hands out either an idle connection or a *permit* to open a
/// new one, so connecting (which blocks) happens in the caller's thread-pool job, not here.
/// ``PoolStateMachine`` decides under the lock; resuming callers, closing connections and arming
/// the pool's one timeout timer happen after it.
package final class ConnectionPool<Connection: PooledConnection>: Sendable {
    package typealias Lease = PoolGrant<Connection>
    typealias Waiter = CheckedContinuation<Lease, any Error>

    /// Counts for metrics and `/health`.
    package struct Snapshot: Sendable {
        package var open: Int
        package var inUse: Int
        package var waiting: Int
    }

    private let state: NIOLockedValueBox<PoolStateMachine<Connection, Waiter>>
    private let nextID = NIOLockedValueBox(0)
    private let timerLoop: any EventLoop
    private let failure: @Sendable (PoolFailure) -> any Error

    /// - Parameter failure: the client's own error for a refused caller.
    package init(size: Int, timerLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.any(),
                 failure: @escaping @Sendable (PoolFailure) -> any Error) {
        state = NIOLockedValueBox(PoolStateMachine(size: size))
        self.timerLoop = timerLoop
        self.failure = failure
    }

    package var snapshot: Snapshot {
        let counts = state.withLockedValue { $0.counts }
        return Snapshot(open: counts.open, inUse: counts.inUse, waiting: counts.waiting)
    }

    /// Waits up to `timeout` for a connection or a permit.
    package func lease(timeout: Duration) async throws -> Lease {
        let id = nextID.withLockedValue { value in
            defer { value += 1 }
            return value
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (waiter: Waiter) in
                guard !Task.isCancelled else {
                    waiter.resume(throwing: failure(.timeout("the waiting task was cancelled")))
                    return
                }
                let deadline = NIODeadline.now() + TimeAmount(timeout)
                switch state.withLockedValue({ $0.leaseRequested(id: id, waiter: waiter, deadline: deadline) }) {
                case .grant(let grant): waiter.resume(returning: grant)
                case .wait(let armTimer): if let armTimer { arm(armTimer, timeout: timeout) }
                case .failClosed: waiter.resume(throwing: failure(.closed))
                }
            }
        } onCancel: {
            state.withLockedValue { $0.cancelled(id: id) }?.resume(throwing: failure(.timeout("the waiting task was cancelled")))
        }
    }

    /// Returns a connection; a broken one is dropped and its place offered to the next waiter.
    package func release(_ connection: Connection, healthy: Bool) {
        perform(state.withLockedValue { $0.released(connection, healthy: healthy) })
    }

    /// Records that opening a connection under a permit failed.
    package func openFailed() {
        perform(state.withLockedValue { $0.openFailed() })
    }

    /// Closes idle connections and fails every waiter; later leases fail as closed.
    package func close() {
        let (connections, waiters) = state.withLockedValue { $0.close() }
        connections.forEach { $0.close() }
        waiters.forEach { $0.resume(throwing: failure(.closed)) }
    }

    private func perform(_ handover: PoolStateMachine<Connection, Waiter>.Handover) {
        handover.close.forEach { $0.close() }
        if let (waiter, grant) = handover.waiter { waiter.resume(returning: grant) }
    }

    /// The one timer: fires at the earliest waiter's deadline and re-arms for the next.
    private func arm(_ deadline: NIODeadline, timeout: Duration) {
        timerLoop.scheduleTask(deadline: deadline) { [self] in
            let (expired, next) = state.withLockedValue { $0.timerFired(now: NIODeadline.now()) }
            let error = failure(.timeout("no connection became free within \(timeout)"))
            expired.forEach { $0.resume(throwing: error) }
            if let next { arm(next, timeout: timeout) }
        }
    }
}
