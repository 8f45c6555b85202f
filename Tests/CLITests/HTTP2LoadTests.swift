import Foundation
import Testing
import TestSupport

/// `cacheload load` over HTTP/2 — `--http 2` (ALPN), `--h2c` (prior knowledge), `--streams` —
/// against Debian's nginx (`http2`, `keepalive_requests` sending GOAWAY) and against
/// `cacheload serve --tls-cert`: the same plan over h1 and h2 sends the same requests and reads
/// the same answers; streams share few connections; a GOAWAY loses nothing.
@Suite("load speaks HTTP/2: same answers as h1, streams on few connections, GOAWAY loses nothing", .serialized)
struct HTTP2LoadTests {
    /// A run's exit status, its output and its `summary`.
    private func load(_ arguments: [String]) async throws -> (status: Int32?, output: String, summary: [String: Any]) {
        let json = FileManager.default.temporaryDirectory.appendingPathComponent("h2-\(UUID()).json").path
        defer { try? FileManager.default.removeItem(atPath: json) }
        let (status, output) = try await runCacheload(["load"] + arguments + ["--quiet", "--json", json], within: 90)
        let document = try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any]
        return (status, output, document?["summary"] as? [String: Any] ?? [:])
    }

    private func count(_ summary: [String: Any], _ group: String, _ key: String) -> Int {
        (summary[group] as? [String: Any])?[key] as? Int ?? -1
    }

    /// Requests that got no 2xx answer: other statuses, and every transport error.
    private func failures(_ summary: [String: Any]) -> Int {
        let errors = (summary["errors"] as? [String: Int] ?? [:]).values.reduce(0, +)
        return (summary["requests"] as? Int ?? 0) - count(summary, "status", "2xx") + errors
    }

    @Test("nginx over TLS: the same plan over h1 and h2 sends the same requests and reads the same answers")
    func nginxSameAnswers() async throws {
        let nginx = try NginxHTTP2Process()
        let plan = ["https://127.0.0.1:\(nginx.port)/product/{key}", "--cacert", nginx.certificates.caFile,
                    "--keys", "1-100", "--distribution", "sequential", "--requests", "600", "--threads", "1"]
        let h1 = try await load(plan + ["--http", "1.1", "-c", "6"])
        let h1Log = nginx.requests()
        let h2 = try await load(plan + ["--http", "2", "-c", "1", "--streams", "6", "--threshold", "hit_ratio>0.99", "--threshold", "errors<1%"])
        let h2Log = Array(nginx.requests().dropFirst(h1Log.count))
        #expect(h1.status == 0 && h2.status == 0, "\(h1.output)\n\(h2.output)")
        #expect(Set(h1Log.map(\.protocol)) == ["HTTP/1.1"] && Set(h2Log.map(\.protocol)) == ["HTTP/2.0"], "\(Set(h2Log.map(\.protocol)))")
        #expect(h1Log.map(\.uri).sorted() == h2Log.map(\.uri).sorted() && h2Log.count == 600, "the same 600 requests: \(h2Log.count)")
        #expect(Set(h2Log.map(\.connection)).count == 1, "six streams on one connection")
        for run in [h1, h2] {
            #expect(count(run.summary, "status", "2xx") == 600 && failures(run.summary) == 0, "\(run.summary)")
            #expect(run.summary["hit_ratio"] as? Double == 1.0 && count(run.summary, "cache", "hits") == 600, "X-Cache-Status read from HPACK fields too")
        }
        #expect((h2.summary["connections"] as? [String: Any])?["protocol"] as? String == "h2", "\(h2.summary)")
        #expect((h1.summary["connections"] as? [String: Any])?["protocol"] as? String == "http/1.1")
        #expect(count(h2.summary, "connections", "server_max_streams") == 128, "nginx's http2_max_concurrent_streams default")
        #expect((h2.summary["thresholds"] as? [[String: Any]])?.allSatisfy { $0["passed"] as? Bool == true } == true, "thresholds judge h2 as h1")
    }

    @Test("--streams 50 on 4 connections keeps 200 requests in flight; nginx sees 4 connections")
    func streamsOnFewConnections() async throws {
        let nginx = try NginxHTTP2Process(originDelay: 0.3)
        _ = try nginx.originPeak()
        let run = try await load(["https://127.0.0.1:\(nginx.port)/slow/{key}", "--cacert", nginx.certificates.caFile,
                                  "--http", "2", "-c", "4", "--streams", "50", "--requests", "1000", "--cache-status", "none"])
        #expect(run.status == 0 && failures(run.summary) == 0 && run.summary["requests"] as? Int == 1000, "\(run.output)")
        let peak = try nginx.originPeak()
        #expect((190...200).contains(peak), "the origin held \(peak) requests at once (200 asked: 4 × 50)")
        #expect(Set(nginx.requests().map(\.connection)).count == 4, "four connections carried the streams")
        #expect(count(run.summary, "connections", "streams") == 50 && count(run.summary, "connections", "count") == 4)
    }

    @Test("a GOAWAY every 100 streams loses no request and repeats none: the server logs each once")
    func goAwayLosesNothing() async throws {
        let nginx = try NginxHTTP2Process(maxRequests: 100)
        for (url, extra) in [("http://127.0.0.1:\(nginx.clearPort)/product/{key}", ["--h2c"]),
                             ("https://127.0.0.1:\(nginx.port)/product/{key}", ["--http", "2", "--cacert", nginx.certificates.caFile])] {
            let before = nginx.requests().count
            let run = try await load([url, "-c", "2", "--streams", "20", "--requests", "2000"] + extra)
            let logged = nginx.requests().count - before
            #expect(run.status == 0 && run.summary["requests"] as? Int == 2000 && failures(run.summary) == 0, "\(url): \(run.output)")
            #expect(logged == 2000, "\(url): nginx answered \(logged) requests for 2000 sent once each")
            #expect(count(run.summary, "connections", "goaway") >= 18, "\(url): \(run.summary["connections"] ?? "")")
        }
    }

    @Test("RST_STREAM: a taken stream's reset counts as errors.stream_reset; REFUSED_STREAM is sent again, as the server asks")
    func streamResets() async throws {
        let server = try await HTTP2FaultServer(resetEvery: 10, refuseEvery: 7)
        let run = try await load(["http://127.0.0.1:\(server.port)/p/{key}", "--h2c", "-c", "2", "--streams", "8", "--requests", "700"])
        let tally = server.counts
        #expect(run.status == 1 && run.output.contains("\(tally.reset) stream resets"), "lost requests fail the run: \(run.output)")
        #expect(count(run.summary, "errors", "stream_reset") == tally.reset && tally.reset > 0, "client \(run.summary["errors"] ?? "") server \(tally)")
        #expect(count(run.summary, "connections", "goaway_retries") == tally.refused && tally.refused > 0, "\(run.summary["connections"] ?? "")")
        #expect(run.summary["requests"] as? Int == tally.answered && tally.answered + tally.reset == 700, "every request answered or counted lost: \(tally)")
        try await server.close()
    }

    @Test("flow control: a body larger than the server's stream window counts as a stall; a smaller one does not")
    func flowControlStalls() async throws {
        let nginx = try NginxHTTP2Process(bodyWindow: 1024)
        let url = "http://127.0.0.1:\(nginx.clearPort)/product/{key}"
        for (size, stalls) in [(4000, 100), (500, 0)] {
            let run = try await load([url, "--h2c", "-c", "1", "--streams", "4", "--requests", "100", "--method", "PUT", "--body", String(repeating: "x", count: size)])
            #expect(run.status == 0 && count(run.summary, "status", "2xx") == 100, "\(run.output)")
            #expect(count(run.summary, "connections", "flow_control_stalls") == stalls, "a \(size)-byte body, a 1 KiB window: \(run.summary["connections"] ?? "")")
        }
    }

    @Test("cacheload serve --tls-cert: h1 and h2 read the same cache the same way; /metrics counts both protocols")
    func serveSameHitRatio() async throws {
        let certificates = try TestCertificates()
        let redis = try RedisServerProcess()
        let database = try await TestDatabase.create(products: 50)
        let server = try ServeProcess(redis: redis.url, postgres: database.url,
                                      arguments: ["--tls-cert", certificates.serverCertificateFile, "--tls-key", certificates.serverKeyFile])
        let plan = ["https://127.0.0.1:\(server.port)/product/{key}", "--cacert", certificates.caFile,
                    "--keys", "1-50", "--distribution", "sequential", "--requests", "500", "--threads", "1"]
        let h1 = try await load(plan + ["--http", "1.1", "-c", "5"])
        _ = try run("/usr/bin/redis-cli", ["-p", "\(redis.port)", "FLUSHALL"])
        let h2 = try await load(plan + ["--http", "2", "-c", "1", "--streams", "5"])
        for run in [h1, h2] {
            #expect(run.status == 0 && failures(run.summary) == 0, "\(run.output)")
            #expect(count(run.summary, "cache", "misses") == 50 && count(run.summary, "cache", "hits") == 450, "each key missed once, then hit: \(run.summary["cache"] ?? "")")
        }
        let metrics = try run("/usr/bin/curl", ["-sS", "--http1.1", "--cacert", certificates.caFile, "https://127.0.0.1:\(server.port)/metrics"])
        #expect(metrics.contains(#"cacheload_http_requests_by_protocol_total{protocol="h2"} 500"#), "\(metrics.split(separator: "\n").filter { $0.contains("by_protocol") })")
        #expect(metrics.contains(#"cacheload_http_requests_by_protocol_total{protocol="http/1.1"} 501"#), "500 and this scrape")
        await server.stop()
        redis.stop()
        await TestDatabase.drop(database.name)
    }

    @Test("a target that does not speak HTTP/2 as asked: one line, exit 1")
    func refused() async throws {
        let nginx = try NginxHTTP2Process()
        let certificates = try TestCertificates()
        let http1Only = try await TLSHTTPServer(certificates: certificates)
        let cases: [([String], String)] = [
            // The slow origin speaks HTTP/1.1 only: prior knowledge meets a 400.
            (["http://127.0.0.1:\(nginx.originPort)/product/{key}", "--h2c"], "--h2c: the target did not answer HTTP/2"),
            (["https://127.0.0.1:\(http1Only.port)/x/{key}", "--cacert", certificates.caFile, "--http", "2"], "did not agree to HTTP/2 by ALPN"),
        ]
        for (arguments, reason) in cases {
            let (status, output) = try await runCacheload(["load"] + arguments + ["-c", "2", "-d", "5s", "--quiet"], within: 30)
            let lines = output.split(separator: "\n")
            #expect(status == 1 && lines.count == 1 && output.contains(reason), "\(arguments): \(output)")
        }
        // auto over TLS with a server that offers no h2: HTTP/1.1, as before.
        let auto = try await load(["https://127.0.0.1:\(http1Only.port)/x/{key}", "--cacert", certificates.caFile, "--requests", "50", "-c", "2"])
        #expect(auto.status == 0 && (auto.summary["connections"] as? [String: Any])?["protocol"] as? String == "http/1.1", "\(auto.output)")
        try await http1Only.close()
    }

    @Test("bad HTTP/2 options: exit 64 before any request")
    func badInput() async throws {
        let cases: [([String], String)] = [
            (["http://127.0.0.1:9/p/{key}", "--h2c", "--streams", "0"], "--streams 0"),
            (["https://127.0.0.1:9/p/{key}", "--h2c"], "--h2c is HTTP/2 in clear"),
            (["http://127.0.0.1:9/p/{key}", "--http", "3"], "--http 3: expected 1.1, 2 or auto"),
            (["http://127.0.0.1:9/p/{key}", "--streams", "10"], "--streams 10 needs HTTP/2"),
            (["https://127.0.0.1:9/p/{key}", "--streams", "10"], "--streams 10 needs HTTP/2"),
            (["http://127.0.0.1:9/p/{key}", "--http", "2"], "needs --h2c"),
            (["http://127.0.0.1:9/p/{key}", "--h2c", "--http", "1.1"], "cannot go with --http 1.1"),
        ]
        for (arguments, reason) in cases {
            let (status, output) = try await runCacheload(["load"] + arguments + ["--requests", "1"])
            #expect(status == 64 && output.contains(reason), "\(arguments): \(output)")
        }
    }
}
