/// The result of one statement: column names, rows of text values, and the affected row count.
package struct PostgresRows: Sendable, Sequence {
    /// Column names in result order.
    package let columns: [String]
    /// The rows, each a list of text values (`nil` for `NULL`).
    package let rows: [PostgresRow]
    /// Rows changed by `INSERT`/`UPDATE`/`DELETE` (`PQcmdTuples`), 0 otherwise.
    package let affectedRows: Int

    package func makeIterator() -> IndexingIterator<[PostgresRow]> { rows.makeIterator() }

    /// The number of rows returned.
    package var count: Int { rows.count }
    /// The first row, if any.
    package var first: PostgresRow? { rows.first }
}

/// One row of a result; values are PostgreSQL's text output, decoded on request.
package struct PostgresRow: Sendable {
    let columnIndex: [String: Int]
    /// The raw text values, `nil` for `NULL`.
    package let values: [String?]

    /// The text of column `name`, or `nil` when it is `NULL`.
    /// - Throws: `decoding` when the result has no such column.
    package func string(_ name: String) throws -> String? {
        guard let index = columnIndex[name] else {
            throw PostgresError(.decoding, "no column named \"\(name)\" in the result")
        }
        return values[index]
    }

    /// The value of column `name` decoded as `T`; `nil` for `NULL`.
    /// - Throws: `decoding` when the text is not a valid `T`.
    package func decode<T: PostgresDecodable>(_ type: T.Type = T.self, _ name: String) throws -> T? {
        guard let text = try string(name) else { return nil }
        guard let value = T(postgresText: text) else {
            throw PostgresError(.decoding, "column \"\(name)\" holds \"\(text.prefix(40))\", not a \(T.self)")
        }
        return value
    }
}

/// A Swift type that can be read from PostgreSQL's text output format.
package protocol PostgresDecodable {
    init?(postgresText: String)
}

extension String: PostgresDecodable { package init?(postgresText: String) { self = postgresText } }
extension Int: PostgresDecodable { package init?(postgresText: String) { self.init(postgresText) } }
extension Int64: PostgresDecodable { package init?(postgresText: String) { self.init(postgresText) } }
extension Double: PostgresDecodable { package init?(postgresText: String) { self.init(postgresText) } }
extension Bool: PostgresDecodable {
    package init?(postgresText: String) {
        switch postgresText {
        case "t", "true": self = true
        case "f", "false": self = false
        default: return nil
        }
    }
}
