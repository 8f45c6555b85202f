import Synchronization

/// What the client did to follow the cluster, counted for `/metrics`.
package final class RedisClientStatistics: Sendable {
    /// A copy of the counters at one moment.
    package struct Snapshot: Sendable, Equatable {
        /// `MOVED` replies followed (the slot map was updated).
        package var moved = 0
        /// `ASK` replies followed (`ASKING` + the command on the migration target).
        package var ask = 0
        /// `TRYAGAIN`/`CLUSTERDOWN`/`LOADING` replies retried after a pause.
        package var retries = 0
        /// Topology reads (`CLUSTER SHARDS`/`SLOTS`) that succeeded.
        package var topologyRefreshes = 0
        /// Connections dropped after a `READONLY` reply (a replication group failed over).
        package var readOnlyReconnects = 0

        /// All zero: before anything happened.
        package init() {}

        init(moved: Int, ask: Int, retries: Int, topologyRefreshes: Int, readOnlyReconnects: Int) {
            (self.moved, self.ask, self.retries) = (moved, ask, retries)
            (self.topologyRefreshes, self.readOnlyReconnects) = (topologyRefreshes, readOnlyReconnects)
        }
    }

    private let moved = Atomic<Int>(0)
    private let ask = Atomic<Int>(0)
    private let retries = Atomic<Int>(0)
    private let topologyRefreshes = Atomic<Int>(0)
    private let readOnlyReconnects = Atomic<Int>(0)

    package init() {}

    package var snapshot: Snapshot {
        Snapshot(moved: moved.load(ordering: .relaxed), ask: ask.load(ordering: .relaxed),
                 retries: retries.load(ordering: .relaxed), topologyRefreshes: topologyRefreshes.load(ordering: .relaxed),
                 readOnlyReconnects: readOnlyReconnects.load(ordering: .relaxed))
    }

    enum Event { case moved, ask, retries, topologyRefreshes, readOnlyReconnects }

    func count(_ event: Event) {
        switch event {
        case .moved: moved.add(1, ordering: .relaxed)
        case .ask: ask.add(1, ordering: .relaxed)
        case .retries: retries.add(1, ordering: .relaxed)
        case .topologyRefreshes: topologyRefreshes.add(1, ordering: .relaxed)
        case .readOnlyReconnects: readOnlyReconnects.add(1, ordering: .relaxed)
        }
    }
}
