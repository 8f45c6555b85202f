import Synchronization

/// Collapses concurrent loads of the same key into one: the first caller runs the work, the
/// others wait for its result. This is what keeps a hot key's expiry from sending a thousand
/// identical queries to the database at once.
///
/// Waiting is bounded: a caller that waits longer than `timeout` gets
/// ``CacheAsideError/Reason/singleFlightTimeout`` while the load itself carries on.
public final class SingleFlight<Value: Sendable>: Sendable {
    private let inFlight = Mutex<[String: Task<Value, any Error>]>([:])
    private let waiting = Atomic<Int>(0)
    private let timeout: Duration

    /// - Parameter timeout: the longest a follower waits for the leader's result.
    public init(timeout: Duration) {
        self.timeout = timeout
    }

    /// Runs `work` for `key` unless a run is already in flight, in which case waits for it.
    /// - Returns: the value and whether this caller shared another caller's run.
    public func run(
        _ key: String,
        _ work: @escaping @Sendable () async throws -> Value
    ) async throws -> (value: Value, shared: Bool) {
        let (task, isLeader) = inFlight.withLock { tasks -> (Task<Value, any Error>, Bool) in
            if let existing = tasks[key] { return (existing, false) }
            let task = Task { try await work() }
            tasks[key] = task
            return (task, true)
        }
        if isLeader {
            defer { _ = inFlight.withLock { $0.removeValue(forKey: key) } }
            return (try await task.value, false)
        }
        waiting.add(1, ordering: .relaxed)
        defer { waiting.subtract(1, ordering: .relaxed) }
        return (try await waitBounded(task, key: key), true)
    }

    /// Keys being loaded right now.
    public var inFlightCount: Int { inFlight.withLock { $0.count } }

    /// Callers waiting for another caller's load right now.
    public var waitingCount: Int { waiting.load(ordering: .relaxed) }

    private func waitBounded(_ task: Task<Value, any Error>, key: String) async throws -> Value {
        let timeout = self.timeout
        return try await withThrowingTaskGroup(of: Value?.self) { group in
            group.addTask { try await task.value }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                throw CacheAsideError(.singleFlightTimeout, "the load of \(key) already in progress did not finish within \(timeout)")
            }
            return value
        }
    }
}
