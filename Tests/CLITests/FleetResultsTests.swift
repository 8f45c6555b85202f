import AWS
import Foundation
import Testing
import TestSupport

/// Segments of one run writing their results to S3 (the local one, signatures checked) and
/// `report merge s3://…` reading them back and judging the run once.
@Suite("Split runs: results on S3, merged and judged once", .serialized)
struct FleetResultsTests {
    private var aws: [String] {
        TestServices.awsEnvironment
    }

    /// Runs segments `indices` of a 3-way split at `rate`, writing to s3://bucket/prefix/segment-I.json.
    private func runSegments(_ indices: [Int], of url: String, rate: Int, bucket: String, prefix: String) async throws {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let start = formatter.string(from: Date().addingTimeInterval(1.5))
        let pids = try indices.map { index in
            try spawn("/usr/bin/env", aws + [TestServices.cacheloadBinary, "load", url, "--rate", "\(rate)", "-c", "6", "-d", "1s",
                                             "--segment", "\(index)/3", "--start-at", start, "-q",
                                             "--json", "s3://\(bucket)/\(prefix)/segment-\(index).json"])
        }
        defer { pids.forEach(stopIfRunning) }
        for pid in pids { #expect(await exitStatus(of: pid, within: 30) == 0) }
    }

    @Test("three segments to S3, merged from the prefix; a missing segment named (exit 1); another plan refused (64); thresholds on the whole (99)")
    func segmentsOnS3() async throws {
        let server = try await TestServer.start()
        let bucket = try await TestBuckets.create("cacheload-results")
        let url = server.baseURL + "/product/{key}"
        try await runSegments([1, 2, 3], of: url, rate: 600, bucket: bucket, prefix: "run-1")

        let whole = try await runCacheload(["report", "merge", "s3://\(bucket)/run-1/", "--json", "s3://\(bucket)/run-1-merged.json"], environment: aws)
        #expect(whole.status == 0, "\(whole.output)")
        #expect(whole.output.contains("merged segments 1, 2, 3 of 3"), "\(whole.output)")
        #expect(whole.output.contains("wrote s3://\(bucket)/run-1-merged.json"))

        // Segment 2 died: its result never arrived.
        try await runSegments([1, 3], of: url, rate: 600, bucket: bucket, prefix: "run-2")
        let incomplete = try await runCacheload(["report", "merge", "s3://\(bucket)/run-2/"], environment: aws)
        #expect(incomplete.status == 1, "\(incomplete.output)")
        #expect(incomplete.output.contains("no result for segment 2 of 3"), "\(incomplete.output)")

        // A segment of another plan (another rate) under the same prefix.
        try await runSegments([2], of: url, rate: 300, bucket: bucket, prefix: "run-2")
        let mixed = try await runCacheload(["report", "merge", "s3://\(bucket)/run-2/"], environment: aws)
        #expect(mixed.status == 64, "\(mixed.output)")
        #expect(mixed.output.contains("results of different plans"), "\(mixed.output)")

        let judged = try await runCacheload(["report", "merge", "s3://\(bucket)/run-1/", "--threshold", "p99<0.001ms"], environment: aws)
        #expect(judged.status == 99, "\(judged.output)")
        #expect(judged.output.contains("✗ p99<0.001ms"), "\(judged.output)")

        let nowhere = try await runCacheload(["load", url, "-d", "1s", "-q", "--json", "s3://no-such-bucket-\(UUID().uuidString.prefix(6).lowercased())/x.json"],
                                       environment: aws)
        #expect(nowhere.status == 1, "\(nowhere.output)")
        #expect(nowhere.output.contains("does not exist"), "\(nowhere.output)")
        #expect(!nowhere.output.contains("Requests/sec"), "checked before the run")
        await server.stop()
    }
}
