/// Work waiting for a time (monotonic nanoseconds): a binary min-heap, earliest first, and in
/// insertion order among equal deadlines. One thread's: no locks.
struct DeadlineQueue {
    private struct Entry {
        let deadline: UInt64
        let sequence: UInt64
        let work: () -> Void

        func precedes(_ other: Entry) -> Bool {
            deadline != other.deadline ? deadline < other.deadline : sequence < other.sequence
        }
    }

    private var heap: [Entry] = []
    private var inserted: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }
    var earliest: UInt64? { heap.first?.deadline }

    mutating func insert(_ deadline: UInt64, _ work: @escaping () -> Void) {
        inserted &+= 1
        heap.append(Entry(deadline: deadline, sequence: inserted, work: work))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// The earliest work if it is due at `now`, removed from the queue.
    mutating func popDue(at now: UInt64) -> (() -> Void)? {
        guard let first = heap.first, first.deadline <= now else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(from: 0)
        }
        return first.work
    }

    private mutating func siftDown(from start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { return }
            var smallest = left
            if left + 1 < heap.count, heap[left + 1].precedes(heap[left]) { smallest = left + 1 }
            guard heap[smallest].precedes(heap[parent]) else { return }
            heap.swapAt(smallest, parent)
            parent = smallest
        }
    }
}
