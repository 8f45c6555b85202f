import Histogram

/// What one event loop measured. Loop-confined while the run lasts (no locks on the hot path);
/// the engine merges the recorders of all loops once, at the end.
struct Recorder {
    // Each response is recorded once, in the histogram of its cache outcome; the overall one is
    // their sum, made once at the end (one record per response less on the hot path).
    var hitLatency = Recorder.makeHistogram()
    var missLatency = Recorder.makeHistogram()
    /// Responses that were neither HIT nor MISS (BYPASS, or no X-Cache at all).
    var otherLatency = Recorder.makeHistogram()
    /// Open loop: latency from the actual send (what a tool with coordinated omission reports),
    /// beside the corrected one from the intended start. Empty in closed loop.
    var uncorrectedLatency = Recorder.makeHistogram()
    var counts = LoadCounts()
    /// The seconds not yet handed to the engine's ``TimeSeries`` (the last few: a second is
    /// handed over once no answer to its requests can still arrive), from ``firstSecond`` on.
    var seconds: [SecondSample] = []
    private(set) var firstSecond = 0
    /// Answers to seconds already handed over (an answer slower than the hand-over lag).
    private var lateSeconds: [SecondSample] = []
    /// Several targets (`load URL1 URL2 …`): each one's counts and latency; empty for one target.
    var targets: [TargetTally] = []
    /// Answers per ``CacheStatusOrigin`` (where their cache outcome was read).
    var cacheSources = [Int](repeating: 0, count: CacheStatusOrigin.allCases.count)
    /// Answers by how many caches their value listed (index 8: 8 or more).
    var cacheHops = [Int](repeating: 0, count: 9)
    /// Up to five distinct values no vocabulary knew, for the summary.
    var unknownCacheValues: [String] = []

    /// One target's share of what a loop measured.
    struct TargetTally {
        var counts = LoadCounts()
        var latency = Recorder.makeHistogram()

        mutating func merge(_ other: TargetTally) {
            counts.merge(other.counts)
            latency.add(other.latency)
        }
    }

    init(targets: Int = 1) {
        if targets > 1 { self.targets = Array(repeating: TargetTally(), count: targets) }
    }

    /// Latencies in microseconds, 1 µs to 1 hour, 3 significant digits.
    static func makeHistogram() -> Histogram<UInt64> {
        Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
    }

    mutating func recordResponse(second: Int, microseconds: UInt64, status: Int, cache: CacheOutcome, target: Int = 0,
                                 expected: Bool = true) {
        let value = max(1, microseconds)
        if !expected {
            counts.httpFailures += 1
            if !targets.isEmpty { targets[target].counts.httpFailures += 1 }
        }
        switch counts.count(status: status, cache: cache) {
        case .hit: _ = hitLatency.record(value)
        case .miss: _ = missLatency.record(value)
        case .other: _ = otherLatency.record(value)
        }
        if !targets.isEmpty {
            _ = targets[target].counts.count(status: status, cache: cache)
            _ = targets[target].latency.record(value)
        }
        sample(second) { $0.record(microseconds: value, cache: cache, status: status) }
    }

    /// Where a measured answer's cache outcome came from.
    mutating func recordCacheSource(_ response: ResponseScanner.Response) {
        cacheSources[Int(response.source.rawValue)] += 1
        if response.hops > 0 { cacheHops[min(8, Int(response.hops))] += 1 }
        if let value = response.unknownValue { Self.addExamples([value], to: &unknownCacheValues) }
    }

    /// Adds values to a list of examples: distinct, at most five, the first kept.
    static func addExamples(_ values: [String], to examples: inout [String]) {
        for value in values where examples.count < 5 && !examples.contains(value) { examples.append(value) }
    }

    mutating func countSent(target: Int) {
        counts.sent += 1
        if !targets.isEmpty { targets[target].counts.sent += 1 }
    }

    /// An answer to a request sent during `--warmup`: not part of the measured run.
    mutating func countWarmupResponse(target: Int) {
        counts.warmupResponses += 1
        counts.sent -= 1
        if !targets.isEmpty {
            targets[target].counts.warmupResponses += 1
            targets[target].counts.sent -= 1
        }
    }

    mutating func recordUncorrected(microseconds: UInt64) {
        _ = uncorrectedLatency.record(max(1, microseconds))
    }

    mutating func recordError(second: Int, _ kind: LoadErrorKind, target: Int = 0) {
        counts.add(kind)
        if !targets.isEmpty { targets[target].counts.add(kind) }
        sample(second) { $0.errors += 1 }
    }

    private mutating func sample(_ second: Int, _ update: (inout SecondSample) -> Void) {
        guard second >= 0 else { return }
        guard second >= firstSecond else {
            if let index = lateSeconds.firstIndex(where: { $0.second == second }) { return update(&lateSeconds[index]) }
            var late = SecondSample(second: second)
            update(&late)
            lateSeconds.append(late)
            return
        }
        while firstSecond + seconds.count <= second { seconds.append(SecondSample(second: firstSecond + seconds.count)) }
        update(&seconds[second - firstSecond])
    }

    /// Hands over the seconds before `cutoff` (and any late answers), keeping the later ones:
    /// the engine adds them to its ``TimeSeries``, so a loop holds a few seconds, not the run.
    mutating func takeSeconds(before cutoff: Int) -> [SecondSample] {
        let count = max(0, min(seconds.count, cutoff - firstSecond))
        var taken = Array(seconds.prefix(count))
        seconds.removeFirst(count)
        firstSecond += count
        taken += lateSeconds
        lateSeconds = []
        return taken
    }

    /// Every response's latency.
    var latency: Histogram<UInt64> {
        var all = hitLatency
        all.add(missLatency)
        all.add(otherLatency)
        return all
    }

    /// Adds another loop's histograms and counts (its seconds go to the ``TimeSeries``).
    mutating func merge(_ other: Recorder) {
        hitLatency.add(other.hitLatency)
        missLatency.add(other.missLatency)
        otherLatency.add(other.otherLatency)
        uncorrectedLatency.add(other.uncorrectedLatency)
        counts.merge(other.counts)
        for index in cacheSources.indices { cacheSources[index] += other.cacheSources[index] }
        for index in cacheHops.indices { cacheHops[index] += other.cacheHops[index] }
        Self.addExamples(other.unknownCacheValues, to: &unknownCacheValues)
        for (index, tally) in other.targets.enumerated() where index < targets.count { targets[index].merge(tally) }
    }
}

/// How a request failed without an HTTP response.
package enum LoadErrorKind: String, Sendable, Codable, CaseIterable {
    /// The connection could not be opened (refused, unreachable).
    case connect
    /// No complete response within `--timeout`.
    case timeout
    /// The connection closed or reset with the response outstanding.
    case reset
    /// Bytes that are not an HTTP/1.x response.
    case badResponse = "bad_response"
    /// The TLS handshake failed (a certificate that is not trusted or does not name the host).
    case tls
    /// HTTP/2: the server reset the request's stream (`RST_STREAM`), or the connection ended
    /// under it, after the server had taken it (at or below a `GOAWAY`'s last stream).
    case streamReset = "stream_reset"
}

/// Exact counts of a run. Conservation: `sent == completed + failedRequests + inFlightAtStop`.
package struct LoadCounts: Sendable, Codable, Equatable {
    package var sent = 0
    package var completed = 0
    package var status1xx = 0, status2xx = 0, status3xx = 0, status4xx = 0, status5xx = 0
    package var hits = 0, misses = 0, bypasses = 0, noCacheHeader = 0
    /// `X-Cache: HIT` on a 4xx answer: a cached "not found", counted apart from ``hits``.
    package var negativeHits = 0
    /// `X-Cache: STALE` (served past its TTL while a refresh runs); also counted in ``hits``.
    package var stale = 0
    /// Served after the origin confirmed the cached copy (`REVALIDATED`, CloudFront's
    /// `RefreshHit`); also counted in ``hits``.
    package var revalidated = 0
    /// The cache itself failed the request (`Error from cloudfront`).
    package var cacheErrors = 0
    /// A cache outcome no vocabulary knew (examples in the result).
    package var unknownCacheStatus = 0
    /// Requests that failed without a response (timeouts, resets, bad responses).
    package var failedRequests = 0
    /// Answers whose status the run did not expect (`--expect-status`; by default every 4xx
    /// and 5xx): HTTP failures, counted apart from the transport's.
    package var httpFailures = 0
    package var connectErrors = 0, timeouts = 0, resets = 0, badResponses = 0
    /// Requests lost to a failed TLS handshake.
    package var tlsErrors = 0
    /// Completed TLS handshakes and their total time (connect start to handshake done).
    package var tlsHandshakes = 0, tlsHandshakeMicroseconds = 0
    /// Connections reopened after the server closed them (`Connection: close`, keep-alive limits).
    package var reconnects = 0
    /// HTTP/2: requests lost to a reset stream (``LoadErrorKind/streamReset``).
    package var streamResets = 0
    /// HTTP/2: connections that spoke it (agreed by ALPN, or `--h2c`).
    package var http2Connections = 0
    /// HTTP/2: `GOAWAY`s received; each connection is replaced by a new one.
    package var goaways = 0
    /// HTTP/2: requests sent again on the new connection because the server refused their stream
    /// (above a `GOAWAY`'s last stream ID, or `REFUSED_STREAM`): it never processed them.
    package var goawayRetries = 0
    /// HTTP/2: requests whose body waited for the server's flow-control window.
    package var flowControlStalls = 0
    /// HTTP/2: the lowest `SETTINGS_MAX_CONCURRENT_STREAMS` a server announced; 0 when none did.
    package var serverMaxStreams = 0
    /// Constant rate: requests sent more than 1 ms after their scheduled time.
    package var late = 0
    /// Constant rate: requests the schedule had due within the run that were never sent — the
    /// generator could not keep up (its CPU, or too few connections for the target's latency).
    /// `sent + unsent` is the schedule's count whatever the machine's speed.
    package var unsent = 0
    /// Requests still unanswered when the run stopped (0 after a full drain).
    package var inFlightAtStop = 0
    /// Responses to requests scheduled during `--warmup`, not counted above.
    package var warmupResponses = 0

    /// All zero.
    package init() {}

    /// Reads counts written by this or an earlier version: a count the file does not have is 0
    /// (results are merged across versions of the generator on a fleet).
    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func count(_ key: CodingKeys) throws -> Int { try container.decodeIfPresent(Int.self, forKey: key) ?? 0 }
        sent = try count(.sent); completed = try count(.completed)
        status1xx = try count(.status1xx); status2xx = try count(.status2xx); status3xx = try count(.status3xx)
        status4xx = try count(.status4xx); status5xx = try count(.status5xx)
        hits = try count(.hits); misses = try count(.misses); bypasses = try count(.bypasses); noCacheHeader = try count(.noCacheHeader)
        negativeHits = try count(.negativeHits); stale = try count(.stale)
        revalidated = try count(.revalidated); cacheErrors = try count(.cacheErrors); unknownCacheStatus = try count(.unknownCacheStatus)
        failedRequests = try count(.failedRequests); httpFailures = try count(.httpFailures); connectErrors = try count(.connectErrors); timeouts = try count(.timeouts)
        resets = try count(.resets); badResponses = try count(.badResponses); tlsErrors = try count(.tlsErrors)
        tlsHandshakes = try count(.tlsHandshakes); tlsHandshakeMicroseconds = try count(.tlsHandshakeMicroseconds)
        reconnects = try count(.reconnects); streamResets = try count(.streamResets); http2Connections = try count(.http2Connections)
        goaways = try count(.goaways); goawayRetries = try count(.goawayRetries); flowControlStalls = try count(.flowControlStalls)
        serverMaxStreams = try count(.serverMaxStreams); late = try count(.late); unsent = try count(.unsent)
        inFlightAtStop = try count(.inFlightAtStop); warmupResponses = try count(.warmupResponses)
    }

    /// Transport errors: failed requests plus failed connection attempts.
    package var errors: Int { failedRequests + connectErrors }

    /// What `errors<1%` judges, as k6's `http_req_failed`: transport errors and HTTP failures.
    package var failures: Int { errors + httpFailures }

    /// Which latency histogram a response goes to.
    enum LatencyClass { case hit, miss, other }

    /// Counts one response by status class and `X-Cache`.
    mutating func count(status: Int, cache: CacheOutcome) -> LatencyClass {
        completed += 1
        switch status {
        case 100..<200: status1xx += 1
        case 200..<300: status2xx += 1
        case 300..<400: status3xx += 1
        case 400..<500: status4xx += 1
        default: status5xx += 1
        }
        switch cache {
        // A cached "not found" saves the origin a query but is no cache result to report as a
        // hit: a run against a wrong path would otherwise show a high hit ratio.
        case .hit where status >= 400: negativeHits += 1; return .other
        case .hit: hits += 1; return .hit
        // Served from the cache past its TTL while a refresh runs: a hit, and counted apart.
        case .stale: hits += 1; stale += 1; return .hit
        case .revalidated: hits += 1; revalidated += 1; return .hit
        case .miss: misses += 1; return .miss
        case .bypass: bypasses += 1; return .other
        case .error: cacheErrors += 1; return .other
        case .unknown: unknownCacheStatus += 1; return .other
        case .none: noCacheHeader += 1; return .other
        }
    }

    mutating func add(_ kind: LoadErrorKind) {
        switch kind {
        case .connect: connectErrors += 1
        case .timeout: timeouts += 1; failedRequests += 1
        case .reset: resets += 1; failedRequests += 1
        case .badResponse: badResponses += 1; failedRequests += 1
        case .tls: tlsErrors += 1; failedRequests += 1
        case .streamReset: streamResets += 1; failedRequests += 1
        }
    }

    mutating func merge(_ other: LoadCounts) {
        sent += other.sent; completed += other.completed
        status1xx += other.status1xx; status2xx += other.status2xx; status3xx += other.status3xx
        status4xx += other.status4xx; status5xx += other.status5xx
        hits += other.hits; misses += other.misses; bypasses += other.bypasses; noCacheHeader += other.noCacheHeader
        negativeHits += other.negativeHits; stale += other.stale
        revalidated += other.revalidated; cacheErrors += other.cacheErrors; unknownCacheStatus += other.unknownCacheStatus
        failedRequests += other.failedRequests; httpFailures += other.httpFailures; connectErrors += other.connectErrors; timeouts += other.timeouts
        resets += other.resets; badResponses += other.badResponses; reconnects += other.reconnects
        tlsErrors += other.tlsErrors; tlsHandshakes += other.tlsHandshakes; tlsHandshakeMicroseconds += other.tlsHandshakeMicroseconds
        streamResets += other.streamResets; http2Connections += other.http2Connections; goaways += other.goaways
        goawayRetries += other.goawayRetries; flowControlStalls += other.flowControlStalls
        serverMaxStreams = [serverMaxStreams, other.serverMaxStreams].filter { $0 > 0 }.min() ?? 0
        late += other.late; unsent += other.unsent; inFlightAtStop += other.inFlightAtStop; warmupResponses += other.warmupResponses
    }
}
