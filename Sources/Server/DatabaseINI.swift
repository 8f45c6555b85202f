import Foundation

/// The reference labs' `config/database.ini`:
///
/// ```ini
/// [postgresql]
/// host=localhost
/// port=5432
/// database=postgres
/// user=postgres
/// password=secret
///
/// [redis]
/// redis_url=redis://localhost:6379/0
/// ```
///
/// Parsed strictly: an unknown line shape is an error with its line number, never ignored.
public struct DatabaseINI: Sendable, Equatable {
    /// `section → key → value`, keys lower-cased.
    public private(set) var sections: [String: [String: String]] = [:]

    /// Parses INI text (`;`/`#` comments, `key = value` or `key: value`).
    public init(text: String) throws(DatabaseINIError) {
        var current: String?
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix(";") || line.hasPrefix("#") { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]"), line.count > 2 else {
                    throw DatabaseINIError(line: index + 1, "a section header looks like [name]")
                }
                let name = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces).lowercased()
                current = name
                sections[name, default: [:]] = sections[name] ?? [:]
                continue
            }
            guard let separator = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                throw DatabaseINIError(line: index + 1, "expected key=value")
            }
            guard let section = current else {
                throw DatabaseINIError(line: index + 1, "key=value before any [section]")
            }
            let key = line[..<separator].trimmingCharacters(in: .whitespaces).lowercased()
            guard !key.isEmpty else { throw DatabaseINIError(line: index + 1, "empty key") }
            var value = line[line.index(after: separator)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let first = value.first, first == value.last, first == "\"" || first == "'" {
                value = String(value.dropFirst().dropLast())
            }
            sections[section, default: [:]][key] = value
        }
    }

    /// `[redis] redis_url` (or `url`), if present.
    public var redisURL: String? {
        sections["redis"].flatMap { $0["redis_url"] ?? $0["url"] }
    }

    /// `[postgresql]` as a libpq keyword string (`host='…' port='…' dbname='…' user='…' password='…'`),
    /// if the section exists. `database` maps to libpq's `dbname`.
    public var postgresConnectionString: String? {
        guard let section = sections["postgresql"] ?? sections["postgres"] else { return nil }
        if let url = section["url"] { return url }
        let mapping = [("host", "host"), ("port", "port"), ("database", "dbname"), ("dbname", "dbname"),
                       ("user", "user"), ("password", "password"), ("sslmode", "sslmode"), ("sslrootcert", "sslrootcert")]
        return mapping.compactMap { key, keyword in
            section[key].map { "\(keyword)='\(Self.quote($0))'" }
        }.joined(separator: " ")
    }

    private static func quote(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
    }
}

/// A malformed INI file: the line and what was expected there.
public struct DatabaseINIError: Error, Sendable, Equatable, CustomStringConvertible {
    public let line: Int
    public let message: String

    init(line: Int, _ message: String) {
        self.line = line
        self.message = message
    }

    public var description: String { "line \(line): \(message)" }
}
