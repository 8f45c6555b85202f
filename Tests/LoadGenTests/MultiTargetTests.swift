import Foundation
import LoadGen
import NIOCore
import Testing
import TestSupport

/// `load URL1 URL2 URL3` and `--targets FILE`: connections spread over the targets, a row per
/// target in the text, the JSON summary and the HTML report — each row equal to what that
/// target itself answered.
@Suite("Several targets: a fleet's instances driven at once")
struct MultiTargetTests {
    @Test("three targets, 6 connections, 300 requests: two connections each, every target's count equals its own server's")
    func threeTargets() async throws {
        let servers = [try await StallingServer(stallAfter: nil, stallFor: .zero), try await StallingServer(stallAfter: nil, stallFor: .zero),
                       try await StallingServer(stallAfter: nil, stallFor: .zero)]
        let urls = servers.map { "http://127.0.0.1:\($0.port)/product/{key}" }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("targets-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // The first URL as an argument, the others from a file with a comment and a blank line.
        try "# the fleet\n\(urls[1])\n\n\(urls[2])   # third\n".write(toFile: "\(directory)/targets.txt", atomically: true, encoding: .utf8)
        let (status, output) = try await runCacheload(["load", urls[0], "--targets", "\(directory)/targets.txt", "-c", "6", "--requests", "300",
                                                       "--quiet", "--json", "\(directory)/run.json", "--html", "\(directory)/run.html"])
        #expect(status == 0, "\(output)")
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(directory)/run.json"))) as? [String: Any]
        let targets = try #require((document?["summary"] as? [String: Any])?["targets"] as? [[String: Any]])
        #expect(targets.map { $0["url"] as? String } == urls)
        #expect(targets.map { $0["connections"] as? Int } == [2, 2, 2])
        #expect(targets.map { $0["requests"] as? Int ?? -1 }.reduce(0, +) == 300)
        #expect(targets.map { $0["requests"] as? Int } == servers.map(\.answered), "each row is what its server answered")
        #expect(targets.allSatisfy { ($0["requests"] as? Int ?? 0) > 50 }, "connections spread: \(targets)")
        for url in urls { #expect(output.contains("    \(url)   2 conns   "), "\(output)") }
        let html = try String(contentsOfFile: "\(directory)/run.html", encoding: .utf8)
        #expect(urls.allSatisfy { html.contains("<tr><td>\($0)</td><td>2</td>") }, "a row per target in the HTML")
        let page = try RenderedPage.render("\(directory)/run.html")
        #expect(page.problems.isEmpty, "\(page.problems)")
        try? FileManager.default.removeItem(atPath: directory)
        for server in servers { try await server.close() }
    }

    @Test("bad input: --mix with several targets, http and https mixed, fewer connections than targets, a missing --targets file")
    func badInput() async throws {
        let a = "http://127.0.0.1:\(freeLoopbackPort())/", b = "http://127.0.0.1:\(freeLoopbackPort())/"
        let cases: [([String], String)] = [
            ([a, b, "--mix", "get:90,put:10", "--body", "{}"], "--mix with several targets"),
            ([a, "https://127.0.0.1:\(freeLoopbackPort())/", "--insecure"], "mix http:// and https://"),
            ([a, b, "-c", "1"], "at least one connection per target"),
            (["--targets", "/nonexistent-\(UUID()).txt"], "cannot read the file"),
            ([], "give the target URL"),
        ]
        for (arguments, reason) in cases {
            let (status, output) = try await runCacheload(["load"] + arguments + ["--requests", "5"])
            #expect(status == 64, "\(arguments): \(output)")
            #expect(output.contains(reason), "\(arguments): \(output)")
        }
    }
}
