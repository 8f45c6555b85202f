import Testing
import TestSupport

/// A typo in the host: one line naming it, before anything is sent.
@Suite("Target addresses")
struct TargetAddressTests {
    @Test("a host that does not resolve: exit 1 before the first request, the error names the host and the URL")
    func unresolvableHost() async throws {
        let (status, output) = try await runCacheload(["load", "http://no-such-host.invalid:8080/product/{key}", "--requests", "3", "-c", "1", "--quiet"])
        #expect(status == 1, "\(output)")
        #expect(output.contains("cannot resolve no-such-host.invalid"), "\(output)")
        #expect(output.contains("check the host in http://no-such-host.invalid:8080/product/{key}"), "\(output)")
        #expect(!output.contains("connect errors"), "nothing was attempted: \(output)")
    }
}
