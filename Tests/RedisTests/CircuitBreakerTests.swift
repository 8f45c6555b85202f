import NIOCore
@testable import Redis
import Testing

/// The breaker's decisions without sockets: the pool only performs what they return.
@Suite("CircuitBreaker: a silent node is skipped at once, not waited on")
struct CircuitBreakerTests {
    @Test("three timeouts in a row open it (once); any answer in between resets the count")
    func opensAfterConsecutiveTimeouts() {
        var breaker = CircuitBreaker(threshold: 3)
        let now = NIODeadline.now()
        #expect(breaker.timedOut(now: now) == .none)
        #expect(breaker.timedOut(now: now) == .none)
        #expect(breaker.answered() == .none)
        #expect(breaker.timedOut(now: now) == .none)
        #expect(breaker.timedOut(now: now) == .none)
        #expect(breaker.admits)
        #expect(breaker.timedOut(now: now) == .startProbing)
        #expect(!breaker.admits)
        // Commands already in flight that time out later start no second probe.
        #expect(breaker.timedOut(now: now) == .none)
        #expect(!breaker.admits)
    }

    @Test("the probe's answer closes it and commands go through again")
    func closesOnAnswer() {
        var breaker = CircuitBreaker(threshold: 1)
        #expect(breaker.timedOut(now: .now()) == .startProbing)
        #expect(breaker.answered() == .closed)
        #expect(breaker.admits)
        #expect(breaker.state == .closed(timeouts: 0))
    }
}
