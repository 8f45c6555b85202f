import NIOCore
import Synchronization

/// Requests left to send under `--requests`, shared by all loops.
final class RequestBudget: Sendable {
    private let remaining: Atomic<Int>
    let isLimited: Bool

    init(_ limit: Int?) {
        remaining = Atomic(limit ?? Int.max)
        isLimited = limit != nil
    }

    /// Takes one request from the budget; `false` when it is spent.
    func take() -> Bool {
        remaining.subtract(1, ordering: .relaxed).newValue >= 0
    }

    var isSpent: Bool { remaining.load(ordering: .relaxed) <= 0 }
}

/// One thread's share of the run: its connections, its key sampler, its recorder.
///
/// Everything here runs on its transport's thread — the transport calls in from it, and the
/// engine hops onto it — so the hot path has no locks. `@unchecked Sendable` for that reason.
final class LoopWorker: @unchecked Sendable {
    /// One connection and the request it has in flight; confined to the worker's thread, like
    /// the worker.
    final class Slot: @unchecked Sendable {
        let index: Int
        /// Where the slot is in its worker's list (the transport's index for its connection).
        let position: Int
        /// The connection is open (the transport reported it so and has not reported it closed).
        var isOpen = false
        var scanner = ResponseScanner()
        var inFlight = false
        /// When the request in flight should have started (constant rate) or did start.
        var intendedStart: UInt64 = 0
        var sentAt: UInt64 = 0
        /// Open loop: the global number of this connection's next request, and when it is due.
        var sequence = 0
        var nextDue: UInt64 = 0
        /// Open loop: the schedule has no more requests for this connection.
        var scheduleEnded = false
        var timedOut = false
        /// When the current connection attempt began (for the TLS handshake time).
        var connectStartedAt: UInt64 = 0
        /// The current connection's TLS handshake failed: its loss is a TLS error, not a reset.
        var tlsFailed = false
        /// The request in flight, kept to send again when an HTTP/2 server refused its stream.
        var request: ByteBuffer?
        /// How often the request in flight was sent again.
        var retries = 0
        /// Which of the plan's targets this connection drives (connections spread round robin).
        let target: Int
        init(index: Int, position: Int, target: Int) {
            self.index = index
            self.position = position
            self.target = target
        }
    }

    let transport: any LoadTransport
    private let plan: LoadPlan
    private let budget: RequestBudget
    /// Pre-formatted requests, one set per target.
    private let requests: [PreformattedRequests]?
    /// The mix: each template's cumulative share, its template and its pre-formatted requests.
    private let mix: [(upTo: Double, template: RequestTemplate, requests: PreformattedRequests?)]
    private var mixGenerator: SplitMix64
    private var sampler: KeySampler
    private var slots: [Slot] = []
    private(set) var recorder: Recorder
    private var stopped = false
    /// Start of measurement (after warm-up), in `NIODeadline` nanoseconds.
    private let measureFrom: UInt64
    private let startAt: UInt64
    private let timeoutNanos: UInt64
    /// How long a connect may take: the request timeout, at most ``longestConnectTimeout``.
    var connectTimeoutNanos: UInt64 { min(timeoutNanos, Self.longestConnectTimeout) }
    static let longestConnectTimeout: UInt64 = 5_000_000_000
    private var finished = false
    /// Reused between reads: responses completed by the bytes of one read.
    private var completedResponses: [ResponseScanner.Response] = []
    /// Where a transport reports that the run cannot go on.
    private let abort: RunAbort
    /// A request whose stream was refused is sent again at most this often, then counted lost.
    static let maximumRetries = 3

    init(transport: any LoadTransport, plan: LoadPlan, budget: RequestBudget, requests: [PreformattedRequests]?,
         connectionIndices: [Int], startAt: UInt64, seed: UInt64, abort: RunAbort = RunAbort()) {
        self.abort = abort
        self.transport = transport
        self.plan = plan
        recorder = Recorder(targets: plan.targets.count)
        self.budget = budget
        self.requests = requests
        sampler = KeySampler(keys: plan.keys, distribution: plan.distribution, seed: seed)
        mixGenerator = SplitMix64(seed: seed ^ 0x5EED_0F_0A11)
        var cumulative = 0.0
        var mix: [(Double, RequestTemplate, PreformattedRequests?)] = []
        for (template, share) in plan.mix {
            cumulative += share
            mix.append((cumulative, template, plan.keys.count <= 200_000 ? PreformattedRequests(template: template, keys: plan.keys) : nil))
        }
        self.mix = mix
        measureFrom = startAt + UInt64(max(0, plan.warmup.nanosecondCount))
        timeoutNanos = UInt64(max(1_000_000, plan.timeout.nanosecondCount))
        self.startAt = startAt
        for (position, index) in connectionIndices.enumerated() {
            // A connection's streams drive the same target.
            let slot = Slot(index: index, position: position, target: (index / plan.streams) % plan.targets.count)
            // Connection i sends requests i, i + N, i + 2N … of the schedule.
            slot.sequence = index
            slots.append(slot)
        }
        if plan.schedule != nil { for slot in slots { advanceSchedule(slot) } }
        transport.attach(self)
    }

    var allSlots: [Slot] { slots }

    // MARK: Engine-facing (called on the loop)

    func start() {
        for slot in slots { connect(slot) }
        tick()
    }

    /// Every 10 ms until the end: fail requests past the timeout.
    private func tick() {
        guard !finished else { return }
        checkTimeouts()
        transport.schedule(after: 10_000_000) { [self] in tick() }
    }

    /// Stop sending; requests in flight may still complete.
    func stopSending() {
        stopped = true
    }

    var inFlightCount: Int { slots.reduce(0) { $0 + ($1.inFlight ? 1 : 0) } }

    /// Closes every connection and returns what this loop recorded.
    func finish() -> Recorder {
        stopped = true
        finished = true
        recorder.counts.inFlightAtStop = inFlightCount
        recorder.counts.unsent = slots.reduce(0) { $0 + unsentRequests(of: $1) }
        if !recorder.targets.isEmpty {
            for slot in slots where slot.inFlight { recorder.targets[slot.target].counts.inFlightAtStop += 1 }
        }
        for slot in slots {
            slot.inFlight = false
            slot.isOpen = false
            transport.close(slot)
        }
        return recorder
    }

    /// Hands over the seconds before `cutoff` (``Recorder/takeSeconds(before:)``).
    func takeSeconds(before cutoff: Int) -> [SecondSample] {
        recorder.takeSeconds(before: cutoff)
    }

    /// A copy of the counters and the last two seconds (for progress lines: the one that just
    /// completed and the one under way), not the whole series.
    func snapshot() -> (LoadCounts, [SecondSample]) {
        (recorder.counts, Array(recorder.seconds.suffix(2)))
    }

    // MARK: Connections

    private func connect(_ slot: Slot) {
        guard !stopped else { return }
        slot.connectStartedAt = now()
        slot.tlsFailed = false
        transport.open(slot)
    }

    /// The transport connected the slot.
    func opened(_ slot: Slot) {
        if stopped { transport.close(slot); return }
        slot.isOpen = true
        slot.scanner = ResponseScanner(cacheStatus: plan.cacheStatus)
        slot.scanner.expectsBody = plan.template.method != "HEAD"
        sendNext(slot)
    }

    /// The transport could not connect the slot (refused, unreachable, timed out; `.tls` when
    /// the handshake failed before the slot was open).
    func openFailed(_ slot: Slot, kind: LoadErrorKind = .connect) {
        recorder.recordError(second: second(of: now()), kind, target: slot.target)
        // Under --requests a refused connect uses up one request, so a run against a dead
        // target ends (with exit 1) instead of retrying forever.
        if budget.isLimited && !budget.take() { return }
        // Do not spin on a refused port: try again shortly — unless the run is over (a connect
        // that fails after the end must not schedule on a loop about to shut down).
        guard !stopped else { return }
        transport.schedule(after: 100_000_000) { [self] in connect(slot) }
    }

    /// The transport saw the slot's connection close.
    func connectionClosed(_ slot: Slot) {
        let wasOpen = slot.isOpen
        slot.isOpen = false
        if slot.inFlight {
            var closeDelimited: ResponseScanner.Response?
            let completed = slot.scanner.connectionClosed { closeDelimited = $0 }
            if let closeDelimited { complete(slot, closeDelimited) }
            if !completed && slot.inFlight {
                slot.inFlight = false
                // Also while draining after the stop: the request was sent, so it must be counted
                // (finish() clears inFlight before closing, so its own closes are not resets).
                if !slot.timedOut {
                    recorder.recordError(second: second(of: slot.intendedStart), slot.tlsFailed ? .tls : .reset, target: slot.target)
                }
            }
        }
        slot.timedOut = false
        guard wasOpen, !stopped else { return }
        if slot.tlsFailed {
            // A refused certificate stays refused: do not spin on handshakes.
            transport.schedule(after: 100_000_000) { [self] in connect(slot) }
        } else {
            connect(slot)
        }
    }

    /// The connection's TLS handshake finished.
    func tlsHandshakeCompleted(_ slot: Slot) {
        recorder.counts.tlsHandshakes += 1
        recorder.counts.tlsHandshakeMicroseconds += Int((now() - slot.connectStartedAt) / 1000)
    }

    /// The connection's TLS handshake failed; its request is lost to TLS, not to a reset.
    func tlsHandshakeFailed(_ slot: Slot) {
        slot.tlsFailed = true
    }

    // MARK: The hot path

    func sendNext(_ slot: Slot) {
        guard !stopped, slot.isOpen, !slot.inFlight else { return }
        let current = now()
        var intended = current
        if plan.schedule != nil {
            guard !slot.scheduleEnded else { return }
            if slot.nextDue > current {
                transport.schedule(after: slot.nextDue - current) { [self] in sendNext(slot) }
                return
            }
            intended = slot.nextDue
            advanceSchedule(slot)
            if current > intended + 1_000_000 { recorder.counts.late += 1 }
        }
        guard budget.take() else { return }
        let key = sampler.nextKey()
        var template = plan.targets[slot.target]
        var formatted = requests?[slot.target]
        if !mix.isEmpty {
            let draw = Double(mixGenerator.next() >> 11) / Double(1 << 53)
            if let chosen = mix.first(where: { draw < $0.upTo }) {
                template = chosen.template
                formatted = chosen.requests
            }
        }
        let request: ByteBuffer
        if let formatted {
            request = formatted.request(for: key)
        } else {
            var buffer = ByteBufferAllocator().buffer(capacity: 128)
            template.format(key: key, into: &buffer)
            request = buffer
        }
        slot.inFlight = true
        slot.intendedStart = intended
        slot.sentAt = current
        slot.retries = 0
        if plan.mayUseHTTP2 { slot.request = request }
        recorder.countSent(target: slot.target)
        transport.send(request, on: slot)
    }

    /// The transport received bytes on the slot's connection.
    func received(_ slot: Slot, _ bytes: UnsafeRawBufferPointer) {
        // Scan first, act after: acting (sending, closing) may re-enter this slot's scanner.
        completedResponses.removeAll(keepingCapacity: true)
        var malformed = false
        do {
            try slot.scanner.consume(bytes) { completedResponses.append($0) }
        } catch {
            malformed = true
        }
        for response in completedResponses { complete(slot, response) }
        if malformed {
            if slot.inFlight {
                slot.inFlight = false
                recorder.recordError(second: second(of: slot.intendedStart), .badResponse, target: slot.target)
            }
            transport.close(slot)
        }
    }

    // MARK: HTTP/2 (streams of a connection shared by slots)

    /// The server refused the slot's stream without processing it (above a `GOAWAY`'s last
    /// stream, or `REFUSED_STREAM`): the same request goes again, still measured from its
    /// intended start — a few times, then it counts as a reset stream.
    func streamRefused(_ slot: Slot) {
        guard slot.inFlight, let request = slot.request else { return }
        guard slot.retries < Self.maximumRetries, !stopped else {
            streamReset(slot)
            return
        }
        slot.retries += 1
        recorder.counts.goawayRetries += 1
        transport.send(request, on: slot)
    }

    /// The server reset the slot's stream after taking it: the request is lost.
    func streamReset(_ slot: Slot) {
        guard slot.inFlight else { return }
        slot.inFlight = false
        recorder.recordError(second: second(of: slot.intendedStart), .streamReset, target: slot.target)
        sendNext(slot)
    }

    /// A connection agreed on HTTP/2; `maxStreams` is what its server announced, if it did.
    func http2Opened(maxStreams: Int?) {
        recorder.counts.http2Connections += 1
        if let maxStreams, recorder.counts.serverMaxStreams == 0 || maxStreams < recorder.counts.serverMaxStreams {
            recorder.counts.serverMaxStreams = maxStreams
        }
    }

    /// A server sent `GOAWAY`: its connection is being replaced.
    func goAwayReceived() {
        recorder.counts.goaways += 1
    }

    /// A request body waited for the server's flow-control window.
    func flowControlStalled() {
        recorder.counts.flowControlStalls += 1
    }

    /// The target does not speak what the run asked for: the run stops with `reason`.
    func protocolRefused(_ reason: String) {
        abort.abort(reason)
    }

    /// A response is complete (HTTP/1.1: found in the bytes by ``received(_:_:)``; HTTP/2: the
    /// stream's fields and body went through the scanner).
    func complete(_ slot: Slot, _ response: ResponseScanner.Response) {
        guard slot.inFlight else { return }  // a late answer to a request already timed out
        slot.inFlight = false
        slot.request = nil
        let finished = now()
        if slot.intendedStart >= measureFrom {
            // Latency from the intended start: in constant-rate mode a stall shows up in full
            // for every request it delayed (no coordinated omission).
            recorder.recordResponse(second: second(of: slot.intendedStart), microseconds: (finished - slot.intendedStart) / 1000,
                                    status: response.status, cache: response.cache, target: slot.target,
                                    expected: plan.expectedStatus.contains(response.status))
            recorder.recordCacheSource(response)
            // Open loop only: in closed loop every request is sent when it is due, so the two are one.
            if plan.schedule != nil { recorder.recordUncorrected(microseconds: (finished - slot.sentAt) / 1000) }
        } else {
            recorder.countWarmupResponse(target: slot.target)
        }
        if response.close {
            recorder.counts.reconnects += 1
            transport.close(slot)  // connectionClosed reopens it
        } else {
            sendNext(slot)
        }
    }

    /// Moves the slot to its next request of the schedule.
    private func advanceSchedule(_ slot: Slot) {
        guard let schedule = plan.schedule else { return }
        // A segment sends its own requests of the whole schedule, at their times in it.
        // Requests due after the run's end are not the run's: an open-loop run sends exactly the
        // schedule's requests within its duration, so split runs add up to the whole one.
        let ends = plan.duration.map { ($0 + plan.warmup) / .seconds(1) } ?? .infinity
        if let due = schedule.time(ofRequest: plan.segment.map { $0.globalIndex(slot.sequence) } ?? slot.sequence), due < ends {
            slot.nextDue = startAt + UInt64(due * 1e9)
            slot.sequence += plan.concurrency
        } else {
            slot.scheduleEnded = true
        }
    }

    /// Open loop: how many of the slot's requests due within the run it never sent (its next
    /// due one, and every later one the schedule has before the end).
    private func unsentRequests(of slot: Slot) -> Int {
        guard let schedule = plan.schedule, !slot.scheduleEnded else { return 0 }
        let ends = plan.duration.map { ($0 + plan.warmup) / .seconds(1) } ?? .infinity
        guard ends.isFinite else { return 0 }
        var unsent = 1
        var sequence = slot.sequence
        while let due = schedule.time(ofRequest: plan.segment.map { $0.globalIndex(sequence) } ?? sequence), due < ends {
            unsent += 1
            sequence += plan.concurrency
        }
        return unsent
    }

    private func checkTimeouts() {
        let current = now()
        for slot in slots where slot.inFlight && current - slot.sentAt > timeoutNanos {
            slot.inFlight = false
            slot.timedOut = true
            recorder.recordError(second: second(of: slot.intendedStart), .timeout, target: slot.target)
            transport.close(slot)
        }
    }

    private func now() -> UInt64 { NIODeadline.now().uptimeNanoseconds }

    private func second(of time: UInt64) -> Int {
        time < measureFrom ? -1 : Int((time - measureFrom) / 1_000_000_000)
    }
}
