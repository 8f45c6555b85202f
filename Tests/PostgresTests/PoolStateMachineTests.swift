import ConnectionPool
import NIOCore
import Testing

/// Every transition of the database clients' pool, without sockets: the pool only performs what these return.
@Suite("PoolStateMachine: decisions without I/O")
struct PoolStateMachineTests {
    final class FakeConnection {}
    typealias Machine = PoolStateMachine<FakeConnection, String>

    private let now = NIODeadline.uptimeNanoseconds(1_000_000_000)

    private func isPermit(_ action: Machine.LeaseAction) -> Bool {
        if case .grant(.permit) = action { return true }
        return false
    }

    @Test("permits up to the size, then callers wait; the first waiter arms the timer, a later one does not")
    func permitsThenWait() {
        var machine = Machine(size: 2)
        #expect(isPermit(machine.leaseRequested(id: 1, waiter: "a", deadline: now + .seconds(5))))
        #expect(isPermit(machine.leaseRequested(id: 2, waiter: "b", deadline: now + .seconds(5))))
        guard case .wait(let armed) = machine.leaseRequested(id: 3, waiter: "c", deadline: now + .seconds(5)) else {
            Issue.record("a third caller did not wait")
            return
        }
        #expect(armed == now + .seconds(5))
        guard case .wait(let again) = machine.leaseRequested(id: 4, waiter: "d", deadline: now + .seconds(6)) else { Issue.record("the state machine answered with another action"); return }
        #expect(again == nil, "a later deadline needs no second timer")
        guard case .wait(let earlier) = machine.leaseRequested(id: 5, waiter: "e", deadline: now + .seconds(1)) else { Issue.record("the state machine answered with another action"); return }
        #expect(earlier == now + .seconds(1), "an earlier deadline re-arms")
        #expect(machine.counts == (2, 2, 3))
    }

    @Test("a healthy release goes to the first waiter; without waiters the connection idles and is handed out next")
    func releaseHandsOver() {
        var machine = Machine(size: 1)
        _ = machine.leaseRequested(id: 1, waiter: "a", deadline: now + .seconds(5))
        _ = machine.leaseRequested(id: 2, waiter: "b", deadline: now + .seconds(5))
        let connection = FakeConnection()
        let handover = machine.released(connection, healthy: true)
        guard let (waiter, grant) = handover.waiter, case .connection(let given) = grant else {
            Issue.record("the waiter did not get the connection")
            return
        }
        #expect(waiter == "b" && given === connection && handover.close.isEmpty)
        #expect(machine.released(connection, healthy: true).waiter == nil)
        guard case .grant(.connection(let idle)) = machine.leaseRequested(id: 3, waiter: "c", deadline: now + .seconds(5)) else {
            Issue.record("the idle connection was not reused")
            return
        }
        #expect(idle === connection)
    }

    @Test("a broken connection closes the idle ones too and offers its place to a waiter as a permit")
    func brokenConnection() {
        var machine = Machine(size: 2)
        _ = machine.leaseRequested(id: 1, waiter: "a", deadline: now + .seconds(5))
        _ = machine.leaseRequested(id: 2, waiter: "b", deadline: now + .seconds(5))
        let (first, second) = (FakeConnection(), FakeConnection())
        _ = machine.released(first, healthy: true)
        _ = machine.leaseRequested(id: 3, waiter: "c", deadline: now + .seconds(5))  // takes `first` again
        _ = machine.leaseRequested(id: 4, waiter: "d", deadline: now + .seconds(5))  // waits
        let handover = machine.released(second, healthy: false)
        #expect(handover.close.count == 1 && handover.close[0] === second)
        guard let (waiter, grant) = handover.waiter, case .permit = grant else {
            Issue.record("the freed place was not offered")
            return
        }
        #expect(waiter == "d")
        #expect(machine.counts == (2, 2, 0))
    }

    @Test("a failed open frees its place for the next waiter")
    func openFailed() {
        var machine = Machine(size: 1)
        _ = machine.leaseRequested(id: 1, waiter: "a", deadline: now + .seconds(5))
        _ = machine.leaseRequested(id: 2, waiter: "b", deadline: now + .seconds(5))
        guard let (waiter, grant) = machine.openFailed().waiter, case .permit = grant else {
            Issue.record("no permit after a failed open")
            return
        }
        #expect(waiter == "b")
    }

    @Test("the timer expires exactly the waiters past their deadline and re-arms for the next")
    func timer() {
        var machine = Machine(size: 1)
        _ = machine.leaseRequested(id: 1, waiter: "a", deadline: now)
        _ = machine.leaseRequested(id: 2, waiter: "early", deadline: now + .seconds(1))
        _ = machine.leaseRequested(id: 3, waiter: "late", deadline: now + .seconds(3))
        let first = machine.timerFired(now: now + .seconds(2))
        #expect(first.expired == ["early"])
        #expect(first.armTimer == now + .seconds(3))
        let second = machine.timerFired(now: now + .seconds(3))
        #expect(second.expired == ["late"] && second.armTimer == nil)
    }

    @Test("a cancelled waiter leaves the queue; close fails the rest, closes idle connections, and refuses new leases")
    func cancelAndClose() {
        var machine = Machine(size: 1)
        _ = machine.leaseRequested(id: 1, waiter: "a", deadline: now + .seconds(5))
        _ = machine.leaseRequested(id: 2, waiter: "b", deadline: now + .seconds(5))
        _ = machine.leaseRequested(id: 3, waiter: "c", deadline: now + .seconds(5))
        #expect(machine.cancelled(id: 2) == "b")
        #expect(machine.cancelled(id: 2) == nil)
        let idle = FakeConnection()
        _ = machine.released(idle, healthy: true)  // goes to "c"
        _ = machine.released(idle, healthy: true)  // idles
        let (connections, waiters) = machine.close()
        #expect(connections.count == 1 && connections[0] === idle)
        #expect(waiters.isEmpty)
        guard case .failClosed = machine.leaseRequested(id: 4, waiter: "d", deadline: now + .seconds(5)) else {
            Issue.record("a closed pool handed something out")
            return
        }
    }
}
