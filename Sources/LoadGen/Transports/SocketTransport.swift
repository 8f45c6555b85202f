#if os(Linux)
import CEpoll
import Foundation
import Glibc
import NIOCore
import Synchronization

/// Plain-HTTP connections on non-blocking sockets, driven by one thread waiting on epoll.
///
/// Per request: one `send` of the pre-formatted bytes, one `recv` into a buffer the thread
/// reuses, the worker's scan of those bytes, and a share of one `epoll_wait` — no channel
/// pipeline, no per-read buffer, no interest changes while a request fits the socket buffer (wrk
/// re-arms write interest twice per request). Timers (open-loop sends, timeouts) wait in a
/// ``DeadlineQueue`` behind a `timerfd`, so a request due in 100 µs is sent then, not at the next
/// millisecond. Everything but ``execute(_:)`` runs on the thread.
final class SocketTransport: LoadTransport, @unchecked Sendable {
    /// One slot's socket.
    private struct Connection {
        var socket: Int32 = -1
        /// Told apart from earlier sockets of the slot: an event still queued for a closed
        /// socket must not reach the next one (the kernel reuses descriptor numbers).
        var generation: UInt32 = 0
        var connecting = false
        /// Which of the target's addresses this attempt uses.
        var address = 0
        /// Addresses left to try before the attempt counts as failed.
        var attemptsLeft = 0
        /// Request bytes the socket did not take yet (write interest is on while there are any).
        var pending: ByteBuffer?
    }

    private let epoll: Int32
    private let timer: Int32
    private let wakeup: Int32
    private let commands = Mutex<[@Sendable () -> Void]>([])
    private var worker: LoopWorker?
    private var slots: [LoopWorker.Slot] = []
    private var connections: [Connection] = []
    private var deadlines = DeadlineQueue()
    private var armedDeadline: UInt64 = .max
    private var timerFailureReported = false
    /// Slots whose sockets closed, reported to the worker once the current event is handled.
    private var closedSlots: [LoopWorker.Slot] = []
    /// Each target's addresses (resolved once for the run); the index that connected last first.
    private let addresses: [[SocketAddressBytes]]
    private var preferredAddress: [Int]
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 16)
    private var running = true
    private var exited: CheckedContinuation<Void, Never>?

    private static let wakeupEvent: UInt64 = 0
    private static let timerEvent: UInt64 = 1

    /// - Parameter addresses: each target's addresses (``TargetAddresses/resolve(_:)``), in the
    ///   plan's order of targets.
    init(addresses: [[SocketAddressBytes]]) throws(LoadRunError) {
        self.addresses = addresses
        preferredAddress = Array(repeating: 0, count: addresses.count)
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        timer = timerfd_create(CLOCK_MONOTONIC, Int32(TFD_NONBLOCK | TFD_CLOEXEC))
        wakeup = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard epoll >= 0 && timer >= 0 && wakeup >= 0 else {
            // Every property is set by now, so deinit runs and closes what did open.
            let reason = String(cString: strerror(errno))
            throw LoadRunError("could not start a load thread: epoll, timerfd or eventfd failed (\(reason))")
        }
        guard watch(wakeup, events: EPOLLIN.rawValue, data: Self.wakeupEvent, operation: EPOLL_CTL_ADD),
              watch(timer, events: EPOLLIN.rawValue, data: Self.timerEvent, operation: EPOLL_CTL_ADD) else {
            throw LoadRunError("could not start a load thread: epoll_ctl failed (\(String(cString: strerror(errno))))")
        }
    }

    /// The thread keeps the transport while it runs, so this comes after it ended (or when it
    /// never started because the run failed to begin).
    deinit {
        for descriptor in [epoll, timer, wakeup] where descriptor >= 0 { Glibc.close(descriptor) }
        readBuffer.deallocate()
    }

    /// Takes the worker and starts the thread (which keeps the transport until ``shutdown()``).
    func attach(_ worker: LoopWorker) {
        self.worker = worker
        slots = worker.allSlots
        connections = Array(repeating: Connection(), count: slots.count)
        let thread = Thread { [self] in run() }
        thread.name = "cacheload-load"
        thread.start()
    }

    // MARK: From any thread

    func execute(_ work: @escaping @Sendable () -> Void) {
        let wasEmpty = commands.withLock { queue in
            queue.append(work)
            return queue.count == 1
        }
        // One wake-up per batch: the thread takes the whole queue each time it wakes.
        if wasEmpty {
            var one: UInt64 = 1
            _ = Glibc.write(wakeup, &one, 8)
        }
    }

    func shutdown() async {
        await withCheckedContinuation { continuation in
            execute { [self] in
                exited = continuation
                running = false
            }
        }
    }

    // MARK: The thread

    private func run() {
        let capacity = 512
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        defer { events.deallocate() }
        while running {
            let count = epoll_wait(epoll, events, Int32(capacity), -1)
            if count < 0 {
                precondition(errno == EINTR, "epoll_wait failed: errno \(errno)")
                continue
            }
            for index in 0..<Int(count) {
                let event = events[index]
                switch event.data.u64 {
                case Self.wakeupEvent: runCommands()
                case Self.timerEvent: drain(timer)
                default: handle(event.events, id: event.data.u64)
                }
                reportClosed()
            }
            runDueTimers()
        }
        for connection in connections where connection.socket >= 0 { Glibc.close(connection.socket) }
        worker = nil
        slots = []
        exited?.resume()
    }

    private func runCommands() {
        drain(wakeup)
        let work = commands.withLock { queue in
            defer { queue.removeAll(keepingCapacity: true) }
            return queue
        }
        for item in work {
            item()
            reportClosed()
        }
    }

    func schedule(after delay: UInt64, _ work: @escaping () -> Void) {
        let deadline = now() + delay
        deadlines.insert(deadline, work)
        if deadline < armedDeadline { arm(deadline) }
    }

    private func runDueTimers() {
        guard !deadlines.isEmpty else { return }
        let current = now()
        while let work = deadlines.popDue(at: current) {
            work()
            reportClosed()
        }
        // Re-arm only for a new earliest deadline: one timerfd call per change, not per wake-up.
        if let next = deadlines.earliest {
            if next != armedDeadline { arm(next) }
        } else {
            armedDeadline = .max
        }
    }

    private func arm(_ deadline: UInt64) {
        armedDeadline = deadline
        var spec = itimerspec()
        spec.it_value.tv_sec = Int(deadline / 1_000_000_000)
        spec.it_value.tv_nsec = Int(deadline % 1_000_000_000)
        if timerfd_settime(timer, Int32(TFD_TIMER_ABSTIME), &spec, nil) != 0 {
            // Not armed: the next change of the earliest deadline tries again. Said once: an
            // open-loop run whose timer fails sends late, and its summary shows it.
            armedDeadline = .max
            if !timerFailureReported {
                timerFailureReported = true
                FileHandle.standardError.write(Data("cacheload load: timerfd_settime failed (\(String(cString: strerror(errno)))); scheduled sends may be late\n".utf8))
            }
        }
    }

    private func now() -> UInt64 { NIODeadline.now().uptimeNanoseconds }

    // MARK: Sockets

    private func handle(_ events: UInt32, id: UInt64) {
        let position = Int(id & 0xFFFF_FFFF) - 2
        guard position >= 0, position < connections.count,
              connections[position].generation == UInt32(id >> 32), connections[position].socket >= 0 else { return }
        if connections[position].connecting {
            finishConnecting(position)
            return
        }
        if events & EPOLLOUT.rawValue != 0, connections[position].pending != nil { flushPending(position) }
        if events & (EPOLLIN.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0, connections[position].socket >= 0 {
            read(position)
        }
    }

    private func read(_ position: Int) {
        let socket = connections[position].socket
        let count = recv(socket, readBuffer.baseAddress, readBuffer.count, 0)
        if count > 0 {
            worker?.received(slots[position], UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]))
        } else if count == 0 || (errno != EAGAIN && errno != EINTR) {
            drop(position)  // the peer closed, or the connection failed
        }
    }

    func send(_ request: ByteBuffer, on slot: LoopWorker.Slot) {
        let position = slot.position
        guard connections[position].socket >= 0, !connections[position].connecting else { return }
        if connections[position].pending != nil {
            connections[position].pending!.writeImmutableBuffer(request)
            return
        }
        guard let rest = sendAvailable(request, at: position) else { return }
        // The socket buffer is full: keep the rest and wait until it can be written.
        connections[position].pending = rest
        rewatch(position, events: EPOLLIN.rawValue | EPOLLOUT.rawValue)
    }

    private func flushPending(_ position: Int) {
        guard let pending = connections[position].pending else { return }
        connections[position].pending = sendAvailable(pending, at: position)
        if connections[position].pending == nil, connections[position].socket >= 0 {
            rewatch(position, events: EPOLLIN.rawValue)
        }
    }

    /// Sends as much of `bytes` as the socket takes now and returns the rest; `nil` when all of
    /// it went, or when the connection failed (and was dropped).
    private func sendAvailable(_ bytes: ByteBuffer, at position: Int) -> ByteBuffer? {
        let sent = bytes.withUnsafeReadableBytes { Glibc.send(connections[position].socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if sent == bytes.readableBytes { return nil }
        if sent < 0 && errno != EAGAIN && errno != EINTR {
            drop(position)
            return nil
        }
        let taken = max(0, sent)
        return bytes.getSlice(at: bytes.readerIndex + taken, length: bytes.readableBytes - taken)
    }

    func close(_ slot: LoopWorker.Slot) {
        drop(slot.position)
    }

    /// Closes the slot's socket (if any) and reports it after the current event.
    private func drop(_ position: Int) {
        guard connections[position].socket >= 0 else { return }
        abandon(position)
        closedSlots.append(slots[position])
    }

    private func reportClosed() {
        guard !closedSlots.isEmpty else { return }
        let closed = closedSlots
        closedSlots.removeAll(keepingCapacity: true)
        for slot in closed { worker?.connectionClosed(slot) }
    }

    // MARK: Connecting

    func open(_ slot: LoopWorker.Slot) {
        let position = slot.position
        guard connections[position].socket < 0 else { return }
        connections[position].address = preferredAddress[slot.target]
        connections[position].attemptsLeft = addresses[slot.target].count
        attempt(position)
    }

    /// Connects to the slot's current address; a refusal moves on to the next address, and
    /// only when every address refused does the worker hear of it.
    private func attempt(_ position: Int) {
        let slot = slots[position]
        let candidates = addresses[slot.target]
        guard connections[position].attemptsLeft > 0, !candidates.isEmpty else {
            worker?.openFailed(slot)
            return
        }
        connections[position].attemptsLeft -= 1
        let address = candidates[connections[position].address % candidates.count]
        let socket = Glibc.socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socket >= 0 else {
            worker?.openFailed(slot)
            return
        }
        var noDelay: Int32 = 1
        setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
        let result = address.withSockAddr { Glibc.connect(socket, $0, $1) }
        if result != 0 && errno != EINPROGRESS {
            Glibc.close(socket)
            nextAddress(position)
            return
        }
        connections[position].socket = socket
        connections[position].generation &+= 1
        connections[position].connecting = true
        guard watch(socket, events: EPOLLOUT.rawValue, data: eventID(position), operation: EPOLL_CTL_ADD) else {
            // Unwatched, the socket would never report: a failed connect, counted and retried.
            abandon(position)
            worker?.openFailed(slots[position])
            return
        }
        let generation = connections[position].generation
        schedule(after: worker?.connectTimeoutNanos ?? LoopWorker.longestConnectTimeout) { [self] in
            guard connections[position].generation == generation, connections[position].connecting else { return }
            abandon(position)
            worker?.openFailed(slots[position])
        }
    }

    private func finishConnecting(_ position: Int) {
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(connections[position].socket, SOL_SOCKET, SO_ERROR, &error, &length)
        guard error == 0 else {
            abandon(position)
            nextAddress(position)
            return
        }
        connections[position].connecting = false
        preferredAddress[slots[position].target] = connections[position].address % max(1, addresses[slots[position].target].count)
        rewatch(position, events: EPOLLIN.rawValue)
        worker?.opened(slots[position])
    }

    /// Closes the slot's socket without reporting it (one still connecting, or for ``drop(_:)``).
    private func abandon(_ position: Int) {
        Glibc.close(connections[position].socket)
        connections[position].socket = -1
        connections[position].connecting = false
        connections[position].pending = nil
        connections[position].generation &+= 1
    }

    private func nextAddress(_ position: Int) {
        connections[position].address += 1
        attempt(position)
    }

    // MARK: epoll

    private func eventID(_ position: Int) -> UInt64 {
        UInt64(position + 2) | UInt64(connections[position].generation) << 32
    }

    /// A connection whose interest cannot be changed is closed (its request counts as reset):
    /// left as it was, it would wait for an event that never comes.
    private func rewatch(_ position: Int, events: UInt32) {
        if !watch(connections[position].socket, events: events, data: eventID(position), operation: EPOLL_CTL_MOD) { drop(position) }
    }

    /// `epoll_ctl`; `false` when the kernel refused (out of memory, a descriptor limit).
    @discardableResult
    private func watch(_ descriptor: Int32, events: UInt32, data: UInt64, operation: Int32) -> Bool {
        var event = epoll_event()
        event.events = events
        event.data.u64 = data
        return epoll_ctl(epoll, operation, descriptor, &event) == 0
    }

    /// Reads an eventfd's or timerfd's counter so it stops being readable.
    private func drain(_ descriptor: Int32) {
        var value: UInt64 = 0
        _ = Glibc.read(descriptor, &value, 8)
    }
}
#endif
