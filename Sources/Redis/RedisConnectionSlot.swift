import NIOConcurrencyHelpers
import NIOCore

/// One place in the pool: holds a live connection, or knows it is connecting or backing off.
///
/// When the connection drops, the slot reconnects in the background with exponential backoff
/// and jitter, so callers find it ready again soon after Redis returns. While it is backing off
/// callers fail fast with `connectionFailed` instead of queueing behind a dead server.
final class RedisConnectionSlot: Sendable {
    private enum State {
        case idle
        case connecting(EventLoopFuture<RedisConnection>)
        case connected(RedisConnection)
        case backingOff(until: NIODeadline, lastError: any Error)
        case closed
    }

    private let configuration: RedisConfiguration
    private let tlsContext: RedisTLSContext?
    private let eventLoop: any EventLoop
    private let state = NIOLockedValueBox<(state: State, failures: Int)>((.idle, 0))

    init(configuration: RedisConfiguration, tlsContext: RedisTLSContext?, eventLoop: any EventLoop) {
        self.configuration = configuration
        self.tlsContext = tlsContext
        self.eventLoop = eventLoop
    }

    /// The live connection, if there is one right now.
    var readyConnection: RedisConnection? {
        state.withLockedValue { value in
            if case .connected(let connection) = value.state, connection.isActive { return connection }
            return nil
        }
    }

    /// The live connection, or the result of connecting now (unless backing off).
    func connection() -> EventLoopFuture<RedisConnection> {
        state.withLockedValue { value -> EventLoopFuture<RedisConnection> in
            switch value.state {
            case .connected(let connection) where connection.isActive:
                return eventLoop.makeSucceededFuture(connection)
            case .connecting(let future):
                return future
            case .backingOff(let until, let lastError) where NIODeadline.now() < until:
                return eventLoop.makeFailedFuture(lastError)
            case .closed:
                return eventLoop.makeFailedFuture(RedisError(.clientClosed, "the Redis client was shut down"))
            default:
                return startConnecting(&value.state)
            }
        }
    }

    /// Closes the connection and stops reconnecting.
    func close() {
        let previous = state.withLockedValue { value -> State in
            defer { value.state = .closed }
            return value.state
        }
        switch previous {
        case .connected(let connection): connection.close()
        case .connecting(let future): future.whenSuccess { $0.close() }
        default: break
        }
    }

    private func startConnecting(_ current: inout State) -> EventLoopFuture<RedisConnection> {
        let future = RedisConnection.connect(configuration, tlsContext: tlsContext, on: eventLoop)
        current = .connecting(future)
        future.whenComplete { result in self.connectFinished(result) }
        return future
    }

    private func connectFinished(_ result: Result<RedisConnection, any Error>) {
        state.withLockedValue { value in
            guard case .connecting = value.state else {
                if case .success(let connection) = result { connection.close() }
                return
            }
            switch result {
            case .success(let connection):
                value = (.connected(connection), 0)
                connection.channel.closeFuture.whenComplete { _ in self.connectionClosed(connection) }
            case .failure(let error):
                value.failures += 1
                let delay = backoff(afterFailures: value.failures)
                value.state = .backingOff(until: .now() + delay, lastError: error)
                scheduleReconnect(in: delay)
            }
        }
    }

    private func connectionClosed(_ connection: RedisConnection) {
        let reconnect = state.withLockedValue { value -> Bool in
            guard case .connected(let current) = value.state, current === connection else { return false }
            value.state = .idle
            return true
        }
        if reconnect { scheduleReconnect(in: .zero) }
    }

    private func scheduleReconnect(in delay: TimeAmount) {
        eventLoop.scheduleTask(in: delay) {
            self.state.withLockedValue { value in
                switch value.state {
                case .idle, .backingOff: _ = self.startConnecting(&value.state)
                default: break
                }
            }
        }
    }

    private func backoff(afterFailures failures: Int) -> TimeAmount {
        let initial = TimeAmount(configuration.reconnectBackoff.initial).nanoseconds
        let maximum = TimeAmount(configuration.reconnectBackoff.maximum).nanoseconds
        let exponential = min(maximum, initial << min(failures - 1, 20))
        // Half fixed, half random: spreads reconnects of many slots and many servers.
        return .nanoseconds(exponential / 2 + Int64.random(in: 0...max(1, exponential / 2)))
    }
}
