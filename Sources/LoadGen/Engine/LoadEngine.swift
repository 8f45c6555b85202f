import Foundation
import NIOCore
import Synchronization

/// Runs a ``LoadPlan``: a few event loops, each driving its share of the connections with its
/// own recorder (wrk's shape), merged once at the end.
package final class LoadEngine: Sendable {
    package let plan: LoadPlan
    private let makeTransports: @Sendable (LoadPlan, [[SocketAddressBytes]]) throws -> [any LoadTransport]

    package init(plan: LoadPlan) {
        self.plan = plan
        makeTransports = LoadTransports.make(for:addresses:)
    }

    /// A run over the given transports (tests: addresses this machine's resolver cannot give).
    init(plan: LoadPlan, transports: @escaping @Sendable (LoadPlan) throws -> [any LoadTransport]) {
        self.plan = plan
        makeTransports = { plan, _ in try transports(plan) }
    }

    /// Progress once per second while the run lasts.
    package struct Progress: Sendable {
        package var elapsed: Duration
        package var counts: LoadCounts
        /// The last complete second.
        package var lastSecond: SecondSample?

        /// One progress line: `[  3s / 10s]    9981 req/s  p99    1.23ms  hit 98.2%  errors 0  sent 29950`.
        package func line(total: Duration?) -> String {
            // Swift strings are interpolated, never passed to %@: Linux Foundation prints them as (null).
            let elapsed = String(format: "%3d", Int(elapsed.components.seconds))
            let eta = total.map { " / \($0.components.seconds)s" } ?? ""
            let hit = lastSecond?.hitRatio.map { String(format: "%.1f%%", $0 * 100) } ?? "-"
            let rate = String(format: "%7d", lastSecond?.responses ?? 0)
            let p99 = String(format: "%7.2f", lastSecond?.p99 ?? 0)
            return "[\(elapsed)s\(eta)] \(rate) req/s  p99 \(p99)ms  hit \(hit)  errors \(counts.errors)  sent \(counts.sent)"
        }

        /// The line on standard error: rewritten in place on a terminal, one per second otherwise.
        package func write(total: Duration?, interactive: Bool) {
            let line = line(total: total)
            FileHandle.standardError.write(Data((interactive ? "\r\u{1B}[K" + line : line + "\n").utf8))
        }

        /// Erases the last progress line of a terminal.
        package static func clearLine() {
            FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        }
    }

    /// Runs the plan to its end — duration, request count, or cancellation of the calling task
    /// (Ctrl-C) — drains in-flight requests briefly, and returns the merged result.
    package func run(progress: (@Sendable (Progress) -> Void)? = nil) async throws -> LoadResult {
        try OpenFileLimit.ensure(forConnections: plan.connections)
        let addresses = try await TargetAddresses.resolve(plan.targets)
        if let start = plan.startAt { await StartTime.wait(until: start) }
        let startedAt = Date()
        let budget = RequestBudget(plan.requests)
        let abort = RunAbort()
        // One set per target: request bytes made once, not per request.
        let requests = plan.keys.count <= 200_000 ? plan.targets.map { PreformattedRequests(template: $0, keys: plan.keys) } : nil
        let startAt = NIODeadline.now().uptimeNanoseconds
        let transports = try makeTransports(plan, addresses)
        let workers = transports.enumerated().map { loopIndex, transport in
            LoopWorker(transport: transport, plan: plan, budget: budget, requests: requests,
                       connectionIndices: Self.slots(ofLoop: loopIndex, loops: transports.count, plan: plan),
                       startAt: startAt, seed: plan.seed &+ UInt64(loopIndex) &* 0x9E37_79B9, abort: abort)
        }
        for worker in workers { worker.transport.execute { worker.start() } }

        let clock = ContinuousClock()
        let began = clock.now
        let measuring = began + plan.warmup
        let end = plan.duration.map { measuring + $0 }
        var nextProgress = began + .seconds(1)
        var series = TimeSeries(startedAt: startedAt.timeIntervalSince1970)
        var cancelled = false
        while true {
            if Task.isCancelled { cancelled = true; break }
            if let reason = abort.reason { try await stop(workers, because: reason) }
            if let end, clock.now >= end { break }
            if budget.isLimited && budget.isSpent, await inFlight(workers) == 0 { break }
            if clock.now >= nextProgress {
                nextProgress += .seconds(1)
                if let progress {
                    let (counts, lastSecond) = await snapshot(workers)
                    progress(Progress(elapsed: clock.now - began, counts: counts, lastSecond: lastSecond))
                }
                await collect(workers, into: &series, elapsed: clock.now - measuring)
            }
            try? await Task.sleep(for: .milliseconds(budget.isLimited ? 5 : 20))
        }
        let stoppedSending = clock.now
        for worker in workers { worker.transport.execute { worker.stopSending() } }
        await drain(workers)
        var recorder = Recorder(targets: plan.targets.count)
        for worker in workers {
            var finished = await worker.transport.submit { worker.finish() }
            series.add(finished.takeSeconds(before: .max))
            recorder.merge(finished)
        }
        for worker in workers { await worker.transport.shutdown() }
        series.foldAllButLast(plan.detailedSeconds)
        let measured = max(.milliseconds(1), stoppedSending - measuring)
        var result = LoadResult(plan: plan, recorder: recorder, series: series, duration: measured, interrupted: cancelled)
        result.startedAt = startedAt.timeIntervalSince1970
        return result
    }

    /// Lets the requests in flight finish, up to the request timeout (at most 2 s).
    private func drain(_ workers: [LoopWorker]) async {
        let clock = ContinuousClock()
        let until = clock.now + min(plan.timeout, .seconds(2))
        while clock.now < until, await inFlight(workers) > 0 {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Ends a run that cannot go on (``RunAbort``): the loops stop, their threads end, and the
    /// reason is thrown.
    private func stop(_ workers: [LoopWorker], because reason: String) async throws -> Never {
        for worker in workers { _ = await worker.transport.submit { worker.finish() } }
        for worker in workers { await worker.transport.shutdown() }
        throw LoadRunError(reason)
    }

    /// The slots (units of concurrency) loop `loop` drives: whole connections dealt round robin,
    /// each with its ``LoadPlan/streams`` slots — so a connection's streams share one loop.
    static func slots(ofLoop loop: Int, loops: Int, plan: LoadPlan) -> [Int] {
        stride(from: loop, to: plan.connections, by: loops).flatMap { connection in
            (connection * plan.streams)..<((connection + 1) * plan.streams)
        }
    }

    private func inFlight(_ workers: [LoopWorker]) async -> Int {
        var total = 0
        for worker in workers { total += await worker.transport.submit { worker.inFlightCount } }
        return total
    }

    /// Moves the seconds no answer can still arrive for (older than the request timeout and a
    /// margin) from the loops to `series`, and folds those older than the detailed window: what
    /// the run holds stays bounded however long it lasts.
    private func collect(_ workers: [LoopWorker], into series: inout TimeSeries, elapsed: Duration) async {
        let cutoff = Int(((elapsed - plan.timeout - .seconds(2)) / .seconds(1)).rounded(.down))
        guard cutoff > 0 else { return }
        for worker in workers {
            series.add(await worker.transport.submit { worker.takeSeconds(before: cutoff) })
        }
        series.fold(before: cutoff - plan.detailedSeconds)
    }

    /// The counters so far and the last complete second, for a progress line: each worker hands
    /// over its last two seconds only, so a line costs the same at hour 10 as at second 10.
    private func snapshot(_ workers: [LoopWorker]) async -> (LoadCounts, SecondSample?) {
        var counts = LoadCounts()
        var recent: [Int: SecondSample] = [:]
        for worker in workers {
            let (workerCounts, seconds) = await worker.transport.submit { worker.snapshot() }
            counts.merge(workerCounts)
            for sample in seconds { recent[sample.second, default: SecondSample(second: sample.second)].merge(sample) }
        }
        return (counts, recent.keys.max().flatMap { recent[$0 - 1] })
    }
}

/// Why a run cannot go on, set once by whichever loop finds out first (the target does not
/// speak the HTTP asked for); the engine stops the run and throws it as a ``LoadRunError``.
final class RunAbort: Sendable {
    private let stored = Mutex<String?>(nil)

    var reason: String? { stored.withLock { $0 } }

    func abort(_ reason: String) {
        stored.withLock { if $0 == nil { $0 = reason } }
    }
}

/// A run that cannot start here; the message says what to change.
package struct LoadRunError: Error, CustomStringConvertible {
    package let description: String

    init(_ description: String) {
        self.description = description
    }
}
