import NIOCore

/// The decisions of one Redis connection's channel, without I/O: which reply answers which
/// command, when a command is overdue, and what a closed connection does with the commands it
/// still holds. ``RedisChannelHandler`` feeds it events and performs the actions it returns.
///
/// Replies come back in the order commands were written (pipelining), so the commands in
/// flight are a queue and only its head can be answered or overdue first. Generic over the
/// promise so the transitions are tested without a channel.
struct RedisChannelStateMachine<Promise> {
    struct InFlight {
        let promise: Promise
        let deadline: NIODeadline
        let name: String
    }

    enum State {
        /// Commands written and not yet answered, oldest first.
        case active(CircularBuffer<InFlight>)
        /// Closed (the peer went away, a protocol error, a command timed out): every command
        /// from now on fails at once with `error`.
        case closed(any Error)
        /// Only inside a transition: the queue is taken out of the state while it changes, so
        /// it is modified in place, not copied (copy-on-write) once per command.
        case modifying
    }

    /// What to do with a command about to be written.
    enum WriteAction {
        case write
        /// The connection is closed: fail the command now, write nothing.
        case fail(Promise, any Error)
    }

    /// What to do with one reply that is not a pub/sub message.
    enum ReplyAction {
        case succeed(Promise)
        /// A reply with no command waiting (the stream is out of step): close, and fail these.
        case closeAndFail([Promise], any Error)
        /// The connection is closed already; the reply is dropped.
        case drop
    }

    /// What the periodic deadline check found.
    enum DeadlineAction {
        case none
        /// The head is overdue: close the connection first (so no caller picks it again), then
        /// fail the overdue commands with a timeout and the rest as closed.
        case closeAndFail(overdue: [(Promise, name: String)], rest: [Promise], restError: any Error)
    }

    private(set) var state: State = .active(CircularBuffer(initialCapacity: 64))

    /// `command` is about to be written.
    mutating func writing(_ promise: Promise, name: String, deadline: NIODeadline) -> WriteAction {
        switch state {
        case .active(var inFlight):
            state = .modifying
            inFlight.append(InFlight(promise: promise, deadline: deadline, name: name))
            state = .active(inFlight)
            return .write
        case .closed(let error):
            return .fail(promise, error)
        case .modifying:
            preconditionFailure("RedisChannelStateMachine: a transition began inside another")
        }
    }

    /// A reply arrived for the oldest command.
    mutating func replyReceived() -> ReplyAction {
        switch state {
        case .active(var inFlight):
            state = .modifying
            guard let head = inFlight.popFirst() else {
                let error = RedisError(.protocolError, "a reply arrived with no command waiting for it")
                state = .closed(error)
                return .closeAndFail([], error)
            }
            state = .active(inFlight)
            return .succeed(head.promise)
        case .closed:
            return .drop
        case .modifying:
            preconditionFailure("RedisChannelStateMachine: a transition began inside another")
        }
    }

    /// The deadline check ran at `now`.
    mutating func deadlinesChecked(now: NIODeadline) -> DeadlineAction {
        guard case .active(let inFlight) = state, let head = inFlight.first, head.deadline <= now else { return .none }
        let error = RedisError(.connectionClosed, "the connection to Redis was closed: a command before this one got no reply in time")
        state = .closed(error)
        let overdue = inFlight.prefix { $0.deadline <= now }
        return .closeAndFail(overdue: overdue.map { ($0.promise, $0.name) }, rest: inFlight.dropFirst(overdue.count).map(\.promise),
                             restError: error)
    }

    /// The connection closed or failed (`error` says how): the commands still in flight, to fail.
    mutating func closed(_ error: any Error) -> [Promise] {
        guard case .active(let inFlight) = state else { return [] }
        state = .closed(error)
        return Array(inFlight.map(\.promise))
    }

    /// Commands written and not yet answered.
    var inFlightCount: Int {
        if case .active(let inFlight) = state { return inFlight.count }
        return 0
    }
}
