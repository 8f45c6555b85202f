/// Durations as the command line writes them: `500ms`, `30s`, `1m`, `1m30s`, `2h`; a bare
/// number is seconds.
package enum DurationText {
    package static func parse(_ text: String, option: String) throws(OptionValueError) -> Duration {
        let expected = "\(option) \"\(text)\": expected a duration such as 500ms, 30s, 1m or 1m30s"
        if let seconds = Double(text), seconds >= 0 { return .milliseconds(Int64(seconds * 1000)) }
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
            total += .microseconds(Int64(value * factor * 1_000_000))
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
