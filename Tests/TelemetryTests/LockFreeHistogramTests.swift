import Foundation
import Telemetry
import Testing

/// The request path's latency histogram: recorded with atomics, rendered as Prometheus text
/// that must read exactly like swift-prometheus' own (cumulative buckets, `+Inf`, sum, count).
@Suite("Lock-free latency histograms")
struct LockFreeHistogramTests {
    /// `series line → value` of the exposition.
    private func samples(_ registry: MetricsRegistry) -> [String: Double] {
        var values: [String: Double] = [:]
        for line in String(decoding: registry.exposition(), as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            values[String(line[..<space])] = value
        }
        return values
    }

    @Test("cumulative buckets, +Inf, sum and count; HELP and TYPE once per family; label values escaped")
    func rendering() throws {
        let registry = MetricsRegistry()
        let family = registry.lockFreeDurationHistogram("request_duration", help: "Test latencies.",
                                                        buckets: [.milliseconds(1), .milliseconds(10)])
        let series = family.series([("route", "/a"), ("note", "say \"hi\"\\n")])
        for duration: Duration in [.microseconds(500), .milliseconds(1), .milliseconds(5), .seconds(2)] { series.record(duration) }
        let text = String(decoding: registry.exposition(), as: UTF8.self)
        #expect(text.components(separatedBy: "# TYPE cacheload_request_duration_seconds histogram").count == 2)
        #expect(text.contains("# HELP cacheload_request_duration_seconds Test latencies."))
        let values = samples(registry)
        let labels = #"route="/a",note="say \"hi\"\\n""#
        #expect(values["cacheload_request_duration_seconds_bucket{\(labels),le=\"0.001\"}"] == 2)  // 0.5 ms and exactly 1 ms
        #expect(values["cacheload_request_duration_seconds_bucket{\(labels),le=\"0.01\"}"] == 3)
        #expect(values["cacheload_request_duration_seconds_bucket{\(labels),le=\"+Inf\"}"] == 4)
        #expect(values["cacheload_request_duration_seconds_count{\(labels)}"] == 4)
        let sum = try #require(values["cacheload_request_duration_seconds_sum{\(labels)}"])
        #expect(abs(sum - 2.0065) < 1e-9)
        // The same labels give the same series.
        #expect(family.series([("route", "/a"), ("note", "say \"hi\"\\n")]) === series)
    }

    @Test("concurrent recording from many tasks loses no observation")
    func concurrent() async throws {
        let registry = MetricsRegistry()
        let series = registry.lockFreeDurationHistogram("concurrent", help: "Concurrent.").series([])
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for index in 0..<10_000 { series.record(.microseconds((task * 10_000 + index) % 3000)) }
                }
            }
        }
        let values = samples(registry)
        #expect(values["cacheload_concurrent_seconds_count"] == 80_000)
        #expect(values["cacheload_concurrent_seconds_bucket{le=\"+Inf\"}"] == 80_000)
        // Every bucket holds exactly the observations at or below its bound.
        let recorded = (0..<8).flatMap { task in (0..<10_000).map { (task * 10_000 + $0) % 3000 } }
        #expect(values["cacheload_concurrent_seconds_bucket{le=\"0.001\"}"] == Double(recorded.count { $0 <= 1000 }))
        #expect(values["cacheload_concurrent_seconds_bucket{le=\"0.0005\"}"] == Double(recorded.count { $0 <= 500 }))
    }
}
