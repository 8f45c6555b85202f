import Foundation
import Histogram
import LoadGen
import Testing
import TestSupport

/// A run split over machines (`--segment I/N`, `--start-at`) is the one-machine run, cut exactly.
@Suite("Execution segments and synchronised starts")
struct SegmentTests {
    @Test("segments are disjoint and cover the plan: scheduled requests, connections and --requests, for many splits")
    func segmentsPartitionThePlan() throws {
        for count in 1...7 {
            let segments = (1...count).map { LoadSegment(index: $0, count: count) }
            for total in [0, 1, 2, 5, 99, 1000, 1001] {
                #expect(segments.map { $0.share(of: total) }.reduce(0, +) == total, "\(count) segments of \(total)")
                var seen = Set<Int>()
                for segment in segments {
                    for m in 0..<segment.share(of: total) {
                        let k = segment.globalIndex(m)
                        #expect(k < total && segment.owns(k))
                        #expect(seen.insert(k).inserted, "item \(k) given twice")
                    }
                }
                #expect(seen.count == total)
            }
        }
        // The schedule: segment s sends request k of the whole schedule at the whole schedule's time.
        let schedule = try RateSchedule(parsing: "2s:100,3s:3000,1s:0")
        let whole = (0..<20_000).compactMap { schedule.time(ofRequest: $0) }
        var split: [Double] = []
        let segments = (1...3).map { LoadSegment(index: $0, count: 3) }
        for segment in segments {
            var m = 0
            while let due = schedule.time(ofRequest: segment.globalIndex(m)) { split.append(due); m += 1 }
        }
        #expect(split.sorted() == whole, "the union of the segments' schedules is the schedule")
    }

    @Test("bad --segment and --start-at are one-line usage errors (exit 64)")
    func badSegmentsAndStarts() async throws {
        let url = "http://127.0.0.1:9/product/{key}"
        let past = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-60))
        let cases: [([String], String)] = [
            (["--segment", "4/3"], "I must be between 1 and 3"),
            (["--segment", "0/3"], "I must be between 1 and 3"),
            (["--segment", "two"], "expected I/N"),
            (["--segment", "3/3", "-c", "2"], "fewer than 3 segments"),
            (["--start-at", past], "is in the past"),
            (["--start-at", "+2h"], "more than an hour ahead"),
            (["--start-at", "tomorrow"], "expected a UTC time"),
        ]
        for (arguments, message) in cases {
            let (status, output) = try await runCacheload(["load", url] + arguments)
            #expect(status == 64, "\(arguments): \(output)")
            #expect(output.contains(message), "\(arguments): \(output)")
            #expect(output.split(separator: "\n").first?.contains(message) == true, "one line first: \(output)")
        }
    }

    @Test("three segments started together at 3000 req/s: the whole schedule exactly once (sent or reported unsent), percentiles of the added histograms")
    func threeSegmentsAddUp() async throws {
        let server = try await TestServer.start()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("segments-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let start = formatter.string(from: Date().addingTimeInterval(2))
        let pids = try (1...3).map { index in
            try spawn(TestServices.cacheloadBinary, [
                "load", server.baseURL + "/product/{key}", "--rate", "3000", "-c", "30", "-d", "3s", "--segment", "\(index)/3",
                "--start-at", start, "--json", directory.appendingPathComponent("segment-\(index).json").path, "--quiet",
            ], outputPath: directory.appendingPathComponent("segment-\(index).log").path)
        }
        defer { pids.forEach(stopIfRunning) }
        for (index, pid) in pids.enumerated() {
            let log = { (try? String(contentsOf: directory.appendingPathComponent("segment-\(index + 1).log"), encoding: .utf8)) ?? "" }
            #expect(await exitStatus(of: pid, within: 30) == 0, "\(log())")
        }
        let segments = try (1...3).map { try LoadResult.fromJSON(Data(contentsOf: directory.appendingPathComponent("segment-\($0).json"))) }
        // Behaviour, not speed: each segment accounts for its third of the schedule — what a busy
        // machine could not send is reported as unsent, never lost or sent twice.
        #expect(segments.map { $0.counts.sent + $0.counts.unsent } == [3000, 3000, 3000], "each segment's third of the schedule")
        #expect(segments.allSatisfy { $0.counts.sent > 0 })
        #expect(segments.map(\.connections) == [10, 10, 10])
        #expect(Set(segments.compactMap(\.planID)).count == 1)

        let merged = try await runCacheload(["report", "merge"] + (1...3).map { directory.appendingPathComponent("segment-\($0).json").path }
                                      + ["--json", directory.appendingPathComponent("merged.json").path])
        #expect(merged.status == 0, "\(merged.output)")
        #expect(merged.output.contains("merged segments 1, 2, 3 of 3"), "\(merged.output)")
        let result = try LoadResult.fromJSON(Data(contentsOf: directory.appendingPathComponent("merged.json")))
        let schedule = RateSchedule(constant: 3000)
        #expect(result.counts.sent + result.counts.unsent == Int(schedule.expectedCount(within: 3).rounded()), "the whole schedule, once")
        #expect(result.counts.sent == segments.reduce(0) { $0 + $1.counts.sent })
        var added = segments[0].latency
        added.add(segments[1].latency)
        added.add(segments[2].latency)
        for percentile in [50.0, 99.0, 99.9] {
            #expect(result.latency.valueAtPercentile(percentile) == added.valueAtPercentile(percentile))
        }
        let skew = try #require(result.startSkewSeconds)
        #expect(skew < 0.05, "started \(skew * 1000) ms apart")
        await server.stop()
    }

    @Test("a segment stopped while it waited for --start-at is no delivered segment: the merge names it and exits 1")
    func interruptedSegmentIsIncomplete() async throws {
        let server = try await TestServer.start()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("interrupted-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = server.baseURL + "/product/{key}"
        let path = { (index: Int) in directory.appendingPathComponent("segment-\(index).json").path }
        let log = directory.appendingPathComponent("segment-1.log").path
        // Both segments of one plan (one start time); segment 1 is stopped before it comes.
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let start = formatter.string(from: Date().addingTimeInterval(4))
        let waiting = try spawn(TestServices.cacheloadBinary, ["load", url, "--rate", "100", "-c", "4", "-d", "1s", "--segment", "1/2",
                                                               "--start-at", start, "--json", path(1)], outputPath: log)
        defer { stopIfRunning(waiting) }
        // Interrupted once it says it waits for its start (the banner), not after a guessed pause.
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, !((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("starting at") {
            try await Task.sleep(for: .milliseconds(20))
        }
        kill(waiting, SIGINT)
        _ = await exitStatus(of: waiting, within: 20)
        let ran = try await runCacheload(["load", url, "--rate", "100", "-c", "4", "-d", "1s", "--segment", "2/2", "--start-at", start,
                                          "--json", path(2), "--quiet"])
        #expect(ran.status == 0, "\(ran.output)")
        let merged = try await runCacheload(["report", "merge", path(1), path(2), "--segments", "2", "--threshold", "errors<1%"])
        #expect(merged.status == 1, "\(merged.output)")
        #expect(merged.output.contains("segment 1 of 2 was interrupted before its schedule ended"), "\(merged.output)")
        await server.stop()
    }

    @Test("merging a closed-loop and a constant-rate result: the uncorrected percentiles cover both, and the mode says merged")
    func mixedSchedulesMerge() async throws {
        let server = try await TestServer.start()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mixed-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = server.baseURL + "/product/{key}"
        let closed = directory.appendingPathComponent("closed.json").path, open = directory.appendingPathComponent("open.json").path
        #expect(try await runCacheload(["load", url, "--requests", "400", "-c", "4", "--json", closed, "--quiet"]).status == 0)
        #expect(try await runCacheload(["load", url, "--rate", "200", "-c", "4", "-d", "1s", "--json", open, "--quiet"]).status == 0)
        let mergedPath = directory.appendingPathComponent("merged.json").path
        let merged = try await runCacheload(["report", "merge", closed, open, "--json", mergedPath])
        #expect(merged.status == 0, "\(merged.output)")
        #expect(merged.output.contains("closed-loop and constant-rate results merged"), "\(merged.output)")
        let result = try LoadResult.fromJSON(Data(contentsOf: URL(fileURLWithPath: mergedPath)))
        #expect(result.targetRate == nil && result.mixedSchedules == true)
        #expect(result.uncorrectedLatency?.totalCount == result.latency.totalCount, "uncorrected covers \(result.uncorrectedLatency?.totalCount ?? 0) of \(result.latency.totalCount)")
        await server.stop()
    }
}
