import NIOConcurrencyHelpers
import NIOCore

extension RedisConnection: SlotConnection {}

/// One place in the pool: holds a live connection, or knows it is connecting or backing off.
///
/// When the connection drops, the slot reconnects in the background with exponential backoff
/// and jitter, so callers find it ready again soon after Redis returns. While it is backing off
/// callers fail fast with `connectionFailed` instead of queueing behind a dead server.
///
/// The decisions are ``ConnectionSlotStateMachine``'s, taken under the lock; connecting,
/// completing promises and arming timers happen after the lock is released.
final class RedisConnectionSlot: Sendable {
    private typealias StateMachine = ConnectionSlotStateMachine<RedisConnection, EventLoopPromise<RedisConnection>>

    private let configuration: RedisConfiguration
    private let tlsContext: RedisTLSContext?
    /// The loop its connections run on.
    let eventLoop: any EventLoop
    private let stateMachine: NIOLockedValueBox<StateMachine>

    init(configuration: RedisConfiguration, tlsContext: RedisTLSContext?, eventLoop: any EventLoop) {
        self.configuration = configuration
        self.tlsContext = tlsContext
        self.eventLoop = eventLoop
        let backoff = configuration.reconnectBackoff
        stateMachine = NIOLockedValueBox(StateMachine { failures in Self.backoff(afterFailures: failures, backoff) })
    }

    /// The live connection, if there is one right now.
    var readyConnection: RedisConnection? {
        stateMachine.withLockedValue { $0.readyConnection }
    }

    /// The live connection, or the result of connecting now (unless backing off).
    func connection() -> EventLoopFuture<RedisConnection> {
        let promise = eventLoop.makePromise(of: RedisConnection.self)
        let action = stateMachine.withLockedValue { $0.connectionRequested(by: promise, now: .now()) }
        switch action {
        case .use(let connection): promise.succeed(connection)
        case .wait: break
        case .startConnecting(let attempt): startConnecting(attempt: attempt)
        case .fail(let error): promise.fail(error)
        }
        return promise.futureResult
    }

    /// Closes the connection and stops reconnecting.
    func close() {
        let (connection, waiters) = stateMachine.withLockedValue { $0.close() }
        connection?.close()
        let error = RedisError(.clientClosed, "the Redis client was shut down")
        waiters.forEach { $0.fail(error) }
    }

    private func startConnecting(attempt: Int) {
        RedisConnection.connect(configuration, tlsContext: tlsContext, on: eventLoop).whenComplete { result in
            self.connectFinished(result, attempt: attempt)
        }
    }

    private func connectFinished(_ result: Result<RedisConnection, any Error>, attempt: Int) {
        let action = stateMachine.withLockedValue { machine in
            switch result {
            case .success(let connection): machine.connectSucceeded(connection, attempt: attempt)
            case .failure(let error): machine.connectFailed(error, attempt: attempt, now: .now())
            }
        }
        switch action {
        case .succeed(let connection, let waiters):
            connection.channel.closeFuture.whenComplete { _ in self.connectionClosed(connection) }
            waiters.forEach { $0.succeed(connection) }
        case .failAndRetry(let error, let waiters, let delay):
            waiters.forEach { $0.fail(error) }
            scheduleReconnect(in: delay)
        case .discard(let connection):
            connection?.close()
        }
    }

    private func connectionClosed(_ connection: RedisConnection) {
        perform(stateMachine.withLockedValue { $0.connectionClosed(connection) })
    }

    private func scheduleReconnect(in delay: TimeAmount) {
        eventLoop.scheduleTask(in: delay) {
            self.perform(self.stateMachine.withLockedValue { $0.reconnectTimerFired() })
        }
    }

    private func perform(_ action: StateMachine.TimerAction) {
        switch action {
        case .startConnecting(let attempt): startConnecting(attempt: attempt)
        case .reconnectAfter(let delay): scheduleReconnect(in: delay)
        case .none: break
        }
    }

    private static func backoff(afterFailures failures: Int, _ backoff: (initial: Duration, maximum: Duration)) -> TimeAmount {
        let initial = TimeAmount(backoff.initial).nanoseconds
        let maximum = TimeAmount(backoff.maximum).nanoseconds
        let exponential = min(maximum, initial << min(failures - 1, 20))
        // Half fixed, half random: spreads reconnects of many slots and many servers.
        return .nanoseconds(exponential / 2 + Int64.random(in: 0...max(1, exponential / 2)))
    }
}
