import Foundation
import NIOCore
@testable import LoadGen
import Telemetry
import Testing
import TestSupport

@Suite("Load generator inputs: distributions, templates, thresholds, durations, HTTP scanning")
struct ParsingTests {
    @Test("zipf and hotset frequencies match their definitions; a seed repeats the sequence")
    func distributions() throws {
        var zipf = KeySampler(keys: 1...1000, distribution: .zipf(1.0), seed: 7)
        var counts = [Int: Int]()
        let draws = 200_000
        for _ in 0..<draws { counts[zipf.nextKey(), default: 0] += 1 }
        // P(key 1) = 1 / H(1000) ≈ 0.1336; P(key 2) is half of it.
        let harmonic = (1...1000).reduce(0.0) { $0 + 1 / Double($1) }
        #expect(abs(Double(counts[1]!) / Double(draws) - 1 / harmonic) < 0.005)
        #expect(abs(Double(counts[1]!) / Double(counts[2]!) - 2) < 0.1)

        var hotset = KeySampler(keys: 1...1000, distribution: .hotset(keys: 0.2, requests: 0.8), seed: 7)
        var hot = 0
        for _ in 0..<draws where hotset.nextKey() <= 200 { hot += 1 }
        #expect(abs(Double(hot) / Double(draws) - 0.8) < 0.01)

        var a = KeySampler(keys: 1...1005, distribution: .uniform, seed: 42)
        var b = KeySampler(keys: 1...1005, distribution: .uniform, seed: 42)
        var c = KeySampler(keys: 1...1005, distribution: .uniform, seed: 43)
        let sequenceA = (0..<100).map { _ in a.nextKey() }
        #expect(sequenceA == (0..<100).map { _ in b.nextKey() })
        #expect(sequenceA != (0..<100).map { _ in c.nextKey() })
        #expect(sequenceA.allSatisfy { (1...1005).contains($0) })
        var sequential = KeySampler(keys: 5...7, distribution: .sequential, seed: 0)
        #expect((0..<5).map { _ in sequential.nextKey() } == [5, 6, 7, 5, 6])
    }

    @Test("bad distribution, URL, threshold and duration syntax is refused with what is expected")
    func badSyntax() {
        for text in ["zipf", "zipf:-1", "hotset:0.2", "hotset:2:0.8", "gaussian"] {
            #expect(throws: LoadOptionError.self) { try KeyDistribution(parsing: text) }
        }
        for url in ["ftp://x/", "https://", "http://", "http://host:99999/", "127.0.0.1:8080/x"] {
            #expect(throws: LoadOptionError.self) { try RequestTemplate(url: url) }
        }
        // `inf` and `nan` parse as Doubles: refused as threshold values (rate>inf judged nothing).
        for text in ["p99", "p99<", "p200<5ms", "latency<5ms", "hit_ratio>2", "errors<abc", "p99<5parsecs",
                     "rate>inf", "errors<inf", "unsent<infinity", "p99<infms", "max<nans"] {
            #expect(throws: LoadOptionError.self) { try Threshold(parsing: text) }
        }
        for text in ["", "5x", "ms", "-1s"] {
            #expect(throws: LoadOptionError.self) { try DurationText.parse(text, option: "--duration") }
        }
        do {
            _ = try Threshold(parsing: "p99 < fast")
        } catch {
            #expect(error.message.contains("expected"))
        }
    }

    @Test("stages: the schedule follows each linear ramp exactly")
    func stages() throws {
        let schedule = try RateSchedule(parsing: "2s:400,2s:400,2s:0")
        #expect(schedule.duration == .seconds(6))
        #expect(schedule.expectedCount(within: 6) == 1600)
        #expect(schedule.rate(at: 1) == 200)
        #expect(schedule.rate(at: 3) == 400)
        #expect(schedule.rate(at: 5) == 200)
        // Request n is due when n + ½ requests have been scheduled: on the first ramp
        // N(τ) = 100·τ², so request 100 is due at √(100.5/100) s.
        #expect(abs(schedule.time(ofRequest: 100)! - (100.5 / 100).squareRoot()) < 1e-9)
        #expect(schedule.time(ofRequest: 1599) != nil)
        #expect(schedule.time(ofRequest: 1600) == nil)
        let times = (0..<1600).map { schedule.time(ofRequest: $0)! }
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(RateSchedule(constant: 100).time(ofRequest: 50) == 0.505)
        for text in ["", "30s", "30s:-1", "x:100", "0s:100", "30s:100,"] where !text.hasSuffix(",") {
            #expect(throws: LoadOptionError.self) { try RateSchedule(parsing: text) }
        }
    }

    @Test("--mix parses into shares and refuses the rest")
    func mixSyntax() throws {
        let shares = try RequestMix.parse("get:95,put:5")
        #expect(shares.map(\.method) == ["GET", "PUT"])
        #expect(abs(shares[1].share - 0.05) < 1e-12)
        for text in ["get", "get:x", "fetch:5", "get:5,get:5", "get:0"] {
            #expect(throws: LoadOptionError.self) { try RequestMix.parse(text) }
        }
    }

    @Test("durations and thresholds parse")
    func goodSyntax() throws {
        #expect(try DurationText.parse("1m30s", option: "") == .seconds(90))
        #expect(try DurationText.parse("500ms", option: "") == .milliseconds(500))
        #expect(try DurationText.parse("0", option: "") == .zero)
        #expect(try Threshold(parsing: "p99<50ms").value == 50)
        #expect(try Threshold(parsing: "p99.9 <= 1s").value == 1000)
        #expect(try Threshold(parsing: "hit_ratio>80%").value == 0.8)
        #expect(try Threshold(parsing: "errors<0.1%").value == 0.001)
    }

    @Test("one duration grammar: a bare number is refused as a duration and as a threshold value, never seconds here and ms there")
    func bareNumbersRefused() {
        #expect(throws: OptionValueError.self) { try DurationText.parse("50", option: "--latency-p99") }
        do {
            _ = try DurationText.parse("50", option: "--latency-p99")
        } catch {
            #expect(error.message.contains("give a unit, such as 50ms or 50s"), "\(error)")
        }
        #expect(throws: LoadOptionError.self) { try Threshold(parsing: "p99<10") }
        // Found by `make fuzz` (options): a 34-digit number of seconds trapped converting to Int64.
        #expect(throws: OptionValueError.self) { try DurationText.parse("3s0666666666666666666666666666666666s", option: "-d") }
        #expect(throws: OptionValueError.self) { try DurationText.parse("99999999999999999999h", option: "-d") }
        #expect(WholeSeconds(parsing: "3s0666666666666666666666666666666666s") == nil)
        #expect(WholeSeconds(parsing: "30")?.seconds == 30)
        #expect(WholeSeconds(parsing: "30s")?.seconds == 30)
        #expect(WholeSeconds(parsing: "1h")?.seconds == 3600)
        #expect(WholeSeconds(parsing: "1500ms") == nil)
    }

    @Test("one size grammar: bytes, K/KB/KiB, M/MB/MiB, G/GB/GiB (binary), anything else refused with the option named",
          arguments: [("1048576", 1 << 20), ("64MB", 64 << 20), ("64MiB", 64 << 20), ("64m", 64 << 20), ("1KB", 1024), ("1kib", 1024), ("2G", 2 << 30)])
    func sizes(_ text: String, _ bytes: Int) throws {
        #expect(try SizeText.parse(text, option: "--near-cache-bytes") == bytes)
    }

    @Test("sizes that are none: refused with the option named", arguments: ["64 MB extra", "-1", "1.5MB", "MB", "64TB", ""])
    func badSizes(_ text: String) {
        do {
            _ = try SizeText.parse(text, option: "--size")
            Issue.record("\(text) was taken")
        } catch {
            #expect(error.message.hasPrefix("--size"), "\(error)")
        }
    }

    @Test("HTML report: every time chart ends at the same second (a last sliver of a second left out of all); stages draw their ramp")
    func reportChartsAgree() throws {
        var recorder = Recorder(targets: 1)
        for second in 0...2 { recorder.recordResponse(second: second, microseconds: 1000, status: 200, cache: .hit) }
        var plan = LoadPlan(template: try RequestTemplate(url: "http://127.0.0.1:1/{key}"), keys: 1...10, distribution: .uniform, seed: 1,
                            connections: 1, rate: nil, duration: .seconds(2), timeout: .seconds(1))
        let series = TimeSeries(startedAt: 0, seconds: recorder.seconds)
        let closed = LoadResult(plan: plan, recorder: recorder, series: series, duration: .milliseconds(2100), interrupted: false)
        #expect(closed.chartedSeconds.map(\.second) == [0, 1], "a 0.1 s last second is in no chart")

        plan.schedule = try RateSchedule(parsing: "1s:100,1s:300,1s:0")
        plan.duration = .seconds(3)
        let staged = LoadResult(plan: plan, recorder: recorder, series: series, duration: .seconds(3), interrupted: false)
        let rates = try #require(staged.scheduledRates)
        #expect(rates.count == 3)
        for (rate, expected) in zip(rates, [50.0, 200, 150]) { #expect(abs(rate - expected) < 1, "\(rates)") }
    }

    @Test("the response scanner finds every response whatever the split: lengths, chunked, 1xx, close")
    func scanner() throws {
        let stream = Array(("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Cache: HIT\r\n\r\nhello"
            + "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nx-cache: miss\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
            + "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nX-Cache: BYPASS\r\nConnection: close\r\n\r\n"
            + "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx").utf8)
        let expected: [ResponseScanner.Response] = [
            .init(status: 200, cache: .hit, close: false, source: .xCache, hops: 1), .init(status: 404, cache: .miss, close: false, source: .xCache, hops: 1),
            .init(status: 503, cache: .bypass, close: true, source: .xCache, hops: 1), .init(status: 200, cache: .none, close: true),
        ]
        for cut in 0...stream.count {
            var scanner = ResponseScanner()
            var responses: [ResponseScanner.Response] = []
            for part in [Array(stream[..<cut]), Array(stream[cut...])] {
                try part.withUnsafeBytes { try scanner.consume($0) { responses.append($0) } }
            }
            #expect(responses == expected, "cut at \(cut)")
        }
        var bad = ResponseScanner()
        #expect(throws: ResponseScanner.MalformedResponse.self) {
            try Array("SMTP ready\r\n".utf8).withUnsafeBytes { try bad.consume($0) { _ in } }
        }
    }

    @Test("lengths, chunk sizes and status lines from a target are untrusted: malformed is an error, never a crash or a 2xx",
          arguments: ["Content-Length: 9223372036854775808", "Content-Length: 99999999999999999999999", "Content-Length: -5",
                      "Content-Length: 18446744073709551621", "Content-Length: 1e3", "Content-Length: 5, 5", "Content-Length:",
                      "Content-Length: 2199023255553", "Content-Length: 5\r\nContent-Length: 6",
                      "Transfer-Encoding: chunked\r\n\r\n-5", "Transfer-Encoding: chunked\r\n\r\n+5", "Transfer-Encoding: chunked\r\n\r\n0x5",
                      "Transfer-Encoding: chunked\r\n\r\nfffffffffffffffff"])
    func hostileFraming(_ header: String) {
        let bytes = Array("HTTP/1.1 200 OK\r\n\(header)\r\n\r\nhello\r\n".utf8)
        var scanner = ResponseScanner()
        var responses: [ResponseScanner.Response] = []
        #expect(throws: ResponseScanner.MalformedResponse.self, "\(header)") {
            try bytes.withUnsafeBytes { try scanner.consume($0) { responses.append($0) } }
        }
        #expect(responses.isEmpty, "\(header): \(responses)")
    }

    @Test("a status line with more or fewer than three digits, or a code under 100, is malformed", arguments: ["HTTP/1.1 2000 OK", "HTTP/1.1 099 X", "HTTP/1.1 20 OK"])
    func hostileStatusLine(_ line: String) {
        var scanner = ResponseScanner()
        #expect(throws: ResponseScanner.MalformedResponse.self, "\(line)") {
            try Array("\(line)\r\nContent-Length: 0\r\n\r\n".utf8).withUnsafeBytes { try scanner.consume($0) { _ in } }
        }
    }

    @Test("cacheload load exits 99 when a threshold fails and says which")
    func thresholdExitCode() async throws {
        let server = try await StallingServer(stallAfter: nil, stallFor: .zero)
        let binary = TestServices.cacheloadBinary
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("load-\(UUID()).txt").path
        let pid = try spawn(binary, ["load", "http://127.0.0.1:\(server.port)/", "--requests", "200", "-c", "2", "-q",
                                     "--threshold", "p99<1us", "--threshold", "errors<1"], outputPath: output)
        #expect(waitForExit(pid) == 99)
        let text = try String(contentsOfFile: output, encoding: .utf8)
        #expect(text.contains("✗ p99<1us"))
        #expect(text.contains("✓ errors<1"))
        let passing = try spawn(binary, ["load", "http://127.0.0.1:\(server.port)/", "--requests", "50", "-c", "2", "-q", "--threshold", "errors<1"])
        #expect(waitForExit(passing) == 0)
        let badURL = try spawn(binary, ["load", "ftp://nowhere/"])
        #expect(waitForExit(badURL) != 0)
        try? FileManager.default.removeItem(atPath: output)
        try await server.close()
    }
}
