import AWS
import Foundation
import Telemetry

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
package struct DatabaseINI: Sendable, Equatable {
    /// `section → key → value`, keys lower-cased.
    package private(set) var sections: [String: [String: String]] = [:]

    /// Parses INI text (`;`/`#` comments, `key = value` or `key: value`); section names are
    /// compared without case (`[PostgreSQL]` is `[postgresql]`).
    package init(text: String) throws(INIError) {
        let file = try INIFile(text: text)
        for (name, values) in file.sections {
            sections[name.lowercased(), default: [:]].merge(values) { _, new in new }
        }
    }

    /// `[redis] redis_url` (or `url`), if present.
    package var redisURL: String? {
        sections["redis"].flatMap { $0["redis_url"] ?? $0["url"] }
    }

    /// `[postgresql]` as a libpq keyword string (`host='…' port='…' dbname='…' user='…' password='…'`),
    /// if the section exists. `database` maps to libpq's `dbname`.
    package var postgresConnectionString: String? {
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

/// A malformed `database.ini`: the line and what was expected there (the INI reader's error).
package typealias DatabaseINIError = INIError
