import Foundation
import Testing
import TestSupport

@Suite("The CloudWatch dashboard: a Terraform template, and a rendered body for put-dashboard")
struct DashboardTests {
    @Test("the rendered dashboard is JSON, has no template variable left, names the dev alarm, and is what the template renders today")
    func renderedDashboard() throws {
        let root = TestServices.repositoryRoot
        let rendered = try run(root.appendingPathComponent("scripts/render-dashboard").path, [])
        let committed = try String(contentsOf: root.appendingPathComponent("dashboards/cloudwatch/cacheload-dev.json"), encoding: .utf8)
        #expect(rendered == committed, "dashboards/cloudwatch/cacheload-dev.json is stale: run scripts/render-dashboard > it")
        #expect(!committed.contains("${"))
        let body = try JSONSerialization.jsonObject(with: Data(committed.utf8)) as? [String: Any]
        let widgets = try #require(body?["widgets"] as? [[String: Any]])
        #expect(widgets.count >= 4)
        #expect(committed.contains("alarm:cacheload-dev-hit-ratio-low"))
        let prod = try run(root.appendingPathComponent("scripts/render-dashboard").path, ["--environment", "prod", "--region", "eu-west-1"])
        #expect(prod.contains("\"Environment\", \"prod\"") || prod.contains("\"prod\""), "\(prod.prefix(400))")
        #expect(prod.contains("eu-west-1") && !prod.contains("us-east-1"))
    }
}
