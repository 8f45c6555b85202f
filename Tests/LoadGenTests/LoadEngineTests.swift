import Foundation
import Histogram
import HTTPCurl
@testable import LoadGen
import NIOCore
import Testing
import TestSupport

@Suite("Load engine against real local targets")
struct LoadEngineTests {
    private func plan(_ url: String, connections: Int = 10, rate: Double? = nil, duration: Duration? = nil,
                      requests: Int? = nil, timeout: Duration = .seconds(5), keys: ClosedRange<Int> = 1...1005) throws -> LoadPlan {
        LoadPlan(template: try RequestTemplate(url: url), keys: keys, connections: connections, rate: rate,
                 duration: duration, requests: requests, timeout: timeout)
    }

    @Test("--requests N: exactly N sent and answered, none in flight, counts conserved")
    func exactCounts() async throws {
        let server = try await StallingServer(stallAfter: nil, stallFor: .zero)
        let result = try await LoadEngine(plan: plan("http://127.0.0.1:\(server.port)/x/{key}", connections: 10, requests: 1000)).run()
        #expect(result.counts.sent == 1000)
        #expect(result.counts.completed == 1000)
        #expect(result.counts.status2xx == 1000)
        #expect(result.counts.inFlightAtStop == 0)
        #expect(result.counts.sent == result.counts.completed + result.counts.failedRequests + result.counts.inFlightAtStop)
        #expect(result.latency.totalCount == 1000)
        try await server.close()
    }

    @Test("constant rate: every request the schedule has within the run is sent or reported unsent, none twice")
    func rateAccounting() async throws {
        let server = try await StallingServer(stallAfter: nil, stallFor: .zero)
        let result = try await LoadEngine(plan: plan("http://127.0.0.1:\(server.port)/", connections: 20, rate: 1000, duration: .seconds(3))).run()
        // The rate a machine reaches is make bench's business; the accounting is the generator's.
        #expect(result.counts.sent + result.counts.unsent == 3000, "sent \(result.counts.sent), unsent \(result.counts.unsent)")
        #expect(result.counts.sent == result.counts.completed + result.counts.failedRequests + result.counts.inFlightAtStop)
        #expect(result.counts.errors == 0)
        try await server.close()
    }

    @Test("stages: a ramp up, hold and down sends exactly the scheduled number of requests")
    func stagesRun() async throws {
        let server = try await StallingServer(stallAfter: nil, stallFor: .zero)
        var plan = try plan("http://127.0.0.1:\(server.port)/", connections: 10)
        plan.schedule = try RateSchedule(parsing: "1s:300,1s:300,1s:0")
        plan.duration = plan.schedule?.duration
        let result = try await LoadEngine(plan: plan).run()
        #expect(result.counts.sent == 600)
        #expect(result.counts.completed == 600)
        // The middle second runs at the full 300 req/s; the ramps at half that on average.
        #expect(result.seconds.count >= 3)
        #expect(abs(result.seconds[1].responses - 300) <= 6)
        #expect(abs(result.seconds[0].responses - 150) <= 6)
        try await server.close()
    }

    @Test("coordinated omission: a 500 ms stall shows in the open-loop percentiles, and hides in closed loop")
    func coordinatedOmission() async throws {
        // Open loop, 200 req/s for 3 s; every answer between 1.0 s and 1.5 s is held to 1.5 s.
        // About 100 of 600 requests are delayed, by 0–500 ms evenly: the slowest 10% of all
        // requests (60) waited over 200 ms, and the maximum is close to 500 ms.
        let openTarget = try await StallingServer(stallAfter: .seconds(1), stallFor: .milliseconds(500))
        let open = try await LoadEngine(plan: plan("http://127.0.0.1:\(openTarget.port)/", connections: 10, rate: 200, duration: .seconds(3))).run()
        try await openTarget.close()
        #expect(open.latencyMilliseconds(atPercentile: 90) > 150, "open-loop p90 \(open.latencyMilliseconds(atPercentile: 90))")
        #expect(open.latencyMilliseconds(atPercentile: 99) > 400)
        #expect((430...650).contains(Double(open.latency.max) / 1000), "open-loop max \(open.latency.max)")

        // Closed loop against the same stall: each connection waits once, so only ~10 of many
        // thousands of samples show it and the p90 stays small — the omission wrk2 corrects.
        let closedTarget = try await StallingServer(stallAfter: .seconds(1), stallFor: .milliseconds(500))
        let closed = try await LoadEngine(plan: plan("http://127.0.0.1:\(closedTarget.port)/", connections: 10, duration: .seconds(3))).run()
        try await closedTarget.close()
        #expect(closed.latencyMilliseconds(atPercentile: 90) < 50, "closed-loop p90 \(closed.latencyMilliseconds(atPercentile: 90))")
        #expect(closed.counts.completed > open.counts.completed)
    }

    @Test("client-side hit ratio equals the server's own counters")
    func hitRatioMatchesServer() async throws {
        let server = try await TestServer.start()
        let result = try await LoadEngine(plan: plan("\(server.baseURL)/product/{key}", connections: 20, requests: 3000, keys: 1...300)).run()
        let stats = try await server.serverStats()
        #expect(result.counts.completed == 3000)
        #expect(result.counts.hits == stats["hits"] as? Int)
        #expect(result.counts.misses == stats["misses"] as? Int)
        // Every key missed at least once; concurrent misses of one key share one origin query.
        #expect(result.counts.misses >= 300)
        #expect(result.counts.hits + result.counts.misses == 3000)
        #expect(stats["origin_queries"] as? Int == 300)
        #expect(abs((result.hitRatio ?? 0) - (stats["hit_ratio"] as? Double ?? -1)) < 1e-9)
        await server.stop()
    }

    @Test("--mix get:90,put:10: about one request in ten is a PUT, written through by the server")
    func readWriteMix() async throws {
        let server = try await TestServer.start()
        var plan = try plan("\(server.baseURL)/product/{key}", connections: 10, requests: 1000, keys: 1...50)
        let headers = [("Authorization", "Bearer \(server.adminToken!)")]
        plan.template = try RequestTemplate(url: "\(server.baseURL)/product/{key}", headers: headers)
        let body = Array(#"{"name":"Written by the mix","price":1.5}"#.utf8)
        plan.mix = [(try RequestTemplate(url: "\(server.baseURL)/product/{key}", method: "PUT",
                                         headers: headers + [("Content-Type", "application/json")], body: body), 0.1)]
        let result = try await LoadEngine(plan: plan).run()
        #expect(result.counts.status2xx == 1000)
        let metrics = try await server.request(.GET, "/metrics").text
        let puts = metrics.split(separator: "\n").first { $0.hasPrefix("cacheload_http_request_duration_seconds_count{route=\"/product/{id}\",status=\"200\",cache=\"none\"}") }
            .flatMap { $0.split(separator: " ").last.flatMap { Int($0) } } ?? 0
        #expect((60...140).contains(puts), "PUTs: \(puts)")
        #expect(result.counts.hits + result.counts.misses == 1000 - puts)
        await server.stop()
    }

    @Test("refused connections are counted and the run ends on time")
    func refused() async throws {
        let port = freeLoopbackPort()
        let clock = ContinuousClock()
        let start = clock.now
        let result = try await LoadEngine(plan: plan("http://127.0.0.1:\(port)/", connections: 5, duration: .seconds(1))).run()
        #expect(clock.now - start < .seconds(3))
        #expect(result.counts.connectErrors >= 5)
        #expect(result.counts.completed == 0)
    }

    @Test("a target that never answers: timeouts counted, no hang")
    func timeouts() async throws {
        let server = try await StallingServer(stallAfter: .zero, stallFor: .seconds(60))
        let clock = ContinuousClock()
        let start = clock.now
        let result = try await LoadEngine(plan: plan("http://127.0.0.1:\(server.port)/", connections: 4, duration: .seconds(1), timeout: .milliseconds(300))).run()
        #expect(clock.now - start < .seconds(4))
        #expect(result.counts.timeouts >= 4)
        #expect(result.counts.completed == 0)
        try await server.close()
    }

    @Test("a target that resets every connection: resets counted, the run ends on time, the CLI exits 1")
    func resets() async throws {
        let server = try await ResettingServer()
        let clock = ContinuousClock()
        let start = clock.now
        let result = try await LoadEngine(plan: plan("http://127.0.0.1:\(server.port)/", connections: 4, duration: .seconds(1), timeout: .milliseconds(500))).run()
        #expect(clock.now - start < .seconds(4))
        #expect(result.counts.resets >= 4)
        #expect(result.counts.completed == 0)
        #expect(result.counts.sent == result.counts.completed + result.counts.failedRequests + result.counts.inFlightAtStop)

        let binary = TestServices.cacheloadBinary
        let pid = try spawn(binary, ["load", "http://127.0.0.1:\(server.port)/", "--connections", "2", "--duration", "1s", "--quiet"])
        #expect(waitForExit(pid) == 1)
        try await server.close()
    }

    @Test("JSON round-trip keeps the histogram; merging two results equals one combined histogram")
    func jsonAndMerge() async throws {
        let server = try await StallingServer(stallAfter: nil, stallFor: .zero)
        let first = try await LoadEngine(plan: plan("http://127.0.0.1:\(server.port)/", connections: 4, requests: 500)).run()
        let second = try await LoadEngine(plan: plan("http://127.0.0.1:\(server.port)/", connections: 4, requests: 700)).run()
        try await server.close()

        let decoded = try LoadResult.fromJSON(first.jsonData())
        #expect(decoded.counts == first.counts)
        #expect(decoded.latency == first.latency)

        var merged = try LoadResult.fromJSON(first.jsonData())
        merged.merge(try LoadResult.fromJSON(second.jsonData()))
        var combined = first.latency
        combined.add(second.latency)
        #expect(merged.latency == combined)
        #expect(merged.counts.completed == 1200)
        #expect(merged.latency.valueAtPercentile(99) == combined.valueAtPercentile(99))
    }
}
