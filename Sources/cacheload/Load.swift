import ArgumentParser
import CommandOptions
import Foundation
import LoadGen
import Server
import Telemetry

struct Load: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Drive an HTTP target and report latency, throughput and the cache hit ratio.",
        discussion: """
            Closed loop (each connection sends when its answer arrives) unless --rate is given; with --rate the schedule never slows down for a slow target and latency is measured from each request's intended start (no coordinated omission).

            Examples:
              cacheload load 'http://127.0.0.1:8080/product/{key}' -c 1000 -d 30s --live
              cacheload load 'http://127.0.0.1:8080/product/{key}' --rate 10000 \\
                  -c 1000 --keys 1-1005 --distribution zipf:0.99 \\
                  --threshold 'p99<10ms' --threshold 'hit_ratio>0.8'
              cacheload load http://127.0.0.1:8080/ --requests 100 -c 1 --json page.json
              cacheload load 'https://127.0.0.1:8443/product/{key}' --http 2 --streams 50
              cacheload load 'http://127.0.0.1:8080/product/{key}' \\
                  --stages 30s:100,1m:1000,30s:0 -c 1000 --html ramp.html
              cacheload load 'http://127.0.0.1:8080/product/{key}' --keys 1-100 \\
                  --mix get:95,put:5 --body '{"name":"Load test","price":9.99}' \\
                  -H "Authorization: Bearer $TOKEN"

            Exit codes: 0 done; 99 a --threshold failed (a threshold on no data fails); 1 the target failed (nothing answered, or connections refused, reset or timed out — counted by kind in the summary), or -c needs more open files than the hard limit (the soft one is raised as needed), or a target host does not resolve, or it does not speak the HTTP asked (--http 2, --h2c); 64 a usage error, caught before the first request.
            """)

    @OptionGroup var options: LoadOptions

    @OptionGroup var reports: LoadReportOptions

    @Option(help: ArgumentHelp("Serve the run's Prometheus metrics at http://ADDR/metrics while it runs.", valueName: "host:port"))
    var metricsListen: String?

    @Flag(name: [.short, .long], help: "Print only the final summary.")
    var quiet = false

    @Flag(help: "A full-screen live view (rate, p50/p99, hit ratio, errors, a sparkline each); progress lines when stdout is not a terminal.")
    var live = false

    func validate() throws {
        if let metricsListen { _ = try ListenAddress.parse(metricsListen, option: "--metrics-listen") }
        if live && quiet { throw ValidationError("--live and --quiet exclude each other: --live shows the run, --quiet hides it") }
    }

    func run() async throws {
        let plan = try options.plan()
        let store = LoadResultStore()
        if let json = reports.json { try await store.checkReachable(LoadResultLocation(json)) }
        let interactive = isatty(STDERR_FILENO) == 1
        let quiet = self.quiet
        let registry = MetricsRegistry()
        let metrics = metricsListen == nil ? nil : LoadMetrics(registry: registry, targetRate: plan.rate)
        let endpoint = try metricsListen.map { try MetricsEndpoint.startInBackground(at: try ListenAddress.parse($0, option: "--metrics-listen"), registry: registry) }
        let view = live && LiveView.canDraw ? LiveView(plan: plan) : nil
        defer { view?.finish() }  // the terminal gets its screen back even when the run fails
        let task = Task {
            try await LoadEngine(plan: plan).run { progress in
                metrics?.update(progress)
                if let view { return view.update(progress) }
                guard !quiet else { return }
                progress.write(total: plan.duration, interactive: interactive)
            }
        }
        // Ctrl-C / SIGTERM: stop sending, drain, and still report — trapped before the banner, so
        // an interrupt the moment it is printed (a --start-at wait) still writes the result.
        let interrupts = await Interrupts.onFirst { task.cancel() }
        if let banner = plan.startBanner { say(banner) }
        let result = try await task.value
        interrupts.cancel()
        await endpoint?.stop()
        view?.finish()
        if interactive && !quiet && view == nil { LoadEngine.Progress.clearLine() }
        let verdict = try await reports.conclude(result, store: store, say: say)
        await store.shutdown()
        try verdict.exitUnlessPassed(command: "load", interrupted: result.interrupted)
    }
}

struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work with saved load results.",
        subcommands: [Merge.self])

    struct Merge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Merge --json results of one run split over machines (or of runs against one target) into one, and judge it.",
            discussion: """
                Counts add up and HDR histograms merge exactly. Segments of a split run (load --segment) must share one plan; a missing segment, or one interrupted before its schedule ended, is named and the run judged incomplete (exit 1); closed-loop and constant-rate results merge with the uncorrected percentiles of both. --threshold judges the merged run (exit 99).

                Examples:
                  cacheload report merge a.json b.json --json all.json
                  cacheload report merge s3://my-results/run-42/ --threshold 'p99<50ms'
                """)

        @Argument(help: "Result files written by cacheload load --json, or s3://bucket/prefix/ holding them.")
        var files: [String]

        @Option(help: "How many segments the run had: any without a result is named, even when none arrived.")
        var segments: Int?

        @OptionGroup var reports: LoadReportOptions

        func validate() throws {
            guard !files.isEmpty else { throw ValidationError("give at least one result file") }
        }

        func run() async throws {
            let store = LoadResultStore()
            var documents: [(source: String, data: Data)] = []
            for file in files { documents += try await store.read(LoadResultLocation(file)) }
            if documents.isEmpty && segments == nil { throw CommandFailure("\(files.joined(separator: ", ")): no .json results there") }
            let merge = try reports.merge(documents, expectedSegments: segments)
            say(merge.description)
            let verdict = try await reports.conclude(merge.result, store: store, say: say)
            await store.shutdown()
            if let incomplete = merge.incomplete { throw incomplete }
            try verdict.exitUnlessPassed(command: "report merge")
        }
    }
}
