import Foundation
import Histogram
@testable import LoadGen
import NIOCore
import Testing

/// A long run's time series in bounded memory: old seconds folded into their minutes, counts
/// and percentiles kept, the folded histograms where CloudWatch and the HDR log need them.
@Suite("Time series: older seconds folded into minutes")
struct TimeSeriesTests {
    /// Second `s` of a run: `s + 1` answers, latencies `1000 × (s + 1 … 2s + 1)` µs.
    private func sample(_ second: Int) -> SecondSample {
        var sample = SecondSample(second: second)
        for value in (second + 1)...(2 * second + 1) {
            sample.record(microseconds: UInt64(value * 1000), cache: value % 3 == 0 ? .miss : .hit, status: 200)
        }
        return sample
    }

    @Test("200 seconds, the last 60 detailed: counts and every second's p50/p99 kept, histograms only for 60, minutes hold the rest")
    func foldKeepsWhatChartsNeed() {
        // 1,000,070: second 0 is 50 s into a wall-clock minute (16667 × 60 = 1,000,020), so the first minute holds 10 seconds.
        var series = TimeSeries(startedAt: 1_000_070)
        let samples = (0..<200).map(sample)
        series.add(samples)
        series.foldAllButLast(60)
        #expect(series.seconds.count == 200)
        #expect(series.seconds.filter { $0.histogram != nil }.map(\.second) == Array(140..<200))
        for (folded, original) in zip(series.seconds, samples) {
            #expect(folded.responses == original.responses && folded.hits == original.hits && folded.misses == original.misses)
            #expect(folded.p50 == original.p50 && folded.p99 == original.p99, "second \(original.second)")
        }
        let minutes = series.orderedMinutes
        #expect(minutes.first?.firstSecond == 0 && minutes.first?.lastSecond == 9)
        #expect(minutes.dropFirst().first?.firstSecond == 10 && minutes.dropFirst().first?.lastSecond == 69)
        #expect(minutes.last?.lastSecond == 139)
        let foldedAnswers = samples[0..<140].reduce(0) { $0 + $1.responses }
        #expect(minutes.reduce(0) { $0 + Int($1.histogram.totalCount) } == foldedAnswers)
        #expect(minutes.map(\.minute) == [16667, 16668, 16669, 16670])
    }

    @Test("a late answer to a folded second: counted in the second, its latency in the minute")
    func lateAnswerToFoldedSecond() {
        var series = TimeSeries(startedAt: 0)
        series.add((0..<5).map(sample))
        series.fold(before: 3)
        var late = SecondSample(second: 1)
        late.record(microseconds: 9_000_000, cache: .hit, status: 200)
        series.add([late])
        #expect(series.seconds[1].responses == 3)
        #expect(series.seconds[1].isFolded)
        #expect(series.orderedMinutes.first?.histogram.max ?? 0 >= 8_900_000)
    }

    @Test("merging results: detailed seconds add exactly; a folded second takes the weighted p50 and the higher p99")
    func mergeFolded() {
        var first = TimeSeries(startedAt: 0)
        first.add([sample(10)])
        var second = TimeSeries(startedAt: 0)
        second.add([sample(30)])
        second.fold(before: 31)
        let p99s = (first.seconds[10].p99, second.seconds[30].p99)
        var merged = TimeSeries(startedAt: 0, seconds: [first.seconds[10]])
        var moved = second.seconds[30]
        moved.second = 10
        merged.add([moved])
        #expect(merged.seconds[10].responses == 11 + 31)
        #expect(merged.seconds[10].isFolded)
        #expect(merged.seconds[10].p99 == max(p99s.0, p99s.1))
        let weighted = (sample(10).p50 * 11 + sample(30).p50 * 31) / 42
        #expect(abs(merged.seconds[10].p50 - weighted) < 1e-9)
        // The detailed side's histogram went to the minute: nothing is lost from the distribution.
        #expect(merged.orderedMinutes.reduce(0) { $0 + $1.histogram.totalCount } == 11)
    }

    @Test("an engine run longer than its detailed window: seconds folded during the run, every answer in the HDR log once")
    func engineFoldsDuringTheRun() async throws {
        let server = try await StallingServer(stallAfter: nil, stallFor: .zero)
        var plan = LoadPlan(template: try RequestTemplate(url: "http://127.0.0.1:\(server.port)/"), keys: 1...100, connections: 4,
                            rate: 200, duration: .seconds(6), timeout: .milliseconds(500))
        plan.detailedSeconds = 2
        let result = try await LoadEngine(plan: plan).run()
        try await server.close()
        #expect(result.seconds.count >= 6)
        #expect(result.seconds.filter { $0.histogram != nil }.count == 2)
        let minutes = try #require(result.minutes)
        let detailed = result.seconds.compactMap(\.histogram).reduce(0) { $0 + Int($1.totalCount) }
        #expect(minutes.reduce(0) { $0 + Int($1.histogram.totalCount) } + detailed == result.counts.completed)
        #expect(result.seconds.reduce(0) { $0 + $1.responses } == result.counts.completed)
        #expect(result.seconds.dropLast(2).allSatisfy { $0.responses == 0 || $0.p99 > 0 }, "folded seconds keep their percentiles")
        // The log: one interval per folded minute and one per detailed second, in order.
        let intervals = HdrIntervalLog.text(of: result).split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.hasPrefix("\"") }
        #expect(intervals.count == minutes.count + 2, "\(intervals)")
        let starts = intervals.compactMap { Double($0.split(separator: ",")[0]) }
        #expect(starts == starts.sorted())
        // Round trip through JSON: what report merge reads.
        let decoded = try LoadResult.fromJSON(try result.jsonData())
        #expect(decoded.minutes?.count == minutes.count)
        #expect(decoded.seconds.map(\.p99) == result.seconds.map(\.p99))
    }
}
