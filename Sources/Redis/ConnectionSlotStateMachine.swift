import NIOCore

/// What a connection must tell the slot's state machine about itself.
protocol SlotConnection: AnyObject {
    /// `false` once the connection has closed (the peer went away, say).
    var isActive: Bool { get }
}

/// The decisions of one pool slot, without I/O: which connection a caller gets, when to
/// connect, when to back off and when to reconnect.
///
/// Every method runs under the slot's lock and returns an action; the slot performs the action
/// *after* releasing the lock (connects, completes promises, arms timers, closes connections).
/// A connect that fails at once completes on the calling thread, so acting under the lock would
/// take the lock twice — this split is what rules that out.
struct ConnectionSlotStateMachine<Connection: SlotConnection, Waiter> {
    enum State {
        case idle
        case connecting(attempt: Int, waiters: [Waiter])
        case connected(Connection)
        case backingOff(until: NIODeadline, lastError: any Error)
        case closed
    }

    /// The answer to a caller that wants a connection.
    enum RequestAction {
        /// The live connection: use it.
        case use(Connection)
        /// A connect is under way; the waiter is answered when it ends.
        case wait
        /// Start connecting (attempt number given); the waiter is answered when it ends.
        case startConnecting(attempt: Int)
        /// Fail the caller at once (backing off, or closed).
        case fail(any Error)
    }

    /// What to do when a connect attempt ends.
    enum ConnectedAction {
        /// Hand the connection to the waiters and watch it for closing.
        case succeed(Connection, waiters: [Waiter])
        /// Fail the waiters and try again after `delay`.
        case failAndRetry(any Error, waiters: [Waiter], delay: TimeAmount)
        /// The result belongs to an attempt nobody waits for any more (the slot closed): close it.
        case discard(Connection?)
    }

    /// What to do when the reconnect timer fires or the live connection closes.
    enum TimerAction {
        case startConnecting(attempt: Int)
        case reconnectAfter(TimeAmount)
        case none
    }

    private(set) var state: State = .idle
    private(set) var failures = 0
    private var attempts = 0
    private let backoff: @Sendable (_ failures: Int) -> TimeAmount

    /// - Parameter backoff: the delay before the next connect after `failures` failures in a row.
    init(backoff: @escaping @Sendable (_ failures: Int) -> TimeAmount) {
        self.backoff = backoff
    }

    /// The live connection, if there is one right now (never starts anything).
    var readyConnection: Connection? {
        if case .connected(let connection) = state, connection.isActive { return connection }
        return nil
    }

    /// A caller wants a connection.
    mutating func connectionRequested(by waiter: Waiter, now: NIODeadline) -> RequestAction {
        switch state {
        case .connected(let connection) where connection.isActive:
            return .use(connection)
        case .connecting(let attempt, var waiters):
            waiters.append(waiter)
            state = .connecting(attempt: attempt, waiters: waiters)
            return .wait
        case .backingOff(let until, let lastError) where now < until:
            return .fail(lastError)
        case .closed:
            return .fail(RedisError(.clientClosed, "the Redis client was shut down"))
        case .idle, .connected, .backingOff:
            return .startConnecting(attempt: beginAttempt(waiters: [waiter]))
        }
    }

    /// Connect attempt `attempt` produced a connection.
    mutating func connectSucceeded(_ connection: Connection, attempt: Int) -> ConnectedAction {
        guard case .connecting(let current, let waiters) = state, current == attempt else { return .discard(connection) }
        state = .connected(connection)
        failures = 0
        return .succeed(connection, waiters: waiters)
    }

    /// Connect attempt `attempt` failed.
    mutating func connectFailed(_ error: any Error, attempt: Int, now: NIODeadline) -> ConnectedAction {
        guard case .connecting(let current, let waiters) = state, current == attempt else { return .discard(nil) }
        failures += 1
        let delay = backoff(failures)
        state = .backingOff(until: now + delay, lastError: error)
        return .failAndRetry(error, waiters: waiters, delay: delay)
    }

    /// The live connection closed: reconnect at once (callers meanwhile start their own connect).
    mutating func connectionClosed(_ connection: Connection) -> TimerAction {
        guard case .connected(let current) = state, current === connection else { return .none }
        state = .idle
        return .reconnectAfter(.zero)
    }

    /// The reconnect timer fired.
    mutating func reconnectTimerFired() -> TimerAction {
        switch state {
        case .idle, .backingOff: return .startConnecting(attempt: beginAttempt(waiters: []))
        case .connecting, .connected, .closed: return .none
        }
    }

    /// The slot is shut down: what to close and whom to fail.
    mutating func close() -> (connection: Connection?, waiters: [Waiter]) {
        defer { state = .closed }
        switch state {
        case .connected(let connection): return (connection, [])
        case .connecting(_, let waiters): return (nil, waiters)
        case .idle, .backingOff, .closed: return (nil, [])
        }
    }

    private mutating func beginAttempt(waiters: [Waiter]) -> Int {
        attempts += 1
        state = .connecting(attempt: attempts, waiters: waiters)
        return attempts
    }
}

extension ConnectionSlotStateMachine: Sendable where Connection: Sendable, Waiter: Sendable {}
extension ConnectionSlotStateMachine.State: Sendable where Connection: Sendable, Waiter: Sendable {}
