import Histogram

/// The part of a `--json` result that scripts read (`jq .summary.latency_ms.p99`): counts, rates,
/// percentiles, the hit ratio, errors by kind and the thresholds' verdicts. Its schema is
/// `docs/load-result.schema.json`; the README documents each field.
package struct LoadSummary: Codable, Sendable, Equatable {
    /// Percentiles of one latency histogram, in milliseconds.
    package struct Latency: Codable, Sendable, Equatable {
        package var mean, p50, p90, p99, p99_9, max: Double

        init(_ histogram: Histogram<UInt64>, empty: Bool) {
            func at(_ percentile: Double) -> Double { empty ? 0 : Double(histogram.valueAtPercentile(percentile)) / 1000 }
            mean = empty ? 0 : histogram.mean / 1000
            (p50, p90, p99, p99_9) = (at(50), at(90), at(99), at(99.9))
            max = empty ? 0 : Double(histogram.max) / 1000
        }
    }

    package struct Rate: Codable, Sendable, Equatable {
        /// Requests per second the schedule asked for (stages: their average); `nil` in closed loop.
        package var target: Double?
        package var achieved: Double
    }

    package struct Verdict: Codable, Sendable, Equatable {
        package var expression: String
        package var passed: Bool
        /// The measured value in the threshold's unit; `nil` when there was nothing to measure.
        package var measured: Double?
    }

    /// Requests answered (responses of any status).
    package var requests: Int
    package var duration_s: Double
    package var rate: Rate
    /// From each request's intended start (coordinated-omission free).
    package var latency_ms: Latency
    /// From each request's actual send: equal to `latency_ms` in closed loop.
    package var latency_uncorrected_ms: Latency
    /// hits / (hits + misses), whatever stated them (`--cache-status`); `nil` without either.
    package var hit_ratio: Double?
    package var cache: Cache
    package var status: [String: Int]
    package var errors: [String: Int]
    package var thresholds: [Verdict]
    /// Several targets: one entry each; absent for one target.
    package var targets: [Target]?
    /// Whether the generator held its schedule.
    package var generator: Generator
    /// How the connections spoke (HTTP/2's streams, GOAWAYs, flow control); absent in
    /// summaries written before it was reported.
    package var connections: Connections?

    /// How the connections spoke.
    package struct Connections: Codable, Sendable, Equatable {
        package var count: Int
        /// `http/1.1` or `h2`.
        package var `protocol`: String
        package var streams: Int
        package var server_max_streams: Int?
        package var goaway: Int
        package var goaway_retries: Int
        package var flow_control_stalls: Int
        package var reconnects: Int
    }

    /// What the answers said their cache did, and where they said it.
    package struct Cache: Codable, Sendable, Equatable {
        /// Hits, stale and revalidated answers included.
        package var hits: Int
        package var misses: Int
        package var negative_hits: Int
        package var bypasses: Int
        /// Answers that stated no outcome.
        package var no_header: Int
        package var stale: Int
        package var revalidated: Int
        /// The cache itself failed the request.
        package var errors: Int
        /// Outcomes no vocabulary knew, and up to five of their values.
        package var unknown: Int
        package var unknown_examples: [String]
        /// The header or field most answers stated their outcome in; `nil` when none did.
        package var source: String?
        /// Answers by where their outcome was read.
        package var sources: [String: Int]
        /// Answers by how many caches their value listed.
        package var hops: [String: Int]
    }

    /// The generator's own limits: requests it had due but never sent, or sent late.
    package struct Generator: Codable, Sendable, Equatable {
        package var saturated: Bool
        package var unsent: Int
        package var late: Int
    }

    /// One target of a run against several.
    package struct Target: Codable, Sendable, Equatable {
        package var url: String
        package var connections: Int
        package var requests: Int
        package var rate: Double
        package var latency_ms: Latency
        package var hit_ratio: Double?
        package var status: [String: Int]
        package var errors: Int
    }

    package init(_ result: LoadResult, thresholds: [Threshold] = []) {
        let counts = result.counts
        let empty = counts.completed == 0
        requests = counts.completed
        duration_s = result.durationSeconds
        rate = Rate(target: result.targetRate, achieved: result.achievedRate)
        latency_ms = Latency(result.latency, empty: empty)
        latency_uncorrected_ms = Latency(result.uncorrectedLatency ?? result.latency, empty: empty)
        hit_ratio = result.hitRatio
        let sources = result.cacheSources ?? [:]
        cache = Cache(hits: counts.hits, misses: counts.misses, negative_hits: counts.negativeHits, bypasses: counts.bypasses,
                      no_header: counts.noCacheHeader, stale: counts.stale, revalidated: counts.revalidated, errors: counts.cacheErrors,
                      unknown: counts.unknownCacheStatus, unknown_examples: result.unknownCacheValues ?? [],
                      source: sources.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key, sources: sources, hops: result.cacheHops ?? [:])
        status = ["1xx": counts.status1xx, "2xx": counts.status2xx, "3xx": counts.status3xx,
                  "4xx": counts.status4xx, "5xx": counts.status5xx]
        errors = ["connect": counts.connectErrors, "timeout": counts.timeouts, "reset": counts.resets,
                  "bad_response": counts.badResponses, "tls": counts.tlsErrors, "http": counts.httpFailures, "stream_reset": counts.streamResets]
        generator = Generator(saturated: counts.unsent > 0, unsent: counts.unsent, late: counts.late)
        connections = Connections(count: result.connections, protocol: counts.http2Connections > 0 ? "h2" : "http/1.1", streams: result.streams ?? 1,
                                  server_max_streams: counts.serverMaxStreams > 0 ? counts.serverMaxStreams : nil, goaway: counts.goaways,
                                  goaway_retries: counts.goawayRetries, flow_control_stalls: counts.flowControlStalls, reconnects: counts.reconnects)
        self.thresholds = thresholds.map { Verdict(expression: $0.description, passed: $0.passes(result), measured: $0.measured(in: result)) }
        self.targets = result.targets?.map { target in
            Target(url: target.url, connections: target.connections, requests: target.counts.completed,
                   rate: Double(target.counts.completed) / max(result.durationSeconds, 1e-9),
                   latency_ms: Latency(target.latency, empty: target.counts.completed == 0), hit_ratio: target.hitRatio,
                   status: ["1xx": target.counts.status1xx, "2xx": target.counts.status2xx, "3xx": target.counts.status3xx,
                            "4xx": target.counts.status4xx, "5xx": target.counts.status5xx],
                   errors: target.counts.errors)
        }
    }
}

/// `--json`'s top level: the result's own fields and `summary` beside them.
struct ResultDocument: Encodable {
    let result: LoadResult
    let summary: LoadSummary

    private enum Key: String, CodingKey { case summary }

    func encode(to encoder: any Encoder) throws {
        try result.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(summary, forKey: .summary)
    }
}
