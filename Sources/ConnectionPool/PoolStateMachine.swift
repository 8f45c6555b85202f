import NIOCore

/// What a pool's caller receives: a connection to use, or the right to open one.
package enum PoolGrant<Connection: AnyObject> {
    case connection(Connection)
    case permit
}

/// The decisions of the connection pool, without I/O: who gets an idle connection, who may open
/// a new one, who waits, who times out — in postgres-nio's `PoolStateMachine` manner.
///
/// Every method runs under the pool's lock and returns what to do; the pool does it after
/// releasing the lock (resumes waiters, closes connections, arms its one timer). The same machine
/// serves every database client (PostgreSQL, MySQL): it knows nothing of connections but their
/// identity.
package struct PoolStateMachine<Connection: AnyObject, Waiter> {
    package typealias Grant = PoolGrant<Connection>

    /// The answer to a lease request.
    package enum LeaseAction {
        case grant(Grant)
        /// Wait; when `armTimer` is set, the pool's timer must fire at that deadline.
        case wait(armTimer: NIODeadline?)
        /// The pool was shut down.
        case failClosed
    }

    /// What a returned connection or a failed open leads to.
    package struct Handover {
        /// A waiter and what it now gets.
        package var waiter: (Waiter, Grant)?
        /// Connections to close (a broken one, and the idle ones it makes suspect).
        package var close: [Connection] = []
    }

    private let size: Int
    private var idle: [Connection] = []
    private var open = 0
    private var inUse = 0
    private var waiters: [(id: Int, deadline: NIODeadline, waiter: Waiter)] = []
    private var armed: NIODeadline?
    private var closed = false

    package init(size: Int) {
        self.size = max(1, size)
    }

    /// Open, in-use and waiting counts.
    package var counts: (open: Int, inUse: Int, waiting: Int) { (open, inUse, waiters.count) }

    package mutating func leaseRequested(id: Int, waiter: Waiter, deadline: NIODeadline) -> LeaseAction {
        guard !closed else { return .failClosed }
        if let connection = idle.popLast() {
            inUse += 1
            return .grant(.connection(connection))
        }
        if open < size {
            open += 1
            inUse += 1
            return .grant(.permit)
        }
        waiters.append((id, deadline, waiter))
        guard armed.map({ deadline < $0 }) ?? true else { return .wait(armTimer: nil) }
        armed = deadline
        return .wait(armTimer: deadline)
    }

    /// A connection comes back; a broken one is dropped with the idle ones (after a server
    /// restart they are stale too, and finding out one failed query at a time fails callers
    /// needlessly), and its place is offered to the next waiter.
    package mutating func released(_ connection: Connection, healthy: Bool) -> Handover {
        inUse -= 1
        if healthy && !closed {
            if let next = popWaiter() {
                inUse += 1
                return Handover(waiter: (next, .connection(connection)))
            }
            idle.append(connection)
            return Handover()
        }
        var handover = Handover(close: [connection] + idle)
        open -= 1 + idle.count
        idle.removeAll()
        handover.waiter = offerPermit()
        return handover
    }

    /// Opening a connection under a permit failed: the place is free for the next waiter.
    package mutating func openFailed() -> Handover {
        open -= 1
        inUse -= 1
        return Handover(waiter: offerPermit())
    }

    /// The pool's timer fired at `now`: the waiters whose deadline passed, and when to fire next.
    package mutating func timerFired(now: NIODeadline) -> (expired: [Waiter], armTimer: NIODeadline?) {
        let expired = waiters.filter { $0.deadline <= now }.map(\.waiter)
        waiters.removeAll { $0.deadline <= now }
        armed = waiters.map(\.deadline).min()
        return (expired, armed)
    }

    /// A waiting caller was cancelled: its waiter, if it was still waiting.
    package mutating func cancelled(id: Int) -> Waiter? {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return nil }
        return waiters.remove(at: index).waiter
    }

    /// Shut down: idle connections to close and waiters to fail; later leases fail.
    package mutating func close() -> (connections: [Connection], waiters: [Waiter]) {
        closed = true
        defer {
            open -= idle.count
            idle.removeAll()
            waiters.removeAll()
            armed = nil
        }
        return (idle, waiters.map(\.waiter))
    }

    private mutating func offerPermit() -> (Waiter, Grant)? {
        guard !closed, open < size, let next = popWaiter() else { return nil }
        open += 1
        inUse += 1
        return (next, .permit)
    }

    private mutating func popWaiter() -> Waiter? {
        waiters.isEmpty ? nil : waiters.removeFirst().waiter
    }
}

extension PoolGrant: Sendable where Connection: Sendable {}
extension PoolStateMachine: Sendable where Connection: Sendable, Waiter: Sendable {}
