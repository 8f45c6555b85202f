import ArgumentParser
import LoadGen
import Foundation
import Telemetry

/// `cacheload load`'s options as the user typed them — the flags, their help, and their
/// turning into a ``LoadPlan``: every check and every message about them in one place.
package struct LoadOptions: ParsableArguments, Sendable {
    @Argument(help: ArgumentHelp(
        "Target URL, http:// or https://; {key} is replaced by a key from --keys. Several (a fleet's instances): connections are spread over them round robin, and the summary has a row per target.",
        valueName: "url"))
    package var urls: [String] = []

    @Option(help: ArgumentHelp("A file of target URLs, one per line (# starts a comment), after those given as arguments.", valueName: "file"))
    package var targets: String?

    @Option(help: ArgumentHelp("PEM CA certificates to verify an https:// target against (default: the system's trust store).", valueName: "file"))
    package var cacert: String?

    @Flag(help: "Accept any certificate from an https:// target (self-signed test targets only).")
    package var insecure = false

    @Option(name: [.short, .long], help: "Keep-alive connections.")
    package var connections: Int = 100

    @Option(help: ArgumentHelp("Which HTTP to speak: 1.1, 2 (over https://, agreed by ALPN; a server that refuses fails the run) or auto (ALPN offers h2 and http/1.1 over https://; HTTP/1.1 over http://).", valueName: "version"))
    package var http: String = "auto"

    @Flag(help: "HTTP/2 over http:// with prior knowledge (h2c): no upgrade, the first bytes are HTTP/2's.")
    package var h2c = false

    @Option(help: ArgumentHelp("HTTP/2: requests in flight at once on each connection (h2load's -m); closed loop then keeps connections × streams in flight. Capped by the server's SETTINGS_MAX_CONCURRENT_STREAMS, which the summary reports.", valueName: "n"))
    package var streams: Int = 1

    @Option(help: "Requests per second across all connections (open loop). Omit for closed loop.")
    package var rate: Double?

    @Option(help: ArgumentHelp("Ramp the rate linearly between targets, k6 style (from --rate, or 0): 30s:100,1m:1000,30s:0. Sets the duration.", valueName: "stages"))
    package var stages: String?

    @Option(name: [.short, .long], help: "How long to run (500ms, 30s, 1m30s); 10s when neither it, --requests nor --stages is given.")
    package var duration: String?

    @Option(name: [.short, .long], help: "Stop after this many requests.")
    package var requests: Int?

    @Option(help: "Per-request timeout.")
    package var timeout: String = "5s"

    @Option(help: "Run this long first without recording.")
    package var warmup: String = "0s"

    @Option(help: ArgumentHelp("Key range for {key}.", valueName: "from-to"))
    package var keys: String = "1-1005"

    @Option(help: ArgumentHelp("Key distribution: uniform, zipf:S, hotset:F:P, sequential.", valueName: "name"))
    package var distribution: String = "uniform"

    @Option(help: "Seed of the key sequence (same seed, same keys).")
    package var seed: UInt64 = 1

    @Option(help: "HTTP method.")
    package var method: String = "GET"

    @Option(name: [.customShort("H"), .long], help: ArgumentHelp("Extra header, repeatable.", valueName: "Name: value"))
    package var header: [String] = []

    @Option(help: "Request body (for POST/PUT, and for the write methods of --mix).")
    package var body: String?

    @Option(help: ArgumentHelp("Read/write mix by method weight, e.g. get:95,put:5 (writes use --body).", valueName: "mix"))
    package var mix: String?

    @Option(help: ArgumentHelp("Statuses that are answers, not failures (default 100-399): any other status counts as an HTTP failure in errors<… thresholds, as k6's http_req_failed does. E.g. 200-399,404 for a run over unknown ids that the cache answers 404.", valueName: "statuses"))
    package var expectStatus: String?

    @Option(help: ArgumentHelp("Where each answer states its cache outcome: auto (Cache-Status, CF-Cache-Status, X-Cache-Status, Akamai-Cache-Status, X-Cache, X-Varnish, then a top-level cache_status or cache_used in a JSON body), header:NAME (any header, e.g. header:X-Cache-Lookup), json:FIELD (a JSON body's field; a.b for a nested one), or none.", valueName: "where"))
    package var cacheStatus: String = "auto"

    @Option(help: ArgumentHelp("Threads driving the connections, each its own event loop; one per core when left out (\(ProcessInfo.processInfo.activeProcessorCount) here). On a machine the target shares, one thread leaves the target more CPU.", valueName: "n"))
    package var threads: Int?

    @Option(help: ArgumentHelp("Run only part I of N of the plan, for a run split over N machines (see README, \"Load from many machines\").", valueName: "I/N"))
    package var segment: String?

    @Option(help: ArgumentHelp("Start at this UTC time (2026-11-24T10:00:00Z) or after this long (+30s), at most an hour ahead: the machines of a split run start together.", valueName: "time"))
    package var startAt: String?

    package init() {}

    package func validate() throws {
        guard !urls.isEmpty || targets != nil else { throw ValidationError("give the target URL (or several, or --targets FILE)") }
        guard (1...100_000).contains(connections) else { throw ValidationError("--connections must be between 1 and 100000") }
        if let rate { guard rate > 0 else { throw ValidationError("--rate must be positive") } }
        if let requests { guard requests > 0 else { throw ValidationError("--requests must be positive") } }
        if let threads { guard threads >= 1 else { throw ValidationError("--threads must be at least 1") } }
        _ = try usage { () throws(OptionValueError) in try plan() }
    }

    /// The URLs given as arguments, then those of `--targets`.
    private func targetURLs() throws(LoadOptionError) -> [String] {
        guard let targets else { return urls }
        let text: String
        do {
            text = try String(contentsOfFile: targets, encoding: .utf8)
        } catch {
            throw LoadOptionError("--targets \(targets): cannot read the file (\(error.localizedDescription))")
        }
        let listed = text.split(whereSeparator: \.isNewline).compactMap { line -> String? in
            let url = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first?
                .trimmingCharacters(in: .whitespaces) ?? ""
            return url.isEmpty ? nil : url
        }
        return urls + listed
    }

    /// Runs without `--duration`, `--requests` or `--stages` last this long.
    package static let defaultDuration: Duration = .seconds(10)

    /// The plan these options describe.
    /// - Throws: ``LoadOptionError`` naming the option and the expected form.
    package func plan() throws(LoadOptionError) -> LoadPlan {
        let parsedHeaders = try header.map(Self.header)
        let templates = try targetURLs().map { url throws(LoadOptionError) in
            try RequestTemplate(url: url, method: method, headers: parsedHeaders, body: body.map { Array($0.utf8) })
        }
        guard let template = templates.first else { throw LoadOptionError("--targets \(targets ?? ""): no URL in the file") }
        if templates.count > 1 {
            guard mix == nil else { throw LoadOptionError("--mix with several targets: run one load per target, or mix against one") }
            guard Set(templates.map(\.isTLS)).count == 1 else { throw LoadOptionError("the targets mix http:// and https://: give one kind") }
            guard connections >= templates.count else {
                throw LoadOptionError("--connections \(connections) for \(templates.count) targets: give at least one connection per target")
            }
        }
        let durationValue = try duration.map { text throws(LoadOptionError) in try DurationText.parse(text, option: "--duration") }
        if let durationValue, durationValue <= .zero { throw LoadOptionError("--duration \(duration ?? ""): a run needs a duration above 0, such as 10s") }
        if try DurationText.parse(timeout, option: "--timeout") <= .zero {
            throw LoadOptionError("--timeout \(timeout): every request would time out at once; give a timeout above 0, such as 2s")
        }
        let schedule = try stages.map { text throws(LoadOptionError) in try RateSchedule(parsing: text, initialRate: rate ?? 0) }
        if schedule != nil && duration != nil {
            throw LoadOptionError("--stages sets the duration; leave out --duration")
        }
        var plan = LoadPlan(
            template: template, keys: try Self.keyRange(keys), distribution: try KeyDistribution(parsing: distribution), seed: seed,
            connections: connections, rate: rate,
            duration: durationValue ?? (requests == nil ? Self.defaultDuration : nil), requests: requests,
            timeout: try DurationText.parse(timeout, option: "--timeout"),
            warmup: try DurationText.parse(warmup, option: "--warmup"), threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
        plan.targets = templates
        if let expectStatus { plan.expectedStatus = try ExpectedStatus(parsing: expectStatus) }
        plan.cacheStatus = try CacheStatusSource(parsing: cacheStatus)
        if let mix {
            plan.mix = try mixTemplates(mix, main: template, headers: parsedHeaders)
        }
        if let schedule {
            plan.schedule = schedule
            plan.duration = schedule.duration
        }
        (plan.http, plan.streams) = try httpChoice(for: template)
        plan.tls = try tls(for: template, alpn: plan.http.alpn)
        plan.planID = planID()
        plan.startAt = try startAt.map { text throws(LoadOptionError) in try StartTime.parse(text) }
        if let segment {
            try split(&plan, into: try LoadSegment(parsing: segment))
        }
        return plan
    }

    /// This segment's share of the connections and of `--requests`, and its own key sequence
    /// (seeded by segment, so a rerun of a segment repeats its keys).
    private func split(_ plan: inout LoadPlan, into segment: LoadSegment) throws(LoadOptionError) {
        let connections = segment.share(of: plan.connections)
        guard connections > 0 else {
            throw LoadOptionError("--segment \(segment): --connections \(plan.connections) is fewer than \(segment.count) segments; give each at least one")
        }
        if let requests = plan.requests {
            let share = segment.share(of: requests)
            guard share > 0 else { throw LoadOptionError("--segment \(segment): --requests \(requests) is fewer than \(segment.count) segments") }
            plan.requests = share
        }
        plan.connections = connections
        plan.threads = min(plan.threads, connections)
        plan.seed = seed &+ UInt64(segment.index) &* 0x9E37_79B9_7F4A_7C15
        plan.segment = segment
    }

    /// A fingerprint of everything that defines the whole run (not the segment, not where the
    /// results go): equal on every machine of one split run, different for another plan.
    private func planID() -> String {
        let parts: [String] = [((try? targetURLs()) ?? urls).joined(separator: " "), method, header.joined(separator: "\n"), body ?? "", mix ?? "", keys, distribution, "\(seed)",
                               "\(connections)", rate.map { "\($0)" } ?? "", stages ?? "", duration ?? "", requests.map { "\($0)" } ?? "",
                               warmup, startAt ?? ""]
        // Only a choice other than the default joins: plans made before --http existed keep their ID.
        let http = self.http == "auto" && !h2c && streams == 1 ? [] : [self.http, h2c ? "h2c" : "", "\(streams)"]
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a
        for byte in (parts + http).joined(separator: "\u{1F}").utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        return String(hash, radix: 16)
    }

    /// `--http`, `--h2c` and `--streams`, checked against the target's scheme.
    private func httpChoice(for template: RequestTemplate) throws(LoadOptionError) -> (HTTPChoice, Int) {
        guard var choice = HTTPChoice(rawValue: http == "1" ? "1.1" : http.lowercased()), choice != .h2c else {
            throw LoadOptionError("--http \(http): expected 1.1, 2 or auto (HTTP/3 is not spoken)")
        }
        if h2c {
            guard !template.isTLS else { throw LoadOptionError("--h2c is HTTP/2 in clear: give an http:// URL, or drop --h2c for https:// (ALPN agrees on h2)") }
            guard choice != .http1 else { throw LoadOptionError("--h2c speaks HTTP/2: it cannot go with --http 1.1") }
            choice = .h2c
        } else if choice == .http2 && !template.isTLS {
            throw LoadOptionError("--http 2 over http:// needs --h2c (prior knowledge): cacheload does not send an Upgrade")
        }
        guard (1...1000).contains(streams) else { throw LoadOptionError("--streams \(streams): give 1 to 1000 requests in flight per connection") }
        if streams > 1 && choice != .http2 && choice != .h2c {
            throw LoadOptionError("--streams \(streams) needs HTTP/2: add --http 2 (https://) or --h2c (http://)")
        }
        return (choice, streams)
    }

    private func tls(for template: RequestTemplate, alpn: [String]) throws(LoadOptionError) -> LoadTLS? {
        guard template.isTLS else {
            if cacert != nil || insecure { throw LoadOptionError("--cacert and --insecure apply to https:// targets only") }
            return nil
        }
        if cacert != nil && insecure {
            throw LoadOptionError("--insecure turns verification off; --cacert names what to verify against: give one of them")
        }
        return try LoadTLS(host: template.host, caFile: cacert, verify: !insecure, alpn: alpn)
    }

    /// `FROM-TO` (or a single key) as a range.
    package static func keyRange(_ text: String) throws(LoadOptionError) -> ClosedRange<Int> {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        if parts.count == 1, let single = Int(parts[0]) { return single...single }
        guard parts.count == 2, let low = Int(parts[0]), let high = Int(parts[1]), low <= high else {
            throw LoadOptionError("--keys \"\(text)\": expected FROM-TO with FROM ≤ TO, e.g. 1-1005")
        }
        return low...high
    }

    private static func header(_ line: String) throws(LoadOptionError) -> (String, String) {
        guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else {
            throw LoadOptionError("--header \"\(line)\": expected \"Name: value\"")
        }
        return (String(line[..<colon]).trimmingCharacters(in: .whitespaces),
                String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces))
    }

    /// The other methods of a mix as templates; writes carry `--body` as JSON.
    private func mixTemplates(_ mix: String, main: RequestTemplate, headers: [(String, String)]) throws(LoadOptionError)
        -> [(template: RequestTemplate, share: Double)] {
        var templates: [(template: RequestTemplate, share: Double)] = []
        for (method, share) in try RequestMix.parse(mix) where method != main.method {
            if method != "DELETE" && body == nil {
                throw LoadOptionError("--mix \"\(mix)\": \(method) requests need --body")
            }
            templates.append((try RequestTemplate(url: main.url, method: method, headers: headers + [("Content-Type", "application/json")],
                                                  body: method == "DELETE" ? nil : body.map { Array($0.utf8) }), share))
        }
        return templates
    }
}
