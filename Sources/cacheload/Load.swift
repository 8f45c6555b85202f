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

    @OptionGroup var options: LoadOptions

    @OptionGroup var reports: LoadReportOptions

    @Option(help: ArgumentHelp("Serve the run's Prometheus metrics at http://ADDR/metrics while it runs.", valueName: "host:port"))
    var metricsListen: String?

    @Flag(name: [.short, .long], help: "Print only the final summary.")
    var quiet = false

    func validate() throws {
        if let metricsListen { _ = try ListenAddress.parse(metricsListen, option: "--metrics-listen") }
    }

    func run() async throws {
        let plan = try options.plan()
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
        switch try reports.conclude(result, say: say) {
        case .passed: return
        case .thresholdFailed: throw ExitCode(99)
        case .targetFailed(let reason):
            FileHandle.standardError.write(Data("cacheload load: \(reason)\n".utf8))
            throw ExitCode(1)
        }
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
            guard let merged = try LoadResult.merged(files: files) else { return }
            say(merged.summary)
            if let json {
                try merged.jsonData().write(to: URL(fileURLWithPath: json))
                say("wrote \(json)")
            }
        }
    }
}
