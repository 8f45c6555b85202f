import Foundation
import HTTPCurl
import Testing
import TestSupport

@Suite("Prometheus alert rules and scrape config in dashboards/prometheus")
struct AlertRulesTests {
    private var directory: String { TestServices.repositoryRoot.appendingPathComponent("dashboards/prometheus").path }

    @Test("promtool checks the rules and the config and passes the rules' unit tests")
    func promtool() throws {
        let rules = try run("/usr/bin/promtool", ["check", "rules", "\(directory)/alerts.yml"])
        #expect(rules.contains("SUCCESS: 11 rules found"), "\(rules)")
        let tests = try run("/bin/sh", ["-c", "cd \(directory) && /usr/bin/promtool test rules alerts_test.yml"])
        #expect(tests.contains("SUCCESS"))
        let config = try run("/bin/sh", ["-c", "cd \(directory) && /usr/bin/promtool check config prometheus.yml"])
        #expect(config.contains("is valid prometheus config file syntax"))
    }

    @Test("every metric the rules use exists in the server's /metrics output")
    func metricNamesExist() async throws {
        let server = try await TestServer.start()
        _ = try await server.request(.GET, "/product/1")
        _ = try await server.request(.GET, "/product/1")
        let exposition = try await server.request(.GET, "/metrics").text
        await server.stop()
        let rules = try String(contentsOfFile: "\(directory)/alerts.yml", encoding: .utf8)
        let names = Set(rules.matches(of: /cacheload_[a-z_]+/).map { String($0.output) })
        #expect(!names.isEmpty)
        for name in names {
            #expect(exposition.contains("\n\(name)") || exposition.contains("\n\(name){") || exposition.hasPrefix(name),
                    "\(name) is used by alerts.yml but not exposed by the server")
        }
    }
}
