import Logging
import NIOCore
import Redis
import Synchronization

/// Values recently read from Redis, kept in this process (`serve --near-cache`): a hit here costs
/// no round trip. Coherent by construction: copies are only taken while Redis reports every
/// change to them (server-assisted client-side caching, `RedisInvalidationListener`), each report
/// drops the copies it names, and losing the reports drops them all before the next lookup.
///
/// A copy read before an invalidation of its key arrived but stored after it would outlive the
/// change, so each store names the ``Ticket`` taken before its Redis read and is refused when its
/// key (or everything) was invalidated since. Bounded by entries and bytes; eviction is CLOCK
/// (second chance), so a copy read since it was last passed over stays.
package final class NearCache: Sendable {
    /// How much it may hold.
    package struct Limits: Sendable {
        package var entries: Int
        package var bytes: Int

        package init(entries: Int, bytes: Int) {
            self.entries = max(1, entries)
            self.bytes = max(1, bytes)
        }
    }

    /// The invalidation count seen before a Redis read: a store with it is refused if its key
    /// changed since (see ``store(_:_:ticket:)``).
    package struct Ticket: Sendable {
        fileprivate let epoch: UInt64
    }

    /// How many invalidation counters keys share (by hash): a change to one key refuses
    /// in-flight stores of the few others in its bucket too, which only costs a Redis read.
    private static let buckets = 1024

    private struct Entry {
        var value: ByteBuffer
        var expires: ContinuousClock.Instant
        var referenced: Bool
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var clock: CircularBuffer<String> = []
        var bytes = 0
        /// Copies may be served and taken only while invalidations are being received.
        var coherent = false
        var epoch: UInt64 = 0
        var flushedAt: UInt64 = 0
        var invalidatedAt = [UInt64](repeating: 0, count: NearCache.buckets)
    }

    package let limits: Limits
    /// A copy is never kept longer than this, whatever Redis reports (a safety net: Redis
    /// reports expiries when it expires the key, which can lag its TTL).
    private let maximumAge: Duration
    private let state = Mutex(State())

    package init(limits: Limits, maximumAge: Duration) {
        self.limits = limits
        self.maximumAge = maximumAge
    }

    /// The copy of `key`, if there is a fresh one and the cache is coherent.
    package func value(_ key: String) -> ByteBuffer? {
        let now = ContinuousClock.now
        return state.withLock { state -> ByteBuffer? in
            // One hash of the key: the index serves the read and the reference mark.
            guard state.coherent, let index = state.entries.index(forKey: key) else { return nil }
            guard state.entries.values[index].expires > now else {
                Self.remove(key, from: &state)
                return nil
            }
            state.entries.values[index].referenced = true
            return state.entries.values[index].value
        }
    }

    /// Taken before reading `key` from Redis; `nil` when copies cannot be taken now.
    package func ticket() -> Ticket? {
        state.withLock { $0.coherent ? Ticket(epoch: $0.epoch) : nil }
    }

    /// Keeps `value` as the copy of `key` unless it was invalidated since `ticket` was taken.
    /// - Parameter maximumAge: a shorter life than the cache's own (a key with its own TTL).
    /// - Returns: whether it was kept.
    @discardableResult
    package func store(_ key: String, _ value: ByteBuffer, ticket: Ticket, maximumAge: Duration? = nil) -> Bool {
        guard value.readableBytes <= limits.bytes else { return false }
        let expires = ContinuousClock.now + min(maximumAge ?? self.maximumAge, self.maximumAge)
        let bucket = Self.bucket(key)
        return state.withLock { state -> Bool in
            guard state.coherent, state.flushedAt <= ticket.epoch, state.invalidatedAt[bucket] <= ticket.epoch else { return false }
            Self.remove(key, from: &state)
            while state.entries.count >= limits.entries || state.bytes + value.readableBytes > limits.bytes {
                guard Self.evictOne(from: &state) else { break }
            }
            // Names of removed copies wait in the clock for the hand; a key stored again and
            // again between evictions would grow it, so it is rebuilt when mostly such names.
            if state.clock.count > 2 * max(state.entries.count, 64) {
                state.clock = CircularBuffer(state.entries.keys)
            }
            state.entries[key] = Entry(value: value, expires: expires, referenced: false)
            state.clock.append(key)
            state.bytes += value.readableBytes
            return true
        }
    }

    /// Drops the copies of `keys` (Redis reported them changed, expired or evicted).
    package func invalidate(_ keys: [String]) {
        state.withLock { state in
            state.epoch &+= 1
            for key in keys {
                state.invalidatedAt[Self.bucket(key)] = state.epoch
                Self.remove(key, from: &state)
            }
        }
    }

    /// Drops every copy; with `coherent: false` none is served or taken until ``resume()``.
    /// - Returns: whether it was coherent before.
    @discardableResult
    package func flush(coherent: Bool) -> Bool {
        state.withLock { state in
            defer { state.coherent = coherent }
            state.epoch &+= 1
            state.flushedAt = state.epoch
            state.entries.removeAll()
            state.clock.removeAll()
            state.bytes = 0
            return state.coherent
        }
    }

    /// Invalidations are being received again (after ``flush(coherent:)`` with `false`).
    package func resume() {
        flush(coherent: true)
    }

    /// Copies held now, and their bytes.
    package var usage: (entries: Int, bytes: Int, coherent: Bool) {
        state.withLock { ($0.entries.count, $0.bytes, $0.coherent) }
    }

    /// Names the eviction clock holds: the copies, and removed ones the hand has not reached.
    package var clockLength: Int {
        state.withLock { $0.clock.count }
    }

    private static func bucket(_ key: String) -> Int {
        var hasher = Hasher()
        hasher.combine(key)
        return Int(UInt(bitPattern: hasher.finalize()) % UInt(buckets))
    }

    private static func remove(_ key: String, from state: inout State) {
        guard let old = state.entries.removeValue(forKey: key) else { return }
        state.bytes -= old.value.readableBytes
        // Its name stays in the clock until the hand reaches it; evictOne skips names without entries.
    }

    /// CLOCK: the hand passes over referenced copies once (clearing the mark) and evicts the
    /// first unreferenced one.
    @discardableResult
    private static func evictOne(from state: inout State) -> Bool {
        while let key = state.clock.popFirst() {
            guard let entry = state.entries[key] else { continue }
            if entry.referenced {
                state.entries[key]?.referenced = false
                state.clock.append(key)
                continue
            }
            remove(key, from: &state)
            return true
        }
        return false
    }
}
