import Foundation

/// The `[client]` section of a MySQL option file (`~/.my.cnf`, or the file a URL names with
/// `defaults-file=`), read as the `mysql` client reads it: `key=value` or a bare `key`,
/// `#` and `;` comments, values optionally quoted, `_` and `-` alike in keys. Other groups,
/// unknown keys and `!include` lines are left alone: an option file is shared with other
/// programs, and only what a connection needs is taken from it.
package struct MySQLOptionFile: Sendable, Equatable {
    /// The `[client]` options, keys with `-` (`ssl-ca`, `connect-timeout`).
    package private(set) var values: [String: String] = [:]

    /// Parses option-file text; never fails (a line it cannot read is skipped, as `mysql` warns
    /// and goes on).
    package init(parsing text: String) {
        var inClient = false
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") || line.hasPrefix("!") { continue }
            if line.hasPrefix("[") {
                inClient = line.dropFirst().prefix { $0 != "]" }.trimmingCharacters(in: .whitespaces).lowercased() == "client"
                continue
            }
            guard inClient else { continue }
            let parts = line.split(separator: "=", maxSplits: 1)
            let key = parts[0].trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: "_", with: "-")
            values[key] = parts.count == 2 ? Self.unquoted(parts[1].trimmingCharacters(in: .whitespaces)) : ""
        }
    }

    /// Reads the file at `path`.
    /// - Throws: `MySQLError(.configuration)` when it cannot be read.
    package init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw MySQLError(.configuration, "option file \(path) cannot be read: check the path and its permissions")
        }
        self.init(parsing: text)
    }

    /// The file a connection reads: `defaults-file` when the URL names one (it must exist),
    /// otherwise `~/.my.cnf` when there is one, otherwise none.
    static func resolve(named path: String?, environment: [String: String]) throws -> MySQLOptionFile? {
        if let path { return try MySQLOptionFile(contentsOf: path) }
        guard let home = environment["HOME"], !home.isEmpty else { return nil }
        let user = (home as NSString).appendingPathComponent(".my.cnf")
        return FileManager.default.isReadableFile(atPath: user) ? try MySQLOptionFile(contentsOf: user) : nil
    }

    package subscript(key: String) -> String? { values[key] }

    /// A value without its surrounding quotes and, unquoted, without a trailing comment.
    private static func unquoted(_ value: String) -> String {
        if let quote = value.first, quote == "\"" || quote == "'", let end = value.dropFirst().firstIndex(of: quote) {
            return String(value[value.index(after: value.startIndex)..<end])
        }
        guard let comment = value.firstIndex(of: "#") else { return value }
        return value[..<comment].trimmingCharacters(in: .whitespaces)
    }
}
