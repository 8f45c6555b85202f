import AWS
import Foundation
import Server
import Telemetry
import Testing

@Suite("Seeded fuzzing of the INI reader")
struct INIFuzzTests {
    @Test("random INI text parses or fails with a line number, never crashes")
    func randomINI() {
        var state: UInt64 = 42
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            return z ^ (z >> 27)
        }
        let alphabet = Array("[]=:;#\n\r\t 'abcpostgresqlredis_url\"é\0")
        for _ in 0..<20_000 {
            let text = String((0..<Int(next() % 80)).map { _ in alphabet[Int(next() % UInt64(alphabet.count))] })
            do {
                let ini = try DatabaseINI(text: text)
                _ = ini.postgresConnectionString
                _ = ini.redisURL
            } catch {
                #expect(error.line >= 1)
            }
        }
    }
}
