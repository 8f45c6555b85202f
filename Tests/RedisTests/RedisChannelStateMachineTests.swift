import NIOCore
@testable import Redis
import Testing

/// Every transition of one Redis connection's channel, without a socket: the handler only
/// performs what these return. Promises are plain strings here.
@Suite("RedisChannelStateMachine: replies in order, deadlines, a closed connection")
struct RedisChannelStateMachineTests {
    typealias Machine = RedisChannelStateMachine<String>
    private let now = NIODeadline.uptimeNanoseconds(10_000_000_000)

    private func write(_ machine: inout Machine, _ promise: String, deadline: NIODeadline) {
        guard case .write = machine.writing(promise, name: "GET", deadline: deadline) else {
            Issue.record("\(promise) was not written on an open connection")
            return
        }
    }

    @Test("replies complete commands in the order they were written (pipelining)")
    func repliesInOrder() {
        var machine = Machine()
        for name in ["a", "b", "c"] { write(&machine, name, deadline: now + .seconds(1)) }
        var answered: [String] = []
        for _ in 0..<3 {
            guard case .succeed(let promise) = machine.replyReceived() else { Issue.record("a reply found no command"); return }
            answered.append(promise)
        }
        #expect(answered == ["a", "b", "c"] && machine.inFlightCount == 0)
    }

    @Test("a reply with no command waiting closes the connection; later writes fail at once, later replies are dropped")
    func unsolicitedReply() {
        var machine = Machine()
        guard case .closeAndFail(let promises, let error) = machine.replyReceived() else { Issue.record("an unsolicited reply was accepted"); return }
        #expect(promises.isEmpty && (error as? RedisError)?.code == .protocolError)
        guard case .fail(let promise, _) = machine.writing("late", name: "GET", deadline: now) else {
            Issue.record("a write on a closed connection was sent")
            return
        }
        #expect(promise == "late")
        guard case .drop = machine.replyReceived() else { Issue.record("a reply on a closed connection completed something"); return }
    }

    @Test("an overdue head closes the connection: the overdue commands time out, the rest fail as closed, nothing stays queued")
    func overdueHead() {
        var machine = Machine()
        write(&machine, "a", deadline: now - .milliseconds(5))
        write(&machine, "b", deadline: now)
        write(&machine, "c", deadline: now + .seconds(5))
        guard case .none = machine.deadlinesChecked(now: now - .seconds(1)) else { Issue.record("nothing was overdue yet"); return }
        guard case .closeAndFail(let overdue, let rest, let restError) = machine.deadlinesChecked(now: now) else {
            Issue.record("the overdue head was not acted on")
            return
        }
        #expect(overdue.map(\.0) == ["a", "b"] && overdue.map(\.name) == ["GET", "GET"] && rest == ["c"])
        #expect((restError as? RedisError)?.code == .connectionClosed)
        #expect(machine.inFlightCount == 0, "timed-out commands leave the queue")
        #expect(machine.closed(restError).isEmpty, "closing again fails nothing twice")
        guard case .drop = machine.replyReceived() else { Issue.record("the late reply of a timed-out command completed something"); return }
    }

    @Test("the connection closing fails what is in flight once; a deadline check after it does nothing")
    func closing() {
        var machine = Machine()
        write(&machine, "a", deadline: now)
        write(&machine, "b", deadline: now)
        #expect(machine.closed(RedisError(.connectionClosed, "gone")) == ["a", "b"])
        #expect(machine.closed(RedisError(.connectionClosed, "gone")).isEmpty)
        guard case .none = machine.deadlinesChecked(now: now + .seconds(1)) else { Issue.record("a closed connection timed out"); return }
        guard case .fail = machine.writing("c", name: "SET", deadline: now) else { Issue.record("a write after close was sent"); return }
    }
}
