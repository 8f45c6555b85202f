/// Durations as the command line writes them, one grammar for every option: `500ms`, `30s`,
/// `1m`, `1m30s`, `2h`. A bare number is refused (but `0`): `50` was seconds to one option and
/// milliseconds to another, and a unit costs nothing to write.
package enum DurationText {
    /// The longest duration any option takes, in seconds (a year).
    static let longest: Double = 365 * 24 * 3600

    package static func parse(_ text: String, option: String) throws(OptionValueError) -> Duration {
        let expected = "\(option) \"\(text)\": expected a duration such as 500ms, 30s, 1m or 1m30s"
        if let number = Double(text) {
            guard number == 0 else {
                throw OptionValueError("\(option) \"\(text)\": a bare number is ambiguous; give a unit, such as \(text)ms or \(text)s")
            }
            return .zero
        }
        var total = Duration.zero
        var number = ""
        var unit = ""
        func flush() throws(OptionValueError) {
            guard let value = Double(number), value >= 0 else { throw OptionValueError(expected) }
            let factor: Double
            switch unit {
            case "ms": factor = 0.001
            case "s": factor = 1
            case "m": factor = 60
            case "h": factor = 3600
            case "us", "µs": factor = 0.000001
            default: throw OptionValueError(expected)
            }
            // Bounded before the conversion: a number of 30 digits would trap converting to Int64
            // (found by the options fuzz target: "3s0666…6s").
            let seconds = value * factor
            guard seconds.isFinite, seconds <= Self.longest, total + .seconds(seconds) <= .seconds(Self.longest) else {
                throw OptionValueError("\(option) \"\(text)\": longer than a year; give a shorter duration")
            }
            total += .microseconds(Int64(seconds * 1_000_000))
            number = ""
            unit = ""
        }
        for character in text.lowercased() {
            if character.isNumber || character == "." {
                if !unit.isEmpty { try flush() }
                number.append(character)
            } else {
                guard !number.isEmpty else { throw OptionValueError(expected) }
                unit.append(character)
            }
        }
        guard !number.isEmpty else { throw OptionValueError(expected) }
        try flush()
        return total
    }
}

/// A command-line value that cannot be used; the message says what is expected.
package struct OptionValueError: Error, Sendable, Equatable, CustomStringConvertible {
    package let message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}

/// A whole number of seconds as a TTL-like option takes it: a bare number is seconds (as the
/// option's name and Redis's `EX` say), and any duration with a unit works too (`30s`, `1h`,
/// `1m30s`) — the same grammar as every duration option, so `--stale-while-revalidate 30s` and
/// `--lease-time 2s` are written alike.
package struct WholeSeconds: Sendable, Equatable, CustomStringConvertible {
    package let seconds: Int

    package init(_ seconds: Int) { self.seconds = seconds }

    /// `nil` for anything else, or a duration that is not a whole number of seconds.
    package init?(parsing text: String) {
        if let seconds = Int(text) {
            self.seconds = seconds
            return
        }
        guard let duration = try? DurationText.parse(text, option: ""), duration.components.attoseconds == 0 else { return nil }
        seconds = Int(duration.components.seconds)
    }

    package var description: String { "\(seconds)" }
}
