import NIOCore
@testable import Redis
import Testing

/// Every transition of a pool slot, without sockets: the slot only performs what these return.
@Suite("ConnectionSlotStateMachine: decisions without I/O")
struct ConnectionSlotStateMachineTests {
    final class FakeConnection: SlotConnection {
        var isActive = true
    }

    struct Refused: Error {}

    typealias Machine = ConnectionSlotStateMachine<FakeConnection, String>

    private func machine() -> Machine {
        Machine { failures in .milliseconds(Int64(100 * failures)) }
    }

    private let now = NIODeadline.uptimeNanoseconds(1_000_000_000)

    @Test("idle → connecting: the first caller starts a connect, later callers wait for the same one")
    func firstCallerConnects() {
        var machine = machine()
        guard case .startConnecting(let attempt) = machine.connectionRequested(by: "a", now: now) else {
            Issue.record("the first request did not start a connect")
            return
        }
        guard case .wait = machine.connectionRequested(by: "b", now: now) else {
            Issue.record("a second request started a second connect")
            return
        }
        let connection = FakeConnection()
        guard case .succeed(let handed, let waiters) = machine.connectSucceeded(connection, attempt: attempt) else {
            Issue.record("success was not handed to the waiters")
            return
        }
        #expect(handed === connection)
        #expect(waiters == ["a", "b"])
        guard case .use(let used) = machine.connectionRequested(by: "c", now: now) else {
            Issue.record("a connected slot did not hand out its connection")
            return
        }
        #expect(used === connection)
        #expect(machine.readyConnection === connection)
    }

    @Test("a failed connect fails the waiters, backs off, fails callers fast until the deadline, then connects again")
    func failureBacksOff() {
        var machine = machine()
        guard case .startConnecting(let attempt) = machine.connectionRequested(by: "a", now: now) else { Issue.record("the state machine answered with another action"); return }
        guard case .failAndRetry(_, let waiters, let delay) = machine.connectFailed(Refused(), attempt: attempt, now: now) else {
            Issue.record("a failed connect was not reported")
            return
        }
        #expect(waiters == ["a"])
        #expect(delay == .milliseconds(100))
        guard case .fail(let error) = machine.connectionRequested(by: "b", now: now + .milliseconds(50)) else {
            Issue.record("a caller during the backoff was not failed fast")
            return
        }
        #expect(error is Refused)
        guard case .startConnecting(let second) = machine.connectionRequested(by: "c", now: now + .milliseconds(150)) else {
            Issue.record("a caller after the backoff did not start a connect")
            return
        }
        #expect(second != attempt)
        guard case .failAndRetry(_, _, let longer) = machine.connectFailed(Refused(), attempt: second, now: now) else { Issue.record("the state machine answered with another action"); return }
        #expect(longer == .milliseconds(200), "the delay grows with failures in a row")
        #expect(machine.failures == 2)
        guard case .startConnecting(let third) = machine.reconnectTimerFired() else {
            Issue.record("the reconnect timer did not start a connect")
            return
        }
        _ = machine.connectSucceeded(FakeConnection(), attempt: third)
        #expect(machine.failures == 0)
    }

    @Test("the reconnect timer does nothing while connecting or connected")
    func timerWhileBusy() {
        var machine = machine()
        guard case .startConnecting(let attempt) = machine.connectionRequested(by: "a", now: now) else { Issue.record("the state machine answered with another action"); return }
        guard case .none = machine.reconnectTimerFired() else {
            Issue.record("the timer started a second connect")
            return
        }
        _ = machine.connectSucceeded(FakeConnection(), attempt: attempt)
        guard case .none = machine.reconnectTimerFired() else {
            Issue.record("the timer reconnected a live slot")
            return
        }
    }

    @Test("a closed connection makes the slot reconnect at once; a stale close changes nothing")
    func connectionClosed() {
        var machine = machine()
        guard case .startConnecting(let attempt) = machine.connectionRequested(by: "a", now: now) else { Issue.record("the state machine answered with another action"); return }
        let first = FakeConnection()
        _ = machine.connectSucceeded(first, attempt: attempt)
        guard case .none = machine.connectionClosed(FakeConnection()) else {
            Issue.record("another connection's close reset the slot")
            return
        }
        first.isActive = false
        #expect(machine.readyConnection == nil)
        guard case .reconnectAfter(let delay) = machine.connectionClosed(first) else {
            Issue.record("the slot did not reconnect after its connection closed")
            return
        }
        #expect(delay == .zero)
        guard case .startConnecting = machine.reconnectTimerFired() else {
            Issue.record("the reconnect did not start")
            return
        }
    }

    @Test("a dead connection found by a caller is replaced: the caller starts a connect")
    func deadConnectionReplaced() {
        var machine = machine()
        guard case .startConnecting(let attempt) = machine.connectionRequested(by: "a", now: now) else { Issue.record("the state machine answered with another action"); return }
        let connection = FakeConnection()
        _ = machine.connectSucceeded(connection, attempt: attempt)
        connection.isActive = false
        guard case .startConnecting = machine.connectionRequested(by: "b", now: now) else {
            Issue.record("a caller was handed a dead connection")
            return
        }
    }

    @Test("close: the waiters are returned to be failed, a connect finishing later is discarded, callers fail")
    func closeWhileConnecting() {
        var machine = machine()
        guard case .startConnecting(let attempt) = machine.connectionRequested(by: "a", now: now) else { Issue.record("the state machine answered with another action"); return }
        let (connection, waiters) = machine.close()
        #expect(connection == nil)
        #expect(waiters == ["a"])
        let late = FakeConnection()
        guard case .discard(let discarded) = machine.connectSucceeded(late, attempt: attempt) else {
            Issue.record("a connect finishing after close was kept")
            return
        }
        #expect(discarded === late)
        guard case .fail(let error as RedisError) = machine.connectionRequested(by: "b", now: now) else {
            Issue.record("a closed slot did not fail its caller")
            return
        }
        #expect(error.code == .clientClosed)
        guard case .none = machine.reconnectTimerFired() else {
            Issue.record("a closed slot reconnected")
            return
        }
    }

    @Test("close of a connected slot returns the connection to close")
    func closeConnected() {
        var machine = machine()
        guard case .startConnecting(let attempt) = machine.connectionRequested(by: "a", now: now) else { Issue.record("the state machine answered with another action"); return }
        let connection = FakeConnection()
        _ = machine.connectSucceeded(connection, attempt: attempt)
        #expect(machine.close().connection === connection)
    }
}
