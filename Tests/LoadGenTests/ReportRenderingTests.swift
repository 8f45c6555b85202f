import Foundation
import HTTPCurl
import Testing
import TestSupport

/// `--html` as a browser shows it: headless Chromium lays the page out and the checks measure
/// the result — every chart drawn, no label cut or over another, no text out of its box.
@Suite("--html reports rendered by headless Chromium")
struct ReportRenderingTests {
    /// The report of `cacheload load arguments…`, laid out in a window `width` CSS pixels wide.
    private func render(_ arguments: [String], width: Int = 1280) async throws -> RenderedPage {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID()).html").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        let (status, output) = try await runCacheload(["load"] + arguments + ["--quiet", "--html", file])
        #expect(status == 0 || status == 99, "\(output)")
        return try RenderedPage.render(file, width: width)
    }

    @Test("constant rate through the cache: four charts drawn; hits, misses and uncorrected latency as their own curves; nothing cut or overlapping")
    func constantRateReport() async throws {
        let server = try await TestServer.start()
        let page = try await render(["\(server.baseURL)/product/{key}", "--rate", "400", "-d", "2s", "-c", "4",
                                     "--keys", "1-300", "--distribution", "uniform", "--seed", "7"])
        #expect(page.problems.isEmpty, "\(page.problems)")
        #expect(page.charts.count == 4, "\(page.charts)")
        #expect(page.charts.allSatisfy { $0.paths >= 1 }, "\(page.charts)")
        #expect(page.charts.last?.paths == 4, "all, uncorrected, hits, misses: \(page.charts)")
        for legend in ["all (from intended start)", "all, from actual send", "hits", "misses", "p50", "p99", "target"] {
            #expect(page.legends.contains(legend), "\(legend) missing from \(page.legends)")
        }
        await server.stop()
    }

    @Test("closed loop, every answer a hit, also in a narrow window: nothing cut, no miss curve")
    func closedLoopNarrow() async throws {
        let server = try await TestServer.start()
        for id in 1...20 { _ = try await server.request(.GET, "/product/\(id)") }
        let page = try await render(["\(server.baseURL)/product/{key}", "--requests", "600", "-c", "2", "--keys", "1-20"])
        #expect(page.problems.isEmpty, "\(page.problems)")
        #expect(page.charts.count == 4 && page.charts.allSatisfy { $0.paths >= 1 }, "\(page.charts)")
        #expect(!page.legends.contains("misses"), "no misses, no miss curve: \(page.legends)")
        let narrow = try await render(["\(server.baseURL)/product/{key}", "--requests", "200", "-c", "2", "--keys", "1-20"], width: 640)
        #expect(narrow.problems.isEmpty, "\(narrow.problems)")
        // A run shorter than a fifth of a second is one partial second: its rate is still drawn.
        let quick = try await render(["\(server.baseURL)/product/{key}", "--requests", "20", "-c", "2", "--keys", "1-20"])
        #expect(quick.charts.count == 4 && quick.charts.allSatisfy { $0.paths >= 1 }, "\(quick.charts)")
        await server.stop()
    }
}
