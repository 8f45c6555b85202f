import Synchronization

/// Collapses concurrent loads of the same key into one: the first caller runs the work, the
/// others wait for its result. This is what keeps a hot key's expiry from sending a thousand
/// identical queries to the database at once.
///
/// Waiting is bounded: a caller that waits longer than `timeout` gets
/// ``CacheAsideError/Reason/singleFlightTimeout`` while the load itself carries on.
package final class SingleFlight<Value: Sendable>: Sendable {
    private struct State {
        var inFlight: [String: Task<Value, any Error>] = [:]
        /// Results of loads that just finished, for callers that looked before the load filled
        /// the cache and arrive after it finished.
        var recent: [String: (finishedAt: ContinuousClock.Instant, value: Value)] = [:]
    }

    private let state = Mutex(State())

    /// What a caller does: run the load, wait for the one in flight, or take a fresh result.
    private enum Plan {
        case lead(Task<Value, any Error>)
        case follow(Task<Value, any Error>)
        case done(Value)
    }
    private let waiting = Atomic<Int>(0)
    /// How long a finished load's result is kept for callers that started before it finished.
    private static var recentWindow: Duration { .seconds(1) }
    private let timeout: Duration

    /// - Parameter timeout: the longest a follower waits for the leader's result.
    package init(timeout: Duration) {
        self.timeout = timeout
    }

    /// Runs `work` for `key` unless a run is already in flight, in which case waits for it.
    /// - Parameter startedAt: when the caller found the key missing. A load of the key that
    ///   finished after that instant already answers this caller: its result is returned and
    ///   no new run starts (the gap between a cache miss and joining must not cost a query).
    /// - Returns: the value and whether this caller shared another caller's run.
    package func run(
        _ key: String,
        startedAt: ContinuousClock.Instant? = nil,
        _ work: @escaping @Sendable () async throws -> Value
    ) async throws -> (value: Value, shared: Bool) {
        let plan = state.withLock { state -> Plan in
            if let existing = state.inFlight[key] { return .follow(existing) }
            if let startedAt, let recent = state.recent[key], recent.finishedAt >= startedAt {
                return .done(recent.value)
            }
            let task = Task { try await work() }
            state.inFlight[key] = task
            return .lead(task)
        }
        let task: Task<Value, any Error>
        switch plan {
        case .done(let value):
            return (value, true)
        case .follow(let existing):
            task = existing
        case .lead(let leading):
            do {
                let value = try await leading.value
                finish(key, value: value)
                return (value, false)
            } catch {
                finish(key, value: nil)
                throw error
            }
        }
        waiting.add(1, ordering: .relaxed)
        defer { waiting.subtract(1, ordering: .relaxed) }
        return (try await waitBounded(task, key: key), true)
    }

    /// Keys being loaded right now.
    package var inFlightCount: Int { state.withLock { $0.inFlight.count } }

    private func finish(_ key: String, value: Value?) {
        let now = ContinuousClock.now
        state.withLock { state in
            state.inFlight.removeValue(forKey: key)
            guard let value else { return }
            if state.recent.count >= 1024 {
                state.recent = state.recent.filter { now - $0.value.finishedAt < Self.recentWindow }
            }
            state.recent[key] = (now, value)
        }
    }

    /// Callers waiting for another caller's load right now.
    package var waitingCount: Int { waiting.load(ordering: .relaxed) }

    /// The leader's result, or ``CacheAsideError/Reason/singleFlightTimeout`` once `timeout` has
    /// passed — whichever comes first. The leader's task cannot be cancelled from here (it is
    /// shared), so the wait is a race between two watchers, not a task group (a group would wait
    /// for the leader anyway before returning).
    private func waitBounded(_ task: Task<Value, any Error>, key: String) async throws -> Value {
        let timeout = self.timeout
        let outcome = FirstOutcome<Value>()
        return try await withCheckedThrowingContinuation { continuation in
            outcome.install(continuation)
            let timer = Task {
                // Cancelled (the value arrived first): no report at all, not a timeout.
                guard (try? await Task.sleep(for: timeout)) != nil else { return }
                outcome.resume(with: .failure(CacheAsideError(.singleFlightTimeout, "the load of \(key) already in progress did not finish within \(timeout)")))
            }
            Task {
                let result = await task.result
                outcome.resume(with: result)
                timer.cancel()
            }
        }
    }
}

/// A continuation resumed by whichever of several watchers reports first; later reports are dropped.
private final class FirstOutcome<Value: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<Value, any Error>?>(nil)

    func install(_ continuation: CheckedContinuation<Value, any Error>) {
        self.continuation.withLock { $0 = continuation }
    }

    func resume(with result: Result<Value, any Error>) {
        let taken = continuation.withLock { slot -> CheckedContinuation<Value, any Error>? in
            defer { slot = nil }
            return slot
        }
        taken?.resume(with: result)
    }
}
