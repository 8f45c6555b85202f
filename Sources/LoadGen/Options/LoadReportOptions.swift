import ArgumentParser
import Foundation
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

    @OptionGroup package var cloudWatch: LoadCloudWatch

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
            try OutputFile.checkWritable(json, flag: "--json")
        }
        if let html { try OutputFile.checkWritable(html, flag: "--html") }
        if let hdrLog { try OutputFile.checkWritable(hdrLog, flag: "--hdr-log") }
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
        let cloudWatchFailure = await cloudWatch.push(result, say: say)
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
            + "\(counts.timeouts) timeouts, \(counts.resets) resets, \(counts.badResponses) bad responses, \(counts.tlsErrors) TLS errors")
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
        // access() says yes to root everywhere, /proc included: create the file for real (and
        // remove it again), so a path that cannot hold a file fails now, not after the run.
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard descriptor >= 0 else { throw ValidationError("\(flag) \(path): cannot be created (\(String(cString: strerror(errno))))") }
        close(descriptor)
        unlink(path)
    }

    /// Writes `data` to `path`, or throws an error that names the path and the system's reason.
    package static func write(_ data: Data, to path: String, flag: String) throws(OutputFileError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw OutputFileError("\(flag) \(path): cannot be written (\(String(cString: strerror(errno))))") }
        defer { close(descriptor) }
        var written = 0
        while written < data.count {
            let result = data.withUnsafeBytes { bytes in Glibc.write(descriptor, bytes.baseAddress! + written, bytes.count - written) }
            guard result > 0 else { throw OutputFileError("\(flag) \(path): writing failed (\(String(cString: strerror(errno))))") }
            written += result
        }
    }

    /// Reads `path` whole, or throws an error that names it and the system's reason.
    package static func read(_ path: String) throws(OutputFileError) -> Data {
        guard let data = FileManager.default.contents(atPath: path) else {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            throw OutputFileError("\(path): " + (!exists ? "no such file" : isDirectory.boolValue ? "is a directory" : "cannot be read (permissions?)"))
        }
        return data
    }
}

/// A file that could not be written or read: the path and the reason, in one line.
package struct OutputFileError: Error, CustomStringConvertible, Sendable {
    package let description: String
    init(_ description: String) { self.description = description }
}

/// Results of one split run read back for `report merge`: merged exactly, checked for being one
/// plan, and told apart from an incomplete run.
package struct LoadMerge {
    package var result: LoadResult
    /// Segments of the run that no result was found for (a dead or late machine).
    package var missing: [Int]
    /// Segments that were stopped before their schedule ended (their result says `interrupted`).
    package var interruptedSegments: [Int] = []
    /// The merged segments' plan, when they carried one.
    package var planID: String?
    /// How many results were merged.
    package var sources: Int

    /// A split run with segments missing: what to tell (exit 1, as for any run not done).
    package struct Incomplete: Error, CustomStringConvertible {
        package let missing: [Int]
        package let count: Int
        /// Segments whose result says they were stopped (Ctrl-C, SIGTERM) before their schedule ended.
        package var interrupted: [Int] = []
        package var description: String {
            var reasons: [String] = []
            if !missing.isEmpty {
                reasons.append("no result for segment \(missing.map(String.init).joined(separator: ", ")) of \(count) (a machine that died or is late)")
            }
            if !interrupted.isEmpty {
                reasons.append("segment \(interrupted.map(String.init).joined(separator: ", ")) of \(count) was interrupted before its schedule ended")
            }
            return "incomplete run: " + reasons.joined(separator: "; ") + "; nothing judged as the whole run"
        }
    }

    /// Merges `documents` (`cacheload load --json` results).
    /// - Parameter expectedSegments: the run's segment count when known (`--segments`), so
    ///   segments are named missing even when none arrived.
    /// - Throws: `ValidationError` for a document that is no result, results of different plans,
    ///   a segment given twice, or whole runs mixed with segments; ``Incomplete`` when nothing arrived.
    package init(_ documents: [(source: String, data: Data)], expectedSegments: Int? = nil) throws {
        if documents.isEmpty, let expectedSegments, expectedSegments > 0 {
            throw Incomplete(missing: Array(1...expectedSegments), count: expectedSegments)
        }
        var results: [(source: String, result: LoadResult)] = []
        for (source, data) in documents {
            do {
                results.append((source, try LoadResult.fromJSON(data)))
            } catch {
                throw ValidationError("\(source): not a cacheload load --json result (\(error.localizedDescription))")
            }
        }
        guard var merged = results.first?.result else { throw ValidationError("no results to merge") }
        let segments = results.compactMap(\.result.segment)
        guard segments.isEmpty || segments.count == results.count, Set(segments.map(\.count)).count <= 1 else {
            throw ValidationError("whole runs and segments (or segments of different splits) cannot be merged as one run")
        }
        // Segments are parts of one plan; whole runs (by hand, against one target) may differ.
        let plans = Dictionary(grouping: results, by: { $0.result.planID ?? "" })
        guard segments.isEmpty || plans.count == 1 else {
            let examples = plans.map { "\($0.value[0].source) (plan \($0.key.isEmpty ? "unknown" : $0.key))" }.sorted()
            throw ValidationError("results of different plans: \(examples.joined(separator: ", ")); merge the segments of one run only")
        }
        for (index, group) in Dictionary(grouping: results, by: { $0.result.segment?.index ?? 0 }) where index > 0 && group.count > 1 {
            throw ValidationError("segment \(index) appears twice (\(group.map(\.source).joined(separator: ", "))); give each segment once")
        }
        for other in results.dropFirst() { merged.merge(other.result) }
        let starts = results.compactMap(\.result.startedAt)
        merged.startedAt = starts.min()
        merged.startSkewSeconds = starts.isEmpty ? nil : starts.max()! - starts.min()!
        merged.mergedSegments = segments.isEmpty ? nil : segments.sorted { $0.index < $1.index }
        merged.segment = nil
        let count = segments.first?.count ?? expectedSegments ?? 0
        if let expectedSegments, let split = segments.first?.count, split != expectedSegments {
            throw ValidationError("the results are segments of a \(split)-way split, not of \(expectedSegments) (--segments)")
        }
        missing = count == 0 ? [] : Array(Set(1...count).subtracting(segments.map(\.index))).sorted()
        interruptedSegments = results.filter { $0.result.interrupted }.compactMap(\.result.segment?.index).sorted()
        planID = results[0].result.planID
        sources = results.count
        result = merged
    }

    /// The run's missing segments as an error to end with; `nil` when none is missing.
    package var incomplete: Incomplete? {
        guard !missing.isEmpty || !interruptedSegments.isEmpty else { return nil }
        var incomplete = Incomplete(missing: missing, count: result.mergedSegments?.first?.count ?? missing.count)
        incomplete.interrupted = interruptedSegments
        return incomplete
    }

    /// `merged segments 1, 2, 3 of 3 (plan 1a2b…), started within 2.1 ms of each other`.
    package var description: String {
        guard let segments = result.mergedSegments, let count = segments.first?.count else { return "merged \(sources) results" }
        var text = "merged segments \(segments.map { "\($0.index)" }.joined(separator: ", ")) of \(count)"
        if let planID { text += " (plan \(planID))" }
        if let skew = result.startSkewSeconds { text += String(format: ", started within %.1f ms of each other", skew * 1000) }
        return text
    }
}
