import ArgumentParser
import Dispatch
import Foundation
import LoadGen
import Logging
import Server
import Telemetry

struct Load: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Drive an HTTP target and report latency, throughput and the cache hit ratio.",
        discussion: """
            Closed loop (each connection sends when its answer arrives) unless --rate is given;
            with --rate the schedule never slows down for a slow target and latency is measured
            from each request's intended start (no coordinated omission).

            Examples:
              cacheload load http://127.0.0.1:8080/product/{key} --connections 1000 --duration 30s
              cacheload load http://127.0.0.1:8080/product/{key} --rate 10000 --connections 1000 \\
                  --keys 1-1005 --distribution zipf:0.99 --threshold 'p99<10ms' --threshold 'hit_ratio>0.8'
              cacheload load http://127.0.0.1:8080/ --requests 100 --connections 1 --json slow-page.json
              cacheload load http://127.0.0.1:8080/product/{key} --stages 30s:100,1m:1000,30s:0 -c 1000 --html ramp.html
              cacheload load http://127.0.0.1:8080/product/{key} --keys 1-100 --mix get:95,put:5 \
                  --body '{"name":"Load test","price":9.99}' -H "Authorization: Bearer $TOKEN"

            Exit codes: 0 done; 99 a --threshold failed; 1 the target failed (nothing answered, or
            connections refused, reset or timed out — counted by kind in the summary).
            """)

    @Argument(help: ArgumentHelp("Target URL; {key} is replaced by a key from --keys.", valueName: "url"))
    var url: String

    @Option(name: [.short, .long], help: "Keep-alive connections.")
    var connections: Int = 100

    @Option(help: "Requests per second across all connections (open loop). Omit for closed loop.")
    var rate: Double?

    @Option(help: ArgumentHelp("Ramp the rate linearly between targets, k6 style (from --rate, or 0): 30s:100,1m:1000,30s:0. Sets the duration.", valueName: "stages"))
    var stages: String?

    @Option(name: [.short, .long], help: "How long to run (500ms, 30s, 1m30s); 10s when neither it, --requests nor --stages is given.")
    var duration: String?

    @Option(name: [.short, .long], help: "Stop after this many requests.")
    var requests: Int?

    @Option(help: "Per-request timeout.")
    var timeout: String = "5s"

    @Option(help: "Run this long first without recording.")
    var warmup: String = "0s"

    @Option(help: ArgumentHelp("Key range for {key}.", valueName: "from-to"))
    var keys: String = "1-1005"

    @Option(help: ArgumentHelp("Key distribution: uniform, zipf:S, hotset:F:P, sequential.", valueName: "name"))
    var distribution: String = "uniform"

    @Option(help: "Seed of the key sequence (same seed, same keys).")
    var seed: UInt64 = 1

    @Option(help: "HTTP method.")
    var method: String = "GET"

    @Option(name: [.customShort("H"), .long], help: ArgumentHelp("Extra header, repeatable.", valueName: "Name: value"))
    var header: [String] = []

    @Option(help: "Request body (for POST/PUT, and for the write methods of --mix).")
    var body: String?

    @Option(help: ArgumentHelp("Read/write mix by method weight, e.g. get:95,put:5 (writes use --body).", valueName: "mix"))
    var mix: String?

    @Option(help: ArgumentHelp("Event loop threads; one per core when left out (\(ProcessInfo.processInfo.activeProcessorCount) here).", valueName: "n"))
    var threads: Int?

    @Option(help: ArgumentHelp("Write the full result (HDR histograms included) as JSON.", valueName: "file"))
    var json: String?

    @Option(help: ArgumentHelp("Write a self-contained HTML report (latency, rate and hit ratio over time, percentile curve).", valueName: "file"))
    var html: String?

    @Option(help: ArgumentHelp("Pass/fail criterion, repeatable: p99<50ms, hit_ratio>0.8, errors<0.1%, rate>1000.", valueName: "expr"))
    var threshold: [String] = []

    @Option(help: ArgumentHelp("Serve the run's Prometheus metrics at http://ADDR/metrics while it runs.", valueName: "host:port"))
    var metricsListen: String?

    @Flag(name: [.short, .long], help: "Print only the final summary.")
    var quiet = false

    func validate() throws {
        guard (1...100_000).contains(connections) else { throw ValidationError("--connections must be between 1 and 100000") }
        if let rate { guard rate > 0 else { throw ValidationError("--rate must be positive") } }
        if let requests { guard requests > 0 else { throw ValidationError("--requests must be positive") } }
        if let threads { guard threads >= 1 else { throw ValidationError("--threads must be at least 1") } }
        for (flag, path) in [("--json", json), ("--html", html)] {
            if let path { try OutputFile.checkWritable(path, flag: flag) }
        }
        _ = try makePlan()
        _ = try parsedThresholds()
        if let metricsListen { _ = try ListenAddress(metricsListen) }
    }

    func run() async throws {
        let plan = try makePlan()
        let thresholds = try parsedThresholds()
        let engine = LoadEngine(plan: plan)
        let interactive = isatty(STDERR_FILENO) == 1
        let quiet = self.quiet
        let total = plan.duration
        let registry = MetricsRegistry()
        let metrics = metricsListen == nil ? nil : LoadMetrics(registry: registry, targetRate: plan.rate)
        var endpointTask: Task<Void, any Error>?
        if let metricsListen {
            let address = try ListenAddress(metricsListen)
            try ListenError.checkAvailable(host: address.host, port: address.port)
            var logger = Logger(label: "cacheload.load")
            logger.logLevel = .warning
            let endpoint = MetricsEndpoint(host: address.host, port: address.port, registry: registry, logger: logger)
            endpointTask = Task { try await endpoint.run() }
        }
        let task = Task {
            try await engine.run { progress in
                metrics?.update(progress)
                guard !quiet else { return }
                Self.printProgress(progress, total: total, interactive: interactive)
            }
        }
        // Ctrl-C / SIGTERM: stop sending, drain, and still report.
        let signals = [SIGINT, SIGTERM].map { number -> any DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler { task.cancel() }
            source.resume()
            return source
        }
        let result = try await task.value
        signals.forEach { $0.cancel() }
        endpointTask?.cancel()
        if interactive && !quiet { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }

        say(result.summary)
        if let json {
            try result.jsonData().write(to: URL(fileURLWithPath: json))
            say("wrote \(json)")
        }
        if let html {
            try result.html.write(toFile: html, atomically: true, encoding: .utf8)
            say("wrote \(html)")
        }
        var failed: [String] = []
        if !thresholds.isEmpty {
            say("\nThresholds")
            for threshold in thresholds {
                let passed = threshold.passes(result)
                if !passed { failed.append(threshold.description) }
                say("  \(passed ? "✓" : "✗") \(threshold)   (measured \(threshold.measuredText(in: result)))")
            }
        }
        if !failed.isEmpty { throw ExitCode(99) }
        let counts = result.counts
        if counts.completed == 0 || counts.errors > 0 {
            // Transport failures are the target failing, not numbers to average over: say so in the exit code.
            FileHandle.standardError.write(Data(("cacheload load: the target failed: \(counts.completed) answered, "
                + "\(counts.connectErrors) connect errors, \(counts.timeouts) timeouts, \(counts.resets) resets, "
                + "\(counts.badResponses) bad responses\n").utf8))
            throw ExitCode(1)
        }
    }

    private func makePlan() throws -> LoadPlan {
        do {
            var headers: [(String, String)] = []
            for line in header {
                guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else {
                    throw LoadOptionError("--header \"\(line)\": expected \"Name: value\"")
                }
                headers.append((String(line[..<colon]).trimmingCharacters(in: .whitespaces),
                                String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)))
            }
            let template = try RequestTemplate(url: url, method: method, headers: headers, body: body.map { Array($0.utf8) })
            let range = try Self.parseKeys(keys)
            let durationValue = try duration.map { try DurationText.parse($0, option: "--duration") }
            let schedule = try stages.map { try RateSchedule(parsing: $0, initialRate: rate ?? 0) }
            if schedule != nil && duration != nil {
                throw LoadOptionError("--stages sets the duration; leave out --duration")
            }
            var plan = LoadPlan(
                template: template, keys: range, distribution: try KeyDistribution(parsing: distribution), seed: seed,
                connections: connections, rate: rate,
                duration: durationValue ?? (requests == nil ? .seconds(10) : nil), requests: requests,
                timeout: try DurationText.parse(timeout, option: "--timeout"),
                warmup: try DurationText.parse(warmup, option: "--warmup"), threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
            if let mix {
                let shares = try RequestMix.parse(mix)
                for (method, share) in shares where method != template.method {
                    if method != "DELETE" && body == nil {
                        throw LoadOptionError("--mix \"\(mix)\": \(method) requests need --body")
                    }
                    plan.mix.append((try RequestTemplate(url: url, method: method, headers: headers + [("Content-Type", "application/json")],
                                                         body: method == "DELETE" ? nil : body.map { Array($0.utf8) }), share))
                }
            }
            if let schedule {
                plan.schedule = schedule
                plan.duration = schedule.duration
            }
            return plan
        } catch let error as LoadOptionError {
            throw ValidationError(error.message)
        }
    }

    private func parsedThresholds() throws -> [Threshold] {
        do {
            return try threshold.map { try Threshold(parsing: $0) }
        } catch let error as LoadOptionError {
            throw ValidationError(error.message)
        }
    }

    static func parseKeys(_ text: String) throws(LoadOptionError) -> ClosedRange<Int> {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        if parts.count == 1, let single = Int(parts[0]) { return single...single }
        guard parts.count == 2, let low = Int(parts[0]), let high = Int(parts[1]), low <= high else {
            throw LoadOptionError("--keys \"\(text)\": expected FROM-TO with FROM ≤ TO, e.g. 1-1005")
        }
        return low...high
    }

    static func printProgress(_ progress: LoadEngine.Progress, total: Duration?, interactive: Bool) {
        // Swift strings are interpolated, never passed to %@: Linux Foundation prints them as (null).
        let elapsed = String(format: "%3d", Int(progress.elapsed.components.seconds))
        let eta = total.map { " / \($0.components.seconds)s" } ?? ""
        let second = progress.lastSecond
        let hit = second?.hitRatio.map { String(format: "%.1f%%", $0 * 100) } ?? "-"
        let rate = String(format: "%7d", second?.responses ?? 0)
        let p99 = String(format: "%7.2f", second?.p99 ?? 0)
        let line = "[\(elapsed)s\(eta)] \(rate) req/s  p99 \(p99)ms  hit \(hit)  errors \(progress.counts.errors)  sent \(progress.counts.sent)"
        FileHandle.standardError.write(Data((interactive ? "\r\u{1B}[K" + line : line + "\n").utf8))
    }
}

struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work with saved load results.",
        subcommands: [Merge.self])

    struct Merge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Merge --json results of runs against one target (from several machines) into one.",
            discussion: "Counts add up and HDR histograms merge exactly.\n\nExample:\n  cacheload report merge a.json b.json --json all.json")

        @Argument(help: "Result files written by cacheload load --json.")
        var files: [String]

        @Option(help: ArgumentHelp("Write the merged result here.", valueName: "file"))
        var json: String?

        func validate() throws {
            guard !files.isEmpty else { throw ValidationError("give at least one result file") }
        }

        func run() async throws {
            var merged: LoadResult?
            for file in files {
                let result: LoadResult
                do {
                    result = try LoadResult.fromJSON(Data(contentsOf: URL(fileURLWithPath: file)))
                } catch {
                    throw ValidationError("\(file): not a cacheload load --json result (\(error.localizedDescription))")
                }
                if merged == nil { merged = result } else { merged!.merge(result) }
            }
            guard let merged else { return }
            say(merged.summary)
            if let json {
                try merged.jsonData().write(to: URL(fileURLWithPath: json))
                say("wrote \(json)")
            }
        }
    }
}
