import Foundation
import Testing
import TestSupport

/// `serve --tls-cert/--tls-key` (HTTP/2 and HTTP/1.1 by ALPN) and `serve --h2c` (HTTP/2 with
/// prior knowledge), asked by Debian's curl (nghttp2) — a client this project did not write.
@Suite("serve speaks HTTP/2: over TLS by ALPN, and h2c", .serialized)
struct HTTP2ServeTests {
    /// `curl` with `arguments`; the body and the HTTP version it used (`2`, `1.1`), or the failure.
    private func curl(_ arguments: [String]) -> Result<(body: String, version: String), any Error> {
        Result {
            let output = try run("/usr/bin/curl", ["-sS", "--max-time", "10", "-w", "\n%{http_version}"] + arguments)
            let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
            return (lines.dropLast().joined(separator: "\n"), String(lines.last ?? ""))
        }
    }

    private func protocolCount(_ metrics: String, _ name: String) -> Int {
        let line = metrics.split(separator: "\n").first { $0.hasPrefix("cacheload_http_requests_by_protocol_total{protocol=\"\(name)\"}") }
        return line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
    }

    @Test("--tls-cert: curl --http2 gets HTTP/2, curl --http1.1 gets HTTP/1.1, the same answers; /metrics counts each protocol")
    func tlsWithALPN() async throws {
        let certificates = try TestCertificates()
        let redis = try RedisServerProcess()
        let database = try await TestDatabase.create(products: 20)
        let server = try ServeProcess(redis: redis.url, postgres: database.url,
                                      arguments: ["--tls-cert", certificates.serverCertificateFile, "--tls-key", certificates.serverKeyFile])
        let url = "https://127.0.0.1:\(server.port)"
        let h2 = try curl(["--http2", "--cacert", certificates.caFile, url + "/product/3"]).get()
        let h1 = try curl(["--http1.1", "--cacert", certificates.caFile, url + "/product/3"]).get()
        #expect(h2.version == "2" && h1.version == "1.1", "\(h2.version) \(h1.version)")
        #expect(h2.body.contains(#""id":3"#) && h2.body.contains(#""cache_status":"MISS""#), "\(h2.body)")
        #expect(h1.body.contains(#""id":3"#) && h1.body.contains(#""cache_status":"HIT""#), "the second protocol reads the same cache: \(h1.body)")
        let metrics = try curl(["--http2", "--cacert", certificates.caFile, url + "/metrics"]).get().body
        #expect(protocolCount(metrics, "h2") >= 1 && protocolCount(metrics, "http/1.1") == 1, "\(metrics)")
        await server.stop()
        redis.stop()
        await TestDatabase.drop(database.name)
    }

    @Test("--h2c: prior knowledge gets HTTP/2; an HTTP/1.1 request gets no answer")
    func h2cPriorKnowledge() async throws {
        let redis = try RedisServerProcess()
        let database = try await TestDatabase.create(products: 20)
        let server = try ServeProcess(redis: redis.url, postgres: database.url, arguments: ["--h2c"])
        let h2 = try curl(["--http2-prior-knowledge", server.baseURL + "/product/4"]).get()
        #expect(h2.version == "2" && h2.body.contains(#""id":4"#), "\(h2)")
        guard case .failure = curl(["--http1.1", server.baseURL + "/product/4"]) else {
            Issue.record("an h2c server answered HTTP/1.1")
            return
        }
        await server.stop()
        redis.stop()
        await TestDatabase.drop(database.name)
    }

    @Test("bad TLS input: one line and exit 64 before anything starts")
    func badInput() async throws {
        let certificates = try TestCertificates()
        let garbage = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-cert-\(UUID()).pem").path
        try "not a certificate\n".write(toFile: garbage, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: garbage) }
        let cases: [([String], String)] = [
            (["--tls-cert", certificates.serverCertificateFile], "--tls-cert needs --tls-key"),
            (["--tls-key", certificates.serverKeyFile], "--tls-key needs --tls-cert"),
            (["--tls-cert", "/nonexistent/cert.pem", "--tls-key", certificates.serverKeyFile], "no such file"),
            (["--tls-cert", garbage, "--tls-key", certificates.serverKeyFile], "--tls-cert \(garbage)"),
            (["--tls-cert", certificates.serverCertificateFile, "--tls-key", certificates.serverKeyFile, "--h2c"], "give one or the other"),
        ]
        for (arguments, reason) in cases {
            let (status, output) = try await runCacheload(["serve", "--listen", "127.0.0.1:0"] + arguments)
            #expect(status == 64 && output.contains(reason) && output.hasPrefix("Error: "), "\(arguments): \(output)")
        }
    }
}
