import Foundation
@testable import LoadGen
import NIOCore
import Testing
import TestSupport

/// `cacheload load https://…`: the target verified as curl and browsers would, or refused.
@Suite("HTTPS targets: verified, refused, or explicitly insecure")
struct HTTPSTargetTests {
    @Test("the target's CA given with --cacert: every request answered over TLS, handshakes counted, SNI for localhost")
    func verifiedWithCACert() async throws {
        let certificates = try TestCertificates()
        let server = try await TLSHTTPServer(certificates: certificates)
        let (status, output) = try await runCacheload(["load", "https://localhost:\(server.port)/product/{key}", "--cacert", certificates.caFile,
                                         "--requests", "300", "-c", "4", "--quiet"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("300 responses"), "\(output)")
        #expect(output.contains("TLS handshakes 4"), "\(output)")
        #expect(output.contains("hits 300"), "\(output)")
        try await server.close()
    }

    @Test("a certificate from a CA the client does not trust: requests fail as 'tls' errors, exit 1, nothing answered")
    func foreignCA() async throws {
        let certificates = try TestCertificates()
        let stranger = try TestCertificates()
        let server = try await TLSHTTPServer(certificates: certificates)
        let (status, output) = try await runCacheload(["load", "https://localhost:\(server.port)/", "--cacert", stranger.caFile,
                                         "--requests", "6", "-c", "2", "--quiet"])
        #expect(status == 1, "\(output)")
        #expect(output.contains("0 responses"), "\(output)")
        #expect(output.contains("tls 6"), "\(output)")
        try await server.close()
    }

    @Test("--insecure accepts the self-signed target; --insecure with --cacert, --cacert on http://, a --cacert that is no certificate: refused before any request")
    func insecureAndBadInput() async throws {
        let certificates = try TestCertificates()
        let server = try await TLSHTTPServer(certificates: certificates)
        let insecure = try await runCacheload(["load", "https://127.0.0.1:\(server.port)/", "--insecure", "--requests", "20", "-c", "2", "--quiet"])
        #expect(insecure.status == 0, "\(insecure.output)")
        #expect(insecure.output.contains("20 responses"), "\(insecure.output)")

        let notACertificate = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-cert-\(UUID()).pem").path
        try "hello".write(toFile: notACertificate, atomically: true, encoding: .utf8)
        let cases: [([String], String)] = [
            (["https://127.0.0.1:\(server.port)/", "--insecure", "--cacert", certificates.caFile], "give one of them"),
            (["http://127.0.0.1:\(server.port)/", "--cacert", certificates.caFile], "https:// targets only"),
            (["https://127.0.0.1:\(server.port)/", "--cacert", notACertificate], "--cacert \(notACertificate)"),
        ]
        for (arguments, reason) in cases {
            let (status, output) = try await runCacheload(["load"] + arguments + ["--requests", "1"])
            #expect(status == 64, "\(arguments): \(output)")
            #expect(output.contains(reason), "\(arguments): \(output)")
        }
        try? FileManager.default.removeItem(atPath: notACertificate)
        try await server.close()
    }

    @Test("https:// URLs parse with port 443 by default; the Host header leaves the default port out")
    func urlForms() throws {
        let template = try RequestTemplate(url: "https://cache.example.com/product/{key}")
        #expect(template.isTLS && template.port == 443 && template.host == "cache.example.com")
        var buffer = ByteBuffer()
        template.format(key: 7, into: &buffer)
        #expect(String(buffer: buffer).hasPrefix("GET /product/7 HTTP/1.1\r\nHost: cache.example.com\r\n"), "\(String(buffer: buffer))")
        #expect(try RequestTemplate(url: "http://h/").port == 80)
        #expect(throws: LoadOptionError.self) { try RequestTemplate(url: "ftp://h/") }
    }
}
