import Foundation
import Postgres
import Testing
import TestSupport

/// RDS forces TLS (`rds.force_ssl`); the deployment connects with `sslmode=verify-full` and the
/// RDS CA bundle. libpq does the work — these tests prove the URL reaches it intact and that a
/// failed verification is a prompt, typed error.
@Suite("PostgreSQL sslmode against a TLS-enabled private cluster")
struct PostgresTLSTests {
    private func sslInUse(_ url: String) async throws -> Bool? {
        let client = PostgresClient(configuration: try PostgresConfiguration(url, poolSize: 1, connectTimeout: .seconds(3)))
        defer { Task { await client.shutdown() } }
        let rows = try await client.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        return try rows.first?.decode(Bool.self, "ssl")
    }

    @Test("verify-full with the CA bundle and require: the session is encrypted; verify-full with a foreign CA fails fast")
    func sslModes() async throws {
        let certificates = try TestCertificates()
        let cluster = try PostgresClusterProcess(tls: certificates)
        let base = "postgresql://postgres@localhost:\(cluster.port)/postgres"
        #expect(try await sslInUse("\(base)?sslmode=verify-full&sslrootcert=\(certificates.caFile)") == true)
        #expect(try await sslInUse("\(base)?sslmode=require") == true)
        #expect(try await sslInUse("\(base)?sslmode=disable") == false)

        let stranger = try TestCertificates()
        let clock = ContinuousClock()
        let start = clock.now
        do {
            _ = try await sslInUse("\(base)?sslmode=verify-full&sslrootcert=\(stranger.caFile)")
            Issue.record("a server certificate from an unknown CA was accepted")
        } catch let error as PostgresError {
            #expect("\(error)".contains("certificate"), "\(error)")
        }
        #expect(clock.now - start < .seconds(3))

        // The printed form (logs, /health) keeps the TLS settings.
        let configuration = try PostgresConfiguration("postgresql://postgres@localhost:\(cluster.port)/postgres?sslmode=verify-full&sslrootcert=\(certificates.caFile)")
        #expect(configuration.description.contains("sslmode=verify-full"), "\(configuration)")
    }

    @Test("sslmode=require against a server without TLS is refused with libpq's reason")
    func requireWithoutServerTLS() async throws {
        let cluster = try PostgresClusterProcess()
        do {
            _ = try await sslInUse("postgresql://postgres@127.0.0.1:\(cluster.port)/postgres?sslmode=require")
            Issue.record("sslmode=require connected without TLS")
        } catch let error as PostgresError {
            #expect("\(error)".contains("SSL"), "\(error)")
        }
    }
}
