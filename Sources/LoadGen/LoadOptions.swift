import Foundation

/// `cacheload load`'s options as the user typed them, turned into a ``LoadPlan``: every check and
/// every message about them in one place, testable without the command line.
package struct LoadOptions: Sendable {
    package var url: String
    package var method = "GET"
    /// `Name: value` lines.
    package var headers: [String] = []
    package var body: String?
    /// `get:95,put:5`
    package var mix: String?
    /// `FROM-TO` or one key.
    package var keys = "1-1005"
    /// `uniform`, `zipf:S`, `hotset:F:P`, `sequential`.
    package var distribution = "uniform"
    package var seed: UInt64 = 1
    package var connections = 100
    package var rate: Double?
    /// `30s:100,1m:1000`
    package var stages: String?
    package var duration: String?
    package var requests: Int?
    package var timeout = "5s"
    package var warmup = "0s"
    package var threads: Int
    /// `--cacert`: PEM CA certificates for `https://` targets (default: the system's trust store).
    package var caFile: String?
    /// `--insecure`: accept any certificate (self-signed test targets).
    package var insecure = false

    /// Runs without `--duration`, `--requests` or `--stages` last this long.
    package static let defaultDuration: Duration = .seconds(10)

    package init(url: String, threads: Int) {
        self.url = url
        self.threads = threads
    }

    /// The plan these options describe.
    /// - Throws: ``LoadOptionError`` naming the option and the expected form.
    package func plan() throws(LoadOptionError) -> LoadPlan {
        let parsedHeaders = try headers.map(Self.header)
        let template = try RequestTemplate(url: url, method: method, headers: parsedHeaders, body: body.map { Array($0.utf8) })
        let durationValue = try duration.map { text throws(LoadOptionError) in try DurationText.parse(text, option: "--duration") }
        let schedule = try stages.map { text throws(LoadOptionError) in try RateSchedule(parsing: text, initialRate: rate ?? 0) }
        if schedule != nil && duration != nil {
            throw LoadOptionError("--stages sets the duration; leave out --duration")
        }
        var plan = LoadPlan(
            template: template, keys: try Self.keyRange(keys), distribution: try KeyDistribution(parsing: distribution), seed: seed,
            connections: connections, rate: rate,
            duration: durationValue ?? (requests == nil ? Self.defaultDuration : nil), requests: requests,
            timeout: try DurationText.parse(timeout, option: "--timeout"),
            warmup: try DurationText.parse(warmup, option: "--warmup"), threads: threads)
        if let mix {
            plan.mix = try mixTemplates(mix, main: template, headers: parsedHeaders)
        }
        if let schedule {
            plan.schedule = schedule
            plan.duration = schedule.duration
        }
        plan.tls = try tls(for: template)
        return plan
    }

    private func tls(for template: RequestTemplate) throws(LoadOptionError) -> LoadTLS? {
        guard template.isTLS else {
            if caFile != nil || insecure { throw LoadOptionError("--cacert and --insecure apply to https:// targets only") }
            return nil
        }
        if caFile != nil && insecure {
            throw LoadOptionError("--insecure turns verification off; --cacert names what to verify against: give one of them")
        }
        return try LoadTLS(host: template.host, caFile: caFile, verify: !insecure)
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
            templates.append((try RequestTemplate(url: url, method: method, headers: headers + [("Content-Type", "application/json")],
                                                  body: method == "DELETE" ? nil : body.map { Array($0.utf8) }), share))
        }
        return templates
    }
}
