import Foundation
import Testing
import TestSupport

@Suite("cacheload load interrupted")
struct InterruptTests {
    @Test("SIGINT mid-run stops sending, drains, prints the summary, still writes the JSON, says it was interrupted and exits 130")
    func sigint() async throws {
        let server = try await TestServer.start()
        let binary = TestServices.cacheloadBinary
        let json = FileManager.default.temporaryDirectory.appendingPathComponent("interrupted-\(UUID()).json").path
        let output = json + ".log"
        let pid = try spawn(binary, ["load", "\(server.baseURL)/product/{key}", "--rate", "200", "-c", "10", "-d", "60s",
                                     "--json", json], outputPath: output)
        defer { stopIfRunning(pid) }
        // Interrupt once the run has recorded a full second (its progress line says so).
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(15)
        while clock.now < deadline, !((try? String(contentsOfFile: output, encoding: .utf8))?.contains("[  1s") ?? false) {
            try await Task.sleep(for: .milliseconds(50))
        }
        let interruptedAt = clock.now
        kill(pid, SIGINT)
        let status = waitForExit(pid)
        #expect(clock.now - interruptedAt < .seconds(5))
        #expect(status == 130, "an interrupted run is no finished run (130, as the demo and shells say)")
        let text = try String(contentsOfFile: output, encoding: .utf8)
        #expect(text.contains("cacheload load: interrupted"), "\(text.suffix(500))")
        #expect(text.contains("(interrupted)"))
        #expect(text.contains("Requests/sec:"))
        let data = try Data(contentsOf: URL(fileURLWithPath: json))
        let document = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        #expect(document?["interrupted"] as? Bool == true)
        let counts = document?["counts"] as? [String: Any]
        #expect((counts?["completed"] as? Int ?? 0) > 100)
        #expect(counts?["inFlightAtStop"] as? Int == 0)
        try? FileManager.default.removeItem(atPath: json)
        try? FileManager.default.removeItem(atPath: output)
        await server.stop()
    }
}
