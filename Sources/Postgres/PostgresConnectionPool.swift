/// A bounded set of connections: at most `size` open, callers queue for up to a timeout.
///
/// The pool itself does no I/O. It hands out either an idle connection or a *permit* to open a
/// new one, so connecting (which blocks) happens in the caller's thread-pool job, not here.
actor PostgresConnectionPool {
    /// What a caller receives: a connection to use, or the right to open one.
    enum Lease: Sendable {
        case connection(PostgresConnection)
        case permit
    }

    /// Counts for metrics and `/health`.
    struct Snapshot: Sendable {
        var open: Int
        var inUse: Int
        var waiting: Int
    }

    private let size: Int
    private var idle: [PostgresConnection] = []
    private var open = 0
    private var inUse = 0
    private var waiters: [(id: Int, continuation: CheckedContinuation<Lease, any Error>)] = []
    private var nextWaiterID = 0
    private var closed = false

    init(size: Int) {
        self.size = size
    }

    var snapshot: Snapshot {
        Snapshot(open: open, inUse: inUse, waiting: waiters.count)
    }

    /// Waits up to `timeout` for a connection or a permit.
    func lease(timeout: Duration) async throws -> Lease {
        guard !closed else { throw PostgresError(.poolClosed, "the PostgreSQL client was shut down") }
        if let connection = idle.popLast() {
            inUse += 1
            return .connection(connection)
        }
        if open < size {
            open += 1
            inUse += 1
            return .permit
        }
        let id = nextWaiterID
        nextWaiterID += 1
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                waiters.append((id, continuation))
                Task { [weak self] in
                    try? await Task.sleep(for: timeout)
                    await self?.expire(id, reason: "no connection became free within \(timeout)")
                }
            }
        } onCancel: {
            Task { await self.expire(id, reason: "the waiting task was cancelled") }
        }
    }

    /// Returns a connection; a broken one is dropped and its place offered to the next waiter.
    func release(_ connection: PostgresConnection, healthy: Bool) {
        inUse -= 1
        if healthy {
            if let waiter = popWaiter() {
                inUse += 1
                waiter.resume(returning: .connection(connection))
            } else {
                idle.append(connection)
            }
            return
        }
        connection.close()
        open -= 1
        // One broken connection usually means the server went away: the idle ones are stale
        // too, and finding that out one failed query at a time would fail callers needlessly.
        open -= idle.count
        idle.forEach { $0.close() }
        idle.removeAll()
        offerPermit()
    }

    /// Records that opening a connection under a permit failed.
    func openFailed() {
        open -= 1
        inUse -= 1
        offerPermit()
    }

    /// Closes idle connections and fails every waiter; later leases fail with `poolClosed`.
    func close() {
        closed = true
        idle.forEach { $0.close() }
        open -= idle.count
        idle.removeAll()
        let pending = waiters
        waiters.removeAll()
        for waiter in pending {
            waiter.continuation.resume(throwing: PostgresError(.poolClosed, "the PostgreSQL client was shut down"))
        }
    }

    private func offerPermit() {
        guard !closed, open < size, let waiter = popWaiter() else { return }
        open += 1
        inUse += 1
        waiter.resume(returning: .permit)
    }

    private func popWaiter() -> CheckedContinuation<Lease, any Error>? {
        guard !waiters.isEmpty else { return nil }
        return waiters.removeFirst().continuation
    }

    private func expire(_ id: Int, reason: String) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        let waiter = waiters.remove(at: index)
        waiter.continuation.resume(throwing: PostgresError(.poolTimeout, reason))
    }
}
