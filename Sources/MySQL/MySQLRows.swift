/// A value sent as a bound parameter of a prepared statement: never spliced into SQL text.
package enum MySQLValue: Sendable, Equatable {
    case int(Int)
    case double(Double)
    case string(String)
    case null
}

/// Something that can be bound to a `?` placeholder.
package protocol MySQLBindable: Sendable {
    var mysqlValue: MySQLValue { get }
}

extension Int: MySQLBindable { package var mysqlValue: MySQLValue { .int(self) } }
extension Double: MySQLBindable { package var mysqlValue: MySQLValue { .double(self) } }
extension String: MySQLBindable { package var mysqlValue: MySQLValue { .string(self) } }
extension Optional: MySQLBindable where Wrapped: MySQLBindable {
    package var mysqlValue: MySQLValue { self?.mysqlValue ?? .null }
}

/// One row of a result, every column as the server's text for it (`DECIMAL` keeps its digits).
package struct MySQLRow: Sendable {
    package let columns: [String]
    package let values: [String?]

    /// The column's text; `nil` for SQL NULL or a column that is not there.
    package func string(_ column: String) -> String? {
        columns.firstIndex(of: column).flatMap { values[$0] }
    }

    /// The column as an integer; throws when it holds something else.
    package func int(_ column: String) throws -> Int? {
        guard let text = string(column) else { return nil }
        guard let value = Int(text) else { throw MySQLError(.decoding, "column \(column) holds \"\(text)\", not an integer") }
        return value
    }
}

/// What a statement returned: its rows (none for a write) and the rows it changed.
package struct MySQLResult: Sendable {
    package var rows: [MySQLRow]
    package var affectedRows: Int

    package var first: MySQLRow? { rows.first }
}
