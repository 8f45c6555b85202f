import Foundation
@testable import LoadGen
import Telemetry
import Testing

@Suite("Seeded fuzzing of the expressions users type")
struct FuzzTests {
    /// Random strings over an alphabet that reaches every branch of the parsers.
    private func inputs(_ alphabet: String, count: Int, seed: UInt64) -> [String] {
        var generator = SplitMix64(seed: seed)
        let characters = Array(alphabet)
        return (0..<count).map { _ in
            String((0..<Int(generator.next() % 24)).map { _ in characters[Int(generator.next() % UInt64(characters.count))] })
        }
    }

    @Test("threshold, stage, distribution, mix, duration and URL parsers either parse or throw their error")
    func expressions() {
        for text in inputs("p9.<>=ms%_hitraoezunfsqlg0123456789:,- ", count: 20_000, seed: 1) {
            do { _ = try Threshold(parsing: text) } catch { #expect(!error.message.isEmpty) }
            do { _ = try RateSchedule(parsing: text) } catch { #expect(error.message.contains("--stages")) }
            do { _ = try KeyDistribution(parsing: text) } catch { #expect(error.message.contains("--distribution")) }
            do { _ = try RequestMix.parse(text) } catch { #expect(error.message.contains("--mix")) }
            do { _ = try DurationText.parse(text, option: "--duration") } catch { #expect(error.message.contains("--duration")) }
        }
        for text in inputs("htp:/[]1270.8@ {key}%\r\n", count: 5_000, seed: 2) {
            do { _ = try RequestTemplate(url: text) } catch { #expect(error.message.contains("expected")) }
        }
    }

    @Test("valid random schedules stay monotonic and end where their count says")
    func schedules() throws {
        var generator = SplitMix64(seed: 3)
        for _ in 0..<200 {
            let stages = (0..<Int(1 + generator.next() % 4)).map { _ in
                (Duration.milliseconds(Int64(100 + generator.next() % 2000)), Double(generator.next() % 500))
            }
            let schedule = RateSchedule(stages: stages)
            let total = Int(schedule.expectedCount(within: 1e9).rounded(.down))
            var previous = -1.0
            for index in stride(from: 0, to: total, by: max(1, total / 50)) {
                let time = try #require(schedule.time(ofRequest: index))
                #expect(time >= previous)
                previous = time
            }
            #expect(schedule.time(ofRequest: total + 1) == nil)
        }
    }
}
