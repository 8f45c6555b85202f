import NIOCore
import Testing
import TestSupport

/// `-c 1000` on a machine whose soft open-file limit is 1024 (Debian's default): the run raises
/// its own limit, or says before it starts why it cannot.
@Suite("Open-file limit")
struct OpenFileLimitTests {
    @Test("a soft limit below the connections is raised up to the hard limit: every connection opens, no connect error")
    func raisesTheSoftLimit() async throws {
        let server = try await StallingServer(stallAfter: nil, stallFor: .zero)
        let (status, output) = try await runCacheload(["load", "http://127.0.0.1:\(server.port)/", "-c", "400", "--requests", "4000", "--quiet"],
                                                      wrapper: ["prlimit", "--nofile=128:4096"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("4000 responses"), "\(output)")
        #expect(output.contains("4000 sent, 0 failed"), "no connect errors: \(output)")
        #expect(server.answered == 4000)
        try await server.close()
    }

    @Test("a hard limit below the connections: the run does not start, exit 1, and the error says what to raise")
    func refusesBelowTheHardLimit() async throws {
        let server = try await StallingServer(stallAfter: nil, stallFor: .zero)
        let (status, output) = try await runCacheload(["load", "http://127.0.0.1:\(server.port)/", "-c", "400", "--requests", "100", "--quiet"],
                                                      wrapper: ["prlimit", "--nofile=128:256"])
        #expect(status == 1, "\(output)")
        #expect(output.contains("400 connections need about 528 open files"), "\(output)")
        #expect(output.contains("ulimit -Hn 528"), "\(output)")
        #expect(!server.receivedAny, "nothing was sent")
        try await server.close()
    }
}
