import Foundation

/// An INI file: `[section]` headers and `key = value` (or `key: value`) lines, `;`/`#` comments,
/// values optionally quoted. The one reader for the labs' `database.ini` (strict) and the AWS
/// shared credentials and config files (lenient, as the AWS SDKs read them).
package struct INIFile: Sendable, Equatable {
    /// `section → key → value`: section names as written (AWS profiles are case-sensitive), keys lower-cased.
    package private(set) var sections: [String: [String: String]] = [:]

    /// - Parameter strict: refuse a line of unknown shape (with its number) instead of skipping it.
    package init(text: String, strict: Bool = true) throws(INIError) {
        var current: String?
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix(";") || line.hasPrefix("#") { continue }
            do throws(INIError) {
                try read(line, number: index + 1, section: &current)
            } catch {
                if strict { throw error }
            }
        }
    }

    /// The file at `path` read leniently; `nil` when it cannot be read.
    package static func read(_ path: String) -> INIFile? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return try? INIFile(text: text, strict: false)
    }

    private mutating func read(_ line: String, number: Int, section current: inout String?) throws(INIError) {
        if line.hasPrefix("[") {
            guard line.hasSuffix("]"), line.count > 2 else { throw INIError(line: number, "a section header looks like [name]") }
            let name = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
            current = name
            sections[name, default: [:]] = sections[name] ?? [:]
            return
        }
        guard let separator = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else { throw INIError(line: number, "expected key=value") }
        guard let section = current else { throw INIError(line: number, "key=value before any [section]") }
        let key = line[..<separator].trimmingCharacters(in: .whitespaces).lowercased()
        guard !key.isEmpty else { throw INIError(line: number, "empty key") }
        var value = line[line.index(after: separator)...].trimmingCharacters(in: .whitespaces)
        if value.count >= 2, let first = value.first, first == value.last, first == "\"" || first == "'" {
            value = String(value.dropFirst().dropLast())
        }
        sections[section, default: [:]][key] = value
    }
}

/// A malformed INI file: the line and what was expected there.
package struct INIError: Error, Sendable, Equatable, CustomStringConvertible {
    package let line: Int
    package let message: String

    init(line: Int, _ message: String) {
        self.line = line
        self.message = message
    }

    package var description: String { "line \(line): \(message)" }
}
