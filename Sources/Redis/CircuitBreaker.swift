import NIOCore

/// Whether a Redis node is worth asking: after `threshold` commands in a row got no reply within
/// the command timeout, the node is taken to be silent (frozen, or behind a path that drops
/// packets without a reset) and callers fail at once — the cache answers them from the origin
/// (`BYPASS`) instead of each waiting out the timeout. A probe in the background asks the node
/// again; its first answer closes the breaker.
///
/// Pure: the pool calls it under its lock and acts on what it returns (tested without sockets).
struct CircuitBreaker {
    enum State: Equatable {
        /// Commands go through; `timeouts` in a row so far.
        case closed(timeouts: Int)
        /// Commands fail at once; a probe runs.
        case open(since: NIODeadline)
    }

    /// What the pool does after a command's outcome.
    enum Action: Equatable {
        case none
        /// The breaker just opened: start the background probe.
        case startProbing
        /// The breaker just closed (the node answers again).
        case closed
    }

    private(set) var state = State.closed(timeouts: 0)
    let threshold: Int

    init(threshold: Int = 3) {
        self.threshold = max(1, threshold)
    }

    /// Whether a command may be sent now.
    var admits: Bool {
        if case .closed = state { return true }
        return false
    }

    /// A command got a reply (any reply: an error reply is an answering node).
    mutating func answered() -> Action {
        switch state {
        case .closed:
            state = .closed(timeouts: 0)
            return .none
        case .open:
            state = .closed(timeouts: 0)
            return .closed
        }
    }

    /// A command got no reply within the command timeout.
    mutating func timedOut(now: NIODeadline) -> Action {
        switch state {
        case .closed(let timeouts) where timeouts + 1 >= threshold:
            state = .open(since: now)
            return .startProbing
        case .closed(let timeouts):
            state = .closed(timeouts: timeouts + 1)
            return .none
        case .open:
            return .none
        }
    }
}
