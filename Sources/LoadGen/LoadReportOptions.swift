import ArgumentParser
import Foundation

/// What a run leaves behind — `--json`, `--html`, `--threshold` — and the verdict they give.
package struct LoadReportOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Write the full result (HDR histograms included) as JSON.", valueName: "file"))
    package var json: String?

    @Option(help: ArgumentHelp("Write a self-contained HTML report (latency, rate and hit ratio over time, percentile curve).", valueName: "file"))
    package var html: String?

    @Option(help: ArgumentHelp("Pass/fail criterion, repeatable: p99<50ms, hit_ratio>0.8, errors<0.1%, rate>1000.", valueName: "expr"))
    package var threshold: [String] = []

    package init() {}

    /// How a finished run ends, in the exit codes of the README's table.
    package enum Verdict: Equatable, Sendable {
        /// Exit 0.
        case passed
        /// Exit 99: a `--threshold` failed.
        case thresholdFailed
        /// Exit 1: nothing answered, or transport failures; the text says which.
        case targetFailed(String)
    }

    package func validate() throws {
        for (flag, path) in [("--json", json), ("--html", html)] {
            if let path { try OutputFile.checkWritable(path, flag: flag) }
        }
        _ = try thresholds()
    }

    package func thresholds() throws -> [Threshold] {
        do {
            return try threshold.map { try Threshold(parsing: $0) }
        } catch let error as LoadOptionError {
            throw ValidationError(error.message)
        }
    }

    /// Prints the summary, writes the files, judges the thresholds.
    package func conclude(_ result: LoadResult, say: (String) -> Void) throws -> Verdict {
        let thresholds = try thresholds()
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
        if failed { return .thresholdFailed }
        let counts = result.counts
        // Transport failures are the target failing, not numbers to average over.
        guard counts.completed == 0 || counts.errors > 0 else { return .passed }
        return .targetFailed("the target failed: \(counts.completed) answered, \(counts.connectErrors) connect errors, "
            + "\(counts.timeouts) timeouts, \(counts.resets) resets, \(counts.badResponses) bad responses")
    }
}

/// Files a run writes at its end (`--json`, `--html`): checked before the first request, so a
/// typo in a directory costs a usage error (exit 64), not a whole run.
package enum OutputFile {
    /// - Throws: `ValidationError` naming the flag and what is wrong with the path.
    package static func checkWritable(_ path: String, flag: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard !isDirectory.boolValue else { throw ValidationError("\(flag) \(path): is a directory; give a file name") }
            guard access(path, W_OK) == 0 else { throw ValidationError("\(flag) \(path): the file exists and cannot be written") }
            return
        }
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("\(flag) \(path): directory \(directory) does not exist (create it first)")
        }
        guard access(directory, W_OK) == 0 else { throw ValidationError("\(flag) \(path): directory \(directory) is not writable") }
    }
}

extension LoadResult {
    /// The results in `files` (written by `cacheload load --json`) merged into one: counts add
    /// up, HDR histograms merge exactly.
    /// - Throws: `ValidationError` naming a file that is not such a result.
    package static func merged(files: [String]) throws -> LoadResult? {
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
        return merged
    }
}
