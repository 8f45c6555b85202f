import Foundation
import Histogram

extension LoadResult {
    /// A wrk2-style text summary: rate, totals, errors, cache, and the percentile spectrum.
    package var summary: String {
        var lines: [String] = []
        let mode = mixedSchedules == true ? "closed-loop and constant-rate results merged (no one rate asked of the whole)"
            : targetRate.map { "\(staged == true ? "staged rate, average" : "constant rate") \(Self.number($0)) req/s" } ?? "closed loop"
        lines.append("Running \(Self.number(durationSeconds))s test @ \(url)")
        lines.append("  \(connections) connections\(http2Shape), \(mode), keys \(keys) \(distribution)\(interrupted ? " (interrupted)" : "")")
        lines.append("")
        lines.append("  Latency     mean \(Self.ms(latency.mean / 1000))   p50 \(Self.ms(latencyMilliseconds(atPercentile: 50)))   p99 \(Self.ms(latencyMilliseconds(atPercentile: 99)))   max \(Self.ms(Double(counts.completed == 0 ? 0 : latency.max) / 1000))")
        if counts.hits + counts.misses + counts.negativeHits > 0 {
            let hitP99 = counts.hits == 0 ? 0 : Double(hitLatency.valueAtPercentile(99)) / 1000
            let missP99 = counts.misses == 0 ? 0 : Double(missLatency.valueAtPercentile(99)) / 1000
            let apart = (counts.stale > 0 ? "   stale \(counts.stale)" : "") + (counts.revalidated > 0 ? "   revalidated \(counts.revalidated)" : "")
                + (counts.cacheErrors > 0 ? "   cache errors \(counts.cacheErrors)" : "")
            lines.append("  Cache       hit ratio \(String(format: "%.2f%%", (hitRatio ?? 0) * 100))   hits \(counts.hits)   misses \(counts.misses)   negative hits \(counts.negativeHits)   bypass \(counts.bypasses)\(apart)   p99 hit \(Self.ms(hitP99))   p99 miss \(Self.ms(missP99))")
        }
        lines += cacheOutcomeLines
        if let targets {
            lines.append("")
            lines.append("  Targets")
            lines += targets.map { "    " + Self.targetRow($0, seconds: durationSeconds) }
        }
        lines.append("")
        lines += distributionLines()
        lines.append("")
        lines.append("  \(counts.completed) responses in \(Self.number(durationSeconds))s; \(counts.sent) sent, \(counts.failedRequests) failed, \(counts.inFlightAtStop) in flight at stop")
        lines.append("  status 2xx \(counts.status2xx)  3xx \(counts.status3xx)  4xx \(counts.status4xx)  5xx \(counts.status5xx)")
        if counts.httpFailures > 0 {
            lines.append("  HTTP failures \(counts.httpFailures) (\(String(format: "%.1f%%", Double(counts.httpFailures) / Double(max(1, counts.completed)) * 100)) of answers: "
                + "status outside --expect-status; counted by errors<… thresholds)")
        }
        if let warning = clientErrorWarning { lines.append("  ⚠ \(warning)") }
        if counts.errors > 0 {
            lines.append("  errors: connect \(counts.connectErrors), timeout \(counts.timeouts), reset \(counts.resets), "
                + "bad response \(counts.badResponses), tls \(counts.tlsErrors)" + (counts.streamResets > 0 ? ", stream reset \(counts.streamResets)" : ""))
        }
        if let http2 = http2Line { lines.append(http2) }
        if counts.tlsHandshakes > 0 {
            let mean = Double(counts.tlsHandshakeMicroseconds) / Double(counts.tlsHandshakes) / 1000
            lines.append("  TLS handshakes \(counts.tlsHandshakes), mean \(Self.ms(mean)) (connect included)")
        }
        if counts.reconnects > 0 { lines.append("  reconnects (server closed keep-alive): \(counts.reconnects)") }
        lines.append(String(format: "Requests/sec: %.2f", achievedRate))
        if let targetRate {
            lines.append(String(format: "Target rate:  %.2f (achieved %.1f%%); %d requests sent late", targetRate, achievedRate / targetRate * 100, counts.late))
        }
        if let saturation = saturationWarning { lines.append("⚠ \(saturation)") }
        return lines.joined(separator: "\n")
    }

    /// `, HTTP/2 × 50 streams` after the connection count, when the run spoke HTTP/2.
    private var http2Shape: String {
        guard counts.http2Connections > 0 else { return "" }
        return ", HTTP/2" + ((streams ?? 1) > 1 ? " × \(streams ?? 1) streams" : "")
    }

    /// HTTP/2's own events: the server's stream limit, GOAWAYs and what they cost, stalls.
    private var http2Line: String? {
        guard counts.http2Connections > 0 else { return nil }
        let limit = counts.serverMaxStreams > 0 ? "server allows \(counts.serverMaxStreams) streams per connection" : "server announced no stream limit"
        let capped = counts.serverMaxStreams > 0 && (streams ?? 1) > counts.serverMaxStreams
            ? " (fewer than --streams \(streams ?? 1): the rest wait for a free stream)" : ""
        return "  HTTP/2: \(counts.http2Connections) connections opened, \(limit)\(capped); GOAWAY \(counts.goaways) "
            + "(\(counts.goawayRetries) requests sent again), flow-control stalls \(counts.flowControlStalls)"
    }

    /// Open loop: the generator did not send everything its schedule had due — said in so many
    /// words, so the target's percentiles do not carry the blame for the generator's limit.
    package var saturationWarning: String? {
        guard counts.unsent > 0 else { return nil }
        let due = counts.sent + counts.unsent
        return "the load generator could not keep its schedule: \(counts.unsent) of \(due) requests due within the run were never sent "
            + "(\(String(format: "%.1f", Double(counts.unsent) / Double(max(due, 1)) * 100))%). Its own CPU or too few connections for "
            + "the target's latency limited the run: add connections (-c), give it a core of its own, or lower --rate."
    }

    /// The percentile spectrum; for open-loop runs with the uncorrected latency (from the actual
    /// send) beside the corrected one, so the cost of coordinated omission is visible.
    private func distributionLines() -> [String] {
        let empty = counts.completed == 0
        func value(_ histogram: Histogram<UInt64>, _ percentile: Double) -> String {
            let micros = empty ? 0 : percentile == 100 ? histogram.max : histogram.valueAtPercentile(percentile)
            return Self.ms(Double(micros) / 1000)
        }
        guard let uncorrected = uncorrectedLatency else {
            return ["  Latency Distribution (HdrHistogram, measured from each request's intended start)"]
                + [50.0, 75, 90, 99, 99.9, 99.99, 99.999, 100].map { String(format: "  %8.3f%%  ", $0) + value(latency, $0) }
        }
        return ["  Latency Distribution (HdrHistogram; corrected: from each request's intended start,",
                "  uncorrected: from its actual send, as tools with coordinated omission report it)",
                "                corrected   uncorrected"]
            + [50.0, 75, 90, 99, 99.9, 99.99, 99.999, 100].map { percentile in
                String(format: "  %8.3f%%  ", percentile) + value(latency, percentile).padding(toLength: 12, withPad: " ", startingAt: 0)
                    + value(uncorrected, percentile)
            }
    }

    /// One target's line: URL, connections, answers and rate, p50/p99, hit ratio, errors.
    static func targetRow(_ target: TargetResult, seconds: Double) -> String {
        let rate = Double(target.counts.completed) / max(seconds, 1e-9)
        let ratio = target.hitRatio.map { String(format: "%.1f%%", $0 * 100) } ?? "-"
        return "\(target.url)   \(target.connections) conns   \(target.counts.completed) answers   " + String(format: "%.1f req/s", rate)
            + "   p50 \(ms(target.milliseconds(atPercentile: 50)))   p99 \(ms(target.milliseconds(atPercentile: 99)))   hit \(ratio)   errors \(target.counts.errors)"
    }

    /// Where the answers stated their cache outcome, or one line saying none did.
    private var cacheOutcomeLines: [String] {
        var lines: [String] = []
        if let sources = cacheSources, !sources.isEmpty {
            let parts = sources.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\($0.key) in \($0.value)" }
            lines.append("  cache outcome: \(parts.joined(separator: ", ")) of \(counts.completed) answers")
        }
        if let warning = noCacheOutcomeWarning { lines.append("  ⚠ \(warning)") }
        if counts.unknownCacheStatus > 0 {
            let examples = (unknownCacheValues ?? []).map { "\"\($0)\"" }.joined(separator: ", ")
            lines.append("  unknown cache outcomes \(counts.unknownCacheStatus) (\(examples)): counted neither as hits nor as misses")
        }
        return lines
    }

    /// Said when answers came but none stated a cache outcome where `--cache-status` looked:
    /// there is no hit ratio, and the user needs to know why and what to give.
    package var noCacheOutcomeWarning: String? {
        guard counts.completed > 0, cacheSources == nil, let mode = cacheStatus.flatMap({ try? CacheStatusSource(parsing: $0) }) else { return nil }
        let advice = "so there is no hit ratio. Say where the outcome is with --cache-status header:NAME or json:FIELD"
        switch mode {
        case .auto:
            return "no answer stated its cache outcome (looked for Cache-Status, CF-Cache-Status, X-Cache-Status, Akamai-Cache-Status, "
                + "X-Cache, X-Varnish, and a top-level cache_status or cache_used in a JSON body), \(advice)"
        case .header(let name): return "no answer carried the header \(name), \(advice)"
        case .json(let path): return "no answer's JSON body had the field \(path.joined(separator: ".")), \(advice)"
        case .none: return nil
        }
    }

    /// Said when most answers were 4xx: then the numbers describe a wrong URL, not the cache.
    package var clientErrorWarning: String? {
        guard counts.completed > 0, counts.status4xx * 2 > counts.completed else { return nil }
        return "\(counts.status4xx) of \(counts.completed) answers were 4xx: check the URL and --keys"
    }

    package static func ms(_ value: Double) -> String {
        value >= 1000 ? String(format: "%.2fs", value / 1000) : value >= 1 ? String(format: "%.2fms", value) : String(format: "%.0fus", value * 1000)
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
    }
}
