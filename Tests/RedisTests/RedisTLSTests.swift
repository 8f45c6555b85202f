import Foundation
import NIOCore
import Redis
import Testing
import TestSupport

/// ElastiCache with transit encryption speaks TLS only and names clients by ACL user: the client
/// must do both, refuse a certificate it cannot trust, and never hang on a mismatch.
@Suite("Redis over TLS (rediss://) with ACL users, against a TLS-only redis-server")
struct RedisTLSTests {
    private func client(_ url: String) throws -> RedisClient {
        var configuration = try RedisConfiguration(url: url, poolSize: 1)
        configuration.connectTimeout = .seconds(1)
        configuration.commandTimeout = .seconds(1)
        return RedisClient(configuration: configuration)
    }

    @Test("rediss:// with the CA bundle and an ACL user: commands work, the session is TLS")
    func tlsWithACLUser() async throws {
        let certificates = try TestCertificates()
        let server = try RedisServerProcess(tls: certificates, aclUsers: ["default off", "app on >app-secret ~* &* +@all"])
        let redis = try client("rediss://app:app-secret@localhost:\(server.port)/0?ssl_ca_certs=\(certificates.caFile)")
        try await redis.set("tls:key", Array("over TLS".utf8), expireSeconds: 60)
        let value = try await redis.get("tls:key")
        #expect(value.map { String(buffer: $0) } == "over TLS")
        // The server's own view: this connection is authenticated as `app`.
        let info = try await redis.send(RedisCommand("CLIENT", "INFO"))
        guard case .string(let text) = info else {
            Issue.record("CLIENT INFO answered \(info)")
            return
        }
        #expect(String(buffer: text).contains("user=app"), "\(String(buffer: text))")
        #expect(redis.configuration.description == "rediss://app:***@localhost:\(server.port)/0")
        await redis.shutdown()
    }

    @Test("an IP address is verified against the certificate's IP SAN")
    func ipAddressHost() async throws {
        let certificates = try TestCertificates()
        let server = try RedisServerProcess(tls: certificates)
        let redis = try client("rediss://127.0.0.1:\(server.port)/0?ssl_ca_certs=\(certificates.caFile)")
        try await redis.ping()
        await redis.shutdown()
    }

    @Test("a certificate from another CA is refused quickly, with a TLS error")
    func untrustedCertificate() async throws {
        let certificates = try TestCertificates()
        let stranger = try TestCertificates()
        let server = try RedisServerProcess(tls: certificates)
        let redis = try client("rediss://localhost:\(server.port)/0?ssl_ca_certs=\(stranger.caFile)")
        let clock = ContinuousClock()
        let start = clock.now
        do {
            try await redis.ping()
            Issue.record("a certificate signed by an unknown CA was accepted")
        } catch let error as RedisError {
            #expect(error.code == .connectionFailed || error.code == .connectionClosed, "\(error)")
            #expect(error.description.lowercased().contains("certificate") || error.description.contains("SSL"), "\(error)")
        }
        #expect(clock.now - start < .seconds(3))
        await redis.shutdown()

        // ssl_cert_reqs=none: encryption without verification, for self-signed test servers.
        let unverified = try client("rediss://localhost:\(server.port)/0?ssl_cert_reqs=none")
        try await unverified.ping()
        await unverified.shutdown()
    }

    @Test("plain redis:// to a TLS-only port fails fast instead of hanging")
    func plaintextToTLSPort() async throws {
        let certificates = try TestCertificates()
        let server = try RedisServerProcess(tls: certificates)
        let redis = try client("redis://127.0.0.1:\(server.port)/0")
        let clock = ContinuousClock()
        let start = clock.now
        await #expect(throws: RedisError.self) { try await redis.ping() }
        #expect(clock.now - start < .seconds(3))
        await redis.shutdown()
    }

    @Test("ACL: a wrong password is an authentication error; a read-only user gets NOPERM on SET")
    func aclPermissions() async throws {
        let server = try RedisServerProcess(aclUsers: ["reader on >reader-secret ~* &* +@read +ping +select"])
        let wrong = try client("redis://reader:not-the-secret@127.0.0.1:\(server.port)/0")
        do {
            try await wrong.ping()
            Issue.record("a wrong ACL password was accepted")
        } catch let error as RedisError {
            #expect(error.code == .authenticationFailed)
            #expect(!error.description.contains("not-the-secret"))
        }
        await wrong.shutdown()

        let reader = try client("redis://reader:reader-secret@127.0.0.1:\(server.port)/0")
        #expect(try await reader.get("missing") == nil)
        do {
            try await reader.set("k", Array("v".utf8))
            Issue.record("a read-only ACL user could SET")
        } catch let error as RedisError {
            #expect(error.code == .server)
            #expect(error.description.contains("NOPERM"), "\(error)")
        }
        await reader.shutdown()
    }

    @Test("URL forms: rediss with ssl_ca_certs and ssl_cert_reqs; TLS parameters on redis:// and unknown ones refused")
    func urlForms() throws {
        let configuration = try RedisConfiguration(url: "rediss://user:pw@cache.example.com:6380/2?ssl_ca_certs=/etc/ca.pem")
        #expect(configuration.tls == RedisConfiguration.TLS(caCertificatesFile: "/etc/ca.pem", verifyCertificate: true))
        #expect(configuration.user == "user" && configuration.port == 6380 && configuration.database == 2)
        #expect(configuration.description == "rediss://user:***@cache.example.com:6380/2")
        #expect(try RedisConfiguration(url: "rediss://h?ssl_cert_reqs=none").tls?.verifyCertificate == false)
        #expect(try RedisConfiguration(url: "redis://h").tls == nil)
        for bad in ["redis://h?ssl_ca_certs=/ca.pem", "rediss://h?ssl_cert_reqs=maybe", "rediss://h?timeout=3", "memcached://h"] {
            #expect(throws: RedisError.self, "\(bad)") { try RedisConfiguration(url: bad) }
        }
    }

    @Test("an unreadable CA file: every command fails fast with the file named, across reconnect attempts — never a hang")
    func unreadableCAFileNeverHangs() async throws {
        let missing = "/nonexistent-\(UUID().uuidString).pem"
        var configuration = try RedisConfiguration(url: "rediss://127.0.0.1:6379/0?ssl_ca_certs=\(missing)", poolSize: 1)
        configuration.reconnectBackoff = (.milliseconds(5), .milliseconds(20))
        #expect(throws: RedisError.self) { try configuration.check() }
        let redis = RedisClient(configuration: configuration)
        // The reconnect timer fires on the event loop every few milliseconds; a connect that
        // fails at once used to complete under the slot's lock there and deadlock it.
        let clock = ContinuousClock()
        let until = clock.now + .milliseconds(400)
        var attempts = 0
        // At least 400 ms (many reconnect timers) and at least 5 commands, however slow the machine.
        while clock.now < until || attempts < 5 {
            attempts += 1
            let answered = await finishes(within: 3) {
                do {
                    try await redis.ping()
                    Issue.record("PING succeeded without a CA file")
                } catch let error as RedisError {
                    #expect(error.description.contains(missing) || error.code == .connectionFailed, "\(error)")
                } catch {
                    Issue.record("unexpected \(error)")
                }
            }
            guard answered else {
                Issue.record("attempt \(attempts): a command did not answer within 3 s (a deadlock never answers)")
                return
            }
        }
        await redis.shutdown()
    }

    @Test("the CA file removed while running: after a drop, commands fail fast; once it is back, they succeed again")
    func caFileRemovedWhileRunning() async throws {
        let certificates = try TestCertificates()
        let server = try RedisServerProcess(tls: certificates)
        let copy = certificates.directory + "/copy.pem"
        try FileManager.default.copyItem(atPath: certificates.caFile, toPath: copy)
        var configuration = try RedisConfiguration(url: "rediss://localhost:\(server.port)/0?ssl_ca_certs=\(copy)", poolSize: 1)
        configuration.connectTimeout = .seconds(1)
        configuration.commandTimeout = .seconds(1)
        configuration.reconnectBackoff = (.milliseconds(10), .milliseconds(50))
        let redis = RedisClient(configuration: configuration)
        try await redis.ping()

        try FileManager.default.moveItem(atPath: copy, toPath: copy + ".away")
        server.stop()
        try server.start()
        let failed = await finishes(within: 1) {
            do {
                try await redis.ping()
                Issue.record("a TLS connection was made without the CA file")
            } catch {}
        }
        #expect(failed, "a command hung while the CA file was missing")

        try FileManager.default.moveItem(atPath: copy + ".away", toPath: copy)
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(3)
        var recovered = false
        while clock.now < deadline, !recovered {
            recovered = (try? await redis.ping()) != nil
            if !recovered { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(recovered, "no recovery within 3 s of the CA file coming back")
        await redis.shutdown()
    }
}
