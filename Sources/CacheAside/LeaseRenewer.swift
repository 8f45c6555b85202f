import Synchronization

/// Keeps a lease alive while its holder's origin load runs: a lease must outlive the load it
/// guards, or a slow origin (the labs' `slow_version()`, 10 s) is never cached — its fill would
/// find the lease expired — and other instances would load the same key meanwhile.
///
/// The renewal runs every third of the lease time, and stops at the load's end or at the load
/// timeout (a holder stuck longer lets its lease expire, and a waiter takes over). It remembers
/// whether a renewal found the token gone: only then is the lease known lost — revoked by a
/// write, or expired and taken over — and the holder's value must not be stored without it.
final class LeaseRenewer: Sendable {
    private let lease: LeaseStore.Lease
    private let leases: LeaseStore
    private let until: ContinuousClock.Instant
    private let metrics: CacheMetrics
    private let lost = Atomic<Bool>(false)

    /// - Parameter until: when renewing stops even if the load has not finished.
    init(lease: LeaseStore.Lease, leases: LeaseStore, until: ContinuousClock.Instant, metrics: CacheMetrics) {
        self.lease = lease
        self.leases = leases
        self.until = until
        self.metrics = metrics
    }

    /// A renewal found the lease no longer this holder's.
    var sawLeaseLost: Bool { lost.load(ordering: .relaxed) }

    /// Runs `load`, renewing the lease until it returns or throws.
    func whileRunning<Value: Sendable>(_ load: @escaping @Sendable () async throws -> Value) async throws -> Value {
        try await withThrowingTaskGroup(of: Value?.self) { group in
            group.addTask { try await load() }
            group.addTask { [self] in
                await keepRenewing()
                return nil
            }
            defer { group.cancelAll() }
            while let next = try await group.next() {
                if let value = next { return value }
            }
            // Unreachable: the load's task always delivers a value or an error.
            throw CancellationError()
        }
    }

    private func keepRenewing() async {
        let interval = leases.duration / 3
        while !Task.isCancelled, ContinuousClock.now + interval < until {
            do { try await Task.sleep(for: interval) } catch { return }
            switch await leases.renew(lease) {
            case .renewed: metrics.leaseRenewed()
            case .lost:
                lost.store(true, ordering: .relaxed)
                return
            case .unknown: continue
            }
        }
    }
}
