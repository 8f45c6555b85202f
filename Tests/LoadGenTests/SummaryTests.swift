import Foundation
import LoadGen
import NIOCore
import Testing
import TestSupport

/// The `summary` of `--json` is what CI steps read with jq: it must follow its schema in every
/// mode, agree with the text report, and keep corrected and uncorrected latency apart.
@Suite("--json summary: schema, values, corrected vs uncorrected")
struct SummaryTests {
    /// Validates with the PyPI `jsonschema` package against docs/load-result.schema.json.
    private func validate(_ file: String) throws -> String {
        let schema = TestServices.repositoryRoot.appendingPathComponent("docs/load-result.schema.json").path
        let script = "import json, jsonschema, sys; jsonschema.Draft202012Validator(json.load(open(sys.argv[1]))).validate(json.load(open(sys.argv[2]))); print('valid')"
        return (try? TestSupport.run("/usr/bin/env", ["python3", "-c", script, schema, file])) ?? "invalid"
    }

    private func summary(_ file: String) throws -> [String: Any] {
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any]
        return try #require(document?["summary"] as? [String: Any])
    }

    @Test("closed loop, constant rate, stages, mix, two targets and a merged result all validate against the schema")
    func schemaInEveryMode() async throws {
        let server = try await StallingServer(stallAfter: nil, stallFor: .zero)
        let target = "http://127.0.0.1:\(server.port)/product/{key}"
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("summary-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let runs: [(String, [String])] = [
            ("closed", ["--requests", "200", "-c", "4"]),
            ("rate", ["--rate", "200", "-d", "1s", "-c", "4", "--threshold", "p99<1s", "--threshold", "hit_ratio>0.5"]),
            ("stages", ["--stages", "1s:100", "-c", "4"]),
            ("mix", ["--requests", "100", "-c", "2", "--mix", "get:80,put:20", "--body", "{}"]),
            ("targets", [target.replacingOccurrences(of: "/product/", with: "/other/"), "--requests", "100", "-c", "2"]),
        ]
        for (name, arguments) in runs {
            let (status, output) = try await runCacheload(["load", target, "--quiet", "--json", "\(directory)/\(name).json"] + arguments)
            #expect(status == 0 || status == 99, "\(name): \(output)")
            #expect(try validate("\(directory)/\(name).json") == "valid\n", "\(name)")
        }
        let merged = try await runCacheload(["report", "merge", "\(directory)/closed.json", "\(directory)/rate.json", "--json", "\(directory)/merged.json"])
        #expect(merged.status == 0, "\(merged.output)")
        #expect(try validate("\(directory)/merged.json") == "valid\n")
        #expect(try summary("\(directory)/merged.json")["requests"] as? Int == (try summary("\(directory)/closed.json")["requests"] as? Int ?? 0)
            + (try summary("\(directory)/rate.json")["requests"] as? Int ?? 0))

        let rate = try summary("\(directory)/rate.json")
        let thresholds = try #require(rate["thresholds"] as? [[String: Any]])
        #expect(thresholds.map { $0["expression"] as? String } == ["p99<1s", "hit_ratio>0.5"])
        #expect(thresholds.first?["passed"] as? Bool == true)
        #expect((rate["rate"] as? [String: Any])?["target"] as? Double == 200)
        #expect(try summary("\(directory)/closed.json")["requests"] as? Int == 200)
        try? FileManager.default.removeItem(atPath: directory)
        try await server.close()
    }

    @Test("a 300 ms stall at constant rate: corrected ≥ uncorrected at every percentile, and the stall shows only in the corrected p99")
    func correctedAboveUncorrected() async throws {
        let server = try await StallingServer(stallAfter: .milliseconds(500), stallFor: .milliseconds(300))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("stall-\(UUID()).json").path
        let (status, output) = try await runCacheload(["load", "http://127.0.0.1:\(server.port)/", "--rate", "400", "-c", "2", "-d", "2s",
                                        "--quiet", "--json", file])
        #expect(status == 0, "\(output)")
        #expect(output.contains("uncorrected"), "the text summary shows both: \(output)")
        let summary = try summary(file)
        let corrected = try #require(summary["latency_ms"] as? [String: Double])
        let uncorrected = try #require(summary["latency_uncorrected_ms"] as? [String: Double])
        for key in ["p50", "p90", "p99", "p99_9", "max"] {
            #expect(corrected[key]! >= uncorrected[key]!, "\(key): corrected \(corrected[key]!) < uncorrected \(uncorrected[key]!)")
        }
        // Two connections carry the stalled requests: uncorrected, only the first request on each
        // waits the whole stall; corrected, every request scheduled during it counts its wait.
        #expect(corrected["p99"]! > 100, "\(corrected)")
        #expect(corrected["p99"]! > uncorrected["p99"]! * 2, "\(corrected) vs \(uncorrected)")
        try? FileManager.default.removeItem(atPath: file)
        try await server.close()
    }
}
