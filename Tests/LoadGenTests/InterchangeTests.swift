import Foundation
import Histogram
import LoadGen
import NIOCore
import Testing
import TestSupport

/// What a run hands to other tools: the HdrHistogram interval log, read back by the PyPI
/// `hdrhistogram` package, and the latency CloudWatch receives as values/counts.
@Suite("--hdr-log and load --cloudwatch: read back by other tools")
struct InterchangeTests {
    private func temporaryDirectory() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("interchange-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    /// Every interval decoded by Python's HistogramLogReader: start, count, p50, p99, max (µs).
    private func decodedIntervals(_ log: String) throws -> [[Double]] {
        let script = """
            import json, sys
            from hdrh.histogram import HdrHistogram
            from hdrh.log import HistogramLogReader
            reader = HistogramLogReader(sys.argv[1], HdrHistogram(1, 3600000000, 2))
            rows = []
            while True:
                h = reader.get_next_interval_histogram()
                if h is None: break
                rows.append([h.get_start_time_stamp() / 1000.0, h.get_total_count(), h.get_value_at_percentile(50),
                             h.get_value_at_percentile(99), h.get_max_value()])
            print(json.dumps(rows))
            """
        let output = try TestSupport.run("/usr/bin/env", ["python3", "-c", script, log])
        return try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[Double]])
    }

    private func equivalent(_ a: Double, _ b: UInt64) -> Bool { abs(a - Double(b)) <= max(1, Double(b) * 0.01) }

    @Test("--hdr-log: one histogram per second, decoded by Python's hdrhistogram with our counts and percentiles")
    func hdrLogReadByPython() async throws {
        let server = try await StallingServer(stallAfter: .milliseconds(1200), stallFor: .milliseconds(150))
        let directory = try temporaryDirectory()
        let (status, output) = try await runCacheload(["load", "http://127.0.0.1:\(server.port)/", "--rate", "300", "-c", "2", "-d", "3s", "--quiet",
                                                 "--json", "\(directory)/run.json", "--hdr-log", "\(directory)/run.hlog"])
        #expect(status == 0, "\(output)")
        let result = try LoadResult.fromJSON(Data(contentsOf: URL(fileURLWithPath: "\(directory)/run.json")))
        let seconds = result.seconds.filter { ($0.histogram?.totalCount ?? 0) > 0 }.sorted { $0.second < $1.second }
        let decoded = try decodedIntervals("\(directory)/run.hlog")
        #expect(decoded.count == seconds.count && seconds.count >= 3, "\(decoded.count) intervals for \(seconds.count) seconds")
        let text = try String(contentsOfFile: "\(directory)/run.hlog", encoding: .utf8)
        let startTime = try #require(result.startedAt)
        #expect(text.contains("#[StartTime: \(String(format: "%.3f", startTime))"))
        for (row, sample) in zip(decoded, seconds) {
            let histogram = try #require(sample.histogram)
            #expect(abs(row[0] - (startTime + Double(sample.second))) < 0.01, "interval start \(row[0])")
            #expect(row[1] == Double(histogram.totalCount))
            #expect(equivalent(row[2], histogram.valueAtPercentile(50)), "p50 \(row[2]) vs \(histogram.valueAtPercentile(50))")
            #expect(equivalent(row[3], histogram.valueAtPercentile(99)), "p99 \(row[3]) vs \(histogram.valueAtPercentile(99))")
            #expect(equivalent(row[4], histogram.max), "max \(row[4]) vs \(histogram.max)")
        }
        // The stall (150 ms, corrected latency) is in the log as in the run.
        #expect(decoded.map { $0[4] }.max()! > 100_000)
        #expect(decoded.map { $0[1] }.reduce(0, +) == Double(result.counts.completed))
        try? FileManager.default.removeItem(atPath: directory)
        try await server.close()
    }

    @Test("--hdr-log into a missing directory: one line, exit 64, before any request")
    func hdrLogMissingDirectory() async throws {
        let server = try await StallingServer(stallAfter: nil, stallFor: .zero)
        let (status, output) = try await runCacheload(["load", "http://127.0.0.1:\(server.port)/", "--requests", "10", "--hdr-log", "/nonexistent-\(UUID())/run.hlog"])
        #expect(status == 64)
        #expect(output.contains("--hdr-log") && output.contains("does not exist"), "\(output)")
        #expect(!server.receivedAny)
        try await server.close()
    }

    @Test("load --cloudwatch: LoadRequests, LoadHits and every latency sample reach CloudWatch; its p99 is the run's")
    func loadPushesToCloudWatch() async throws {
        let server = try await StallingServer(stallAfter: nil, stallFor: .zero)
        let directory = try temporaryDirectory()
        let namespace = "CacheLoadLoad\(UUID().uuidString.prefix(6))"
        let moto = try PrivateMoto()
        let (status, output) = try await runCacheload(
            ["load", "http://127.0.0.1:\(server.port)/", "--requests", "600", "-c", "3", "--quiet", "--json", "\(directory)/run.json",
             "--cloudwatch", "--namespace", namespace, "--environment", "test"],
            environment: ["AWS_ENDPOINT_URL=\(moto.endpoint)", "AWS_REGION=\(TestServices.awsRegion)",
                          "AWS_ACCESS_KEY_ID=\(TestServices.awsAccessKeyID)", "AWS_SECRET_ACCESS_KEY=\(TestServices.awsSecretAccessKey)"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("pushed") && output.contains(namespace), "\(output)")
        let result = try LoadResult.fromJSON(Data(contentsOf: URL(fileURLWithPath: "\(directory)/run.json")))
        let requests = try await TestServices.storedMetricValues(LoadCloudWatch.Name.requests, namespace: namespace, endpoint: moto.endpoint)
        #expect(requests.reduce(0, +) == 600)
        // Every answer said X-Cache: HIT: the client's hits reach CloudWatch beside the requests.
        let hits = try await TestServices.storedMetricValues(LoadCloudWatch.Name.hits, namespace: namespace, endpoint: moto.endpoint)
        #expect(hits.reduce(0, +) == Double(result.counts.hits) && result.counts.hits == 600, "\(hits)")
        let latency = try await TestServices.storedMetricValues(LoadCloudWatch.Name.latency, namespace: namespace, endpoint: moto.endpoint).sorted()
        #expect(latency.count == 600)
        let p99 = latency[Int((0.99 * Double(latency.count)).rounded(.up)) - 1]
        let ours = Double(result.latency.valueAtPercentile(99)) / 1000
        #expect(abs(p99 - ours) <= ours * 0.1 + 0.01, "CloudWatch p99 \(p99) ms vs the run's \(ours) ms")
        try? FileManager.default.removeItem(atPath: directory)
        try await server.close()
    }
}
