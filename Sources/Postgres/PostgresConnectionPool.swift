import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A bounded set of connections: at most `size` open, callers queue for up to a timeout.
///
/// The pool itself does no I/O. It hands out either an idle connection or a *permit* to open a
/// new one, so connecting (which blocks) happens in the caller's thread-pool job, not here.
/// ``PoolStateMachine`` decides under the lock; resuming callers, closing connections and arming
/// the pool's one timeout timer happen after it.
final class PostgresConnectionPool: Sendable {
    typealias Lease = PoolGrant<PostgresConnection>
    typealias Waiter = CheckedContinuation<Lease, any Error>

    /// Counts for metrics and `/health`.
    struct Snapshot: Sendable {
        var open: Int
        var inUse: Int
        var waiting: Int
    }

    private let state: NIOLockedValueBox<PoolStateMachine<PostgresConnection, Waiter>>
    private let nextID = NIOLockedValueBox(0)
    private let timerLoop: any EventLoop

    init(size: Int, timerLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.any()) {
        state = NIOLockedValueBox(PoolStateMachine(size: size))
        self.timerLoop = timerLoop
    }

    var snapshot: Snapshot {
        let counts = state.withLockedValue { $0.counts }
        return Snapshot(open: counts.open, inUse: counts.inUse, waiting: counts.waiting)
    }

    /// Waits up to `timeout` for a connection or a permit.
    func lease(timeout: Duration) async throws -> Lease {
        let id = nextID.withLockedValue { value in
            defer { value += 1 }
            return value
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (waiter: Waiter) in
                guard !Task.isCancelled else {
                    waiter.resume(throwing: PostgresError(.poolTimeout, "the waiting task was cancelled"))
                    return
                }
                let deadline = NIODeadline.now() + TimeAmount(timeout)
                switch state.withLockedValue({ $0.leaseRequested(id: id, waiter: waiter, deadline: deadline) }) {
                case .grant(let grant): waiter.resume(returning: grant)
                case .wait(let armTimer): if let armTimer { arm(armTimer, timeout: timeout) }
                case .fail(let error): waiter.resume(throwing: error)
                }
            }
        } onCancel: {
            state.withLockedValue { $0.cancelled(id: id) }?.resume(throwing: PostgresError(.poolTimeout, "the waiting task was cancelled"))
        }
    }

    /// Returns a connection; a broken one is dropped and its place offered to the next waiter.
    func release(_ connection: PostgresConnection, healthy: Bool) {
        perform(state.withLockedValue { $0.released(connection, healthy: healthy) })
    }

    /// Records that opening a connection under a permit failed.
    func openFailed() {
        perform(state.withLockedValue { $0.openFailed() })
    }

    /// Closes idle connections and fails every waiter; later leases fail with `poolClosed`.
    func close() {
        let (connections, waiters) = state.withLockedValue { $0.close() }
        connections.forEach { $0.close() }
        waiters.forEach { $0.resume(throwing: PostgresError(.poolClosed, "the PostgreSQL client was shut down")) }
    }

    private func perform(_ handover: PoolStateMachine<PostgresConnection, Waiter>.Handover) {
        handover.close.forEach { $0.close() }
        if let (waiter, grant) = handover.waiter { waiter.resume(returning: grant) }
    }

    /// The one timer: fires at the earliest waiter's deadline and re-arms for the next.
    private func arm(_ deadline: NIODeadline, timeout: Duration) {
        timerLoop.scheduleTask(deadline: deadline) { [self] in
            let (expired, next) = state.withLockedValue { $0.timerFired(now: NIODeadline.now()) }
            let error = PostgresError(.poolTimeout, "no connection became free within \(timeout)")
            expired.forEach { $0.resume(throwing: error) }
            if let next { arm(next, timeout: timeout) }
        }
    }
}
