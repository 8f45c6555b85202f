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
            Closed loop (each connection sends when its answer arrives) unless --rate is given; with --rate the schedule never slows down for a slow target and latency is measured from each request's intended start (no coordinated omission).

            Examples:
              cacheload load 'http://127.0.0.1:8080/product/{key}' -c 1000 -d 30s
              cacheload load 'http://127.0.0.1:8080/product/{key}' --rate 10000 \\
                  -c 1000 --keys 1-1005 --distribution zipf:0.99 \\
                  --threshold 'p99<10ms' --threshold 'hit_ratio>0.8'
              cacheload load http://127.0.0.1:8080/ --requests 100 -c 1 --json page.json
              cacheload load 'http://127.0.0.1:8080/product/{key}' \\
                  --stages 30s:100,1m:1000,30s:0 -c 1000 --html ramp.html
              cacheload load 'http://127.0.0.1:8080/product/{key}' --keys 1-100 \\
                  --mix get:95,put:5 --body '{"name":"Load test","price":9.99}' \\
                  -H "Authorization: Bearer $TOKEN"

            Exit codes: 0 done; 99 a --threshold failed (a threshold on no data fails); 1 the target failed (nothing answered, or connections refused, reset or timed out — counted by kind in the summary); 64 a usage error, caught before the first request.
            """)

    @Argument(help: ArgumentHelp("Target URL, http:// or https://; {key} is replaced by a key from --keys.", valueName: "url"))
    var url: String

    @Option(help: ArgumentHelp("PEM CA certificates to verify an https:// target against (default: the system's trust store).", valueName: "file"))
    var cacert: String?

    @Flag(help: "Accept any certificate from an https:// target (self-signed test targets only).")
    var insecure = false

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
        if let metricsListen { _ = try ListenAddress.parse(metricsListen, option: "--metrics-listen") }
    }

    func run() async throws {
        let plan = try makePlan()
        let thresholds = try parsedThresholds()
        let interactive = isatty(STDERR_FILENO) == 1
        let quiet = self.quiet
        let registry = MetricsRegistry()
        let metrics = metricsListen == nil ? nil : LoadMetrics(registry: registry, targetRate: plan.rate)
        let endpoint = try startMetricsEndpoint(registry)
        let task = Task {
            try await LoadEngine(plan: plan).run { progress in
                metrics?.update(progress)
                guard !quiet else { return }
                Self.printProgress(progress, total: plan.duration, interactive: interactive)
            }
        }
        // Ctrl-C / SIGTERM: stop sending, drain, and still report.
        let interrupts = await Interrupts.onFirst { task.cancel() }
        let result = try await task.value
        interrupts.cancel()
        endpoint?.cancel()
        if interactive && !quiet { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        try report(result, thresholds: thresholds)
    }

    /// `--metrics-listen`: checked before the run (a busy port is an error, not a silent miss).
    private func startMetricsEndpoint(_ registry: MetricsRegistry) throws -> Task<Void, any Error>? {
        guard let metricsListen else { return nil }
        let address = try ListenAddress.parse(metricsListen, option: "--metrics-listen")
        try address.checkAvailable()
        var logger = Logger(label: "cacheload.load")
        logger.logLevel = .warning
        let endpoint = MetricsEndpoint(host: address.host, port: address.port, registry: registry, logger: logger)
        return Task { try await endpoint.run() }
    }

    /// The summary, the files, the thresholds — and the exit code they decide (README, "Exit codes").
    private func report(_ result: LoadResult, thresholds: [Threshold]) throws {
        say(result.summary)
        if let json {
            try result.jsonData(thresholds: thresholds).write(to: URL(fileURLWithPath: json))
            say("wrote \(json)")
        }
        if let html {
            try result.html.write(toFile: html, atomically: true, encoding: .utf8)
            say("wrote \(html)")
        }
        if !thresholds.isEmpty { say("\nThresholds") }
        var failed = false
        for threshold in thresholds {
            let passed = threshold.passes(result)
            failed = failed || !passed
            say("  \(passed ? "✓" : "✗") \(threshold)   (measured \(threshold.measuredText(in: result)))")
        }
        if failed { throw ExitCode(99) }
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
        var options = LoadOptions(url: url, threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
        options.method = method
        options.headers = header
        options.body = body
        options.mix = mix
        options.keys = keys
        options.distribution = distribution
        options.seed = seed
        options.connections = connections
        options.rate = rate
        options.stages = stages
        options.duration = duration
        options.requests = requests
        options.timeout = timeout
        options.warmup = warmup
        options.caFile = cacert
        options.insecure = insecure
        do {
            return try options.plan()
        } catch {
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

    static func printProgress(_ progress: LoadEngine.Progress, total: Duration?, interactive: Bool) {
        let line = progress.line(total: total)
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
