import ArgumentParser
import Foundation
import LoadGen
import Telemetry

/// What a run leaves behind — `--json`, `--html`, `--threshold` — and the verdict they give.
package struct LoadReportOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Write the full result (HDR histograms included) as JSON, to a file or to s3://bucket/key.", valueName: "file"))
    package var json: String?

    @Option(help: ArgumentHelp("Write a self-contained HTML report (latency, rate and hit ratio over time, percentile curve).", valueName: "file"))
    package var html: String?

    @Option(help: ArgumentHelp("Write the per-second latency histograms as an HdrHistogram interval log (HistogramLogProcessor, the HdrHistogram plotter, Python's hdrhistogram).", valueName: "file"))
    package var hdrLog: String?

    @Option(help: ArgumentHelp("Pass/fail criterion, repeatable: p99<50ms, hit_ratio>0.8, errors<0.1%, rate>1000.", valueName: "expr"))
    package var threshold: [String] = []

    @OptionGroup package var cloudWatch: LoadCloudWatchOptions

    package init() {}

    /// How a finished run ends, in the exit codes of the README's table.
    package enum Verdict: Equatable, Sendable {
        /// Exit 0.
        case passed
        /// Exit 99: a `--threshold` failed.
        case thresholdFailed
        /// Exit 1: nothing answered, or transport failures; the text says which.
        case targetFailed(String)

        /// Ends the process as the README's exit-code table says, unless the run passed: 130
        /// for a run stopped by Ctrl-C or SIGTERM (the report covers what ran, the run itself
        /// did not finish, as a shell's Ctrl-C), then the verdict's own status.
        package func exitUnlessPassed(command: String, interrupted: Bool = false) throws {
            if interrupted {
                FileHandle.standardError.write(Data("cacheload \(command): interrupted; the report above covers what ran before the stop\n".utf8))
                throw ExitCode(130)
            }
            switch self {
            case .passed: return
            case .thresholdFailed: throw ExitCode(99)
            case .targetFailed(let reason):
                FileHandle.standardError.write(Data("cacheload \(command): \(reason)\n".utf8))
                throw ExitCode(1)
            }
        }
    }

    package func validate() throws {
        if let json, case .s3(let bucket, let key) = LoadResultLocation(json) {
            guard !bucket.isEmpty, !key.isEmpty, !key.hasSuffix("/") else {
                throw ValidationError("--json \(json): expected s3://bucket/key.json")
            }
        } else if let json {
            try Self.checkWritable(json, flag: "--json")
        }
        if let html { try Self.checkWritable(html, flag: "--html") }
        if let hdrLog { try Self.checkWritable(hdrLog, flag: "--hdr-log") }
        _ = try thresholds()
    }

    /// ``OutputFile/checkWritable(_:flag:)``, its refusal a usage error (exit 64).
    private static func checkWritable(_ path: String, flag: String) throws {
        do {
            try OutputFile.checkWritable(path, flag: flag)
        } catch let error as LoadInputError {
            throw ValidationError(error.description)
        }
    }

    /// `report merge`'s results as one run (``LoadMerge``); results that cannot be merged are a
    /// usage error (exit 64), as the files given are the command's input.
    package func merge(_ documents: [(source: String, data: Data)], expectedSegments: Int?) throws -> LoadMerge {
        do {
            return try LoadMerge(documents, expectedSegments: expectedSegments)
        } catch let error as LoadInputError {
            throw ValidationError(error.description)
        }
    }

    package func thresholds() throws -> [Threshold] {
        try usage { () throws(OptionValueError) in try threshold.map { text throws(OptionValueError) in try Threshold(parsing: text) } }
    }

    /// Prints the summary, writes the files, judges the thresholds.
    package func conclude(_ result: LoadResult, store: LoadResultStore, say: (String) -> Void) async throws -> Verdict {
        let thresholds = try thresholds()
        say(result.summary)
        if let json {
            try await store.write(try result.jsonData(thresholds: thresholds), to: LoadResultLocation(json))
            say("wrote \(json)")
        }
        if let html {
            try OutputFile.write(Data(result.html.utf8), to: html, flag: "--html")
            say("wrote \(html)")
        }
        if let hdrLog {
            try OutputFile.write(Data(HdrIntervalLog.text(of: result).utf8), to: hdrLog, flag: "--hdr-log")
            say("wrote \(hdrLog)")
        }
        let cloudWatchFailure = await cloudWatch.push(result, credentials: store.chain, say: say)
        if !thresholds.isEmpty { say("\nThresholds") }
        var failed = false
        for threshold in thresholds {
            let passed = threshold.passes(result)
            failed = failed || !passed
            say("  \(passed ? "✓" : "✗") \(threshold)   (measured \(threshold.measuredText(in: result)))")
        }
        if failed { return .thresholdFailed }
        if let cloudWatchFailure { return .targetFailed(cloudWatchFailure) }
        let counts = result.counts
        // Transport failures are the target failing, not numbers to average over.
        guard counts.completed == 0 || counts.errors > 0 else { return .passed }
        return .targetFailed("the target failed: \(counts.completed) answered, \(counts.connectErrors) connect errors, "
            + "\(counts.timeouts) timeouts, \(counts.resets) resets, \(counts.badResponses) bad responses, \(counts.tlsErrors) TLS errors"
            + (counts.streamResets > 0 ? ", \(counts.streamResets) stream resets" : ""))
    }
}
