/// A value that can be sent to PostgreSQL as a bind parameter (text format).
package protocol PostgresBindable: Sendable {
    /// The parameter in PostgreSQL's text input format, or `nil` for SQL `NULL`.
    var postgresText: String? { get }
}

extension String: PostgresBindable { package var postgresText: String? { self } }
extension Substring: PostgresBindable { package var postgresText: String? { String(self) } }
extension Int: PostgresBindable { package var postgresText: String? { String(self) } }
extension Int32: PostgresBindable { package var postgresText: String? { String(self) } }
extension Int64: PostgresBindable { package var postgresText: String? { String(self) } }
extension Double: PostgresBindable { package var postgresText: String? { String(self) } }
extension Bool: PostgresBindable { package var postgresText: String? { self ? "t" : "f" } }
extension Optional: PostgresBindable where Wrapped: PostgresBindable {
    package var postgresText: String? { self.flatMap(\.postgresText) }
}

/// A SQL statement whose values travel as bind parameters, never inside the SQL text.
///
/// String interpolation turns each interpolated value into a `$n` placeholder:
/// ```swift
/// let query: PostgresQuery = "SELECT name FROM products WHERE id = \(id)"
/// // sql: "SELECT name FROM products WHERE id = $1", binds: [id]
/// ```
/// A statement built from a runtime string needs ``init(unsafeSQL:binds:)``, which names the risk.
package struct PostgresQuery: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// The SQL with `$1…$n` placeholders.
    package private(set) var sql: String
    /// The parameters, in placeholder order, in text format (`nil` is SQL `NULL`).
    package private(set) var binds: [String?]

    /// A statement from SQL text that is not a literal. The caller vouches that `sql` holds no
    /// untrusted input; values still belong in `binds`.
    package init(unsafeSQL sql: String, binds: [any PostgresBindable] = []) {
        self.sql = sql
        self.binds = binds.map(\.postgresText)
    }

    package init(stringLiteral value: String) {
        self.sql = value
        self.binds = []
    }

    package init(stringInterpolation: StringInterpolation) {
        self.sql = stringInterpolation.sql
        self.binds = stringInterpolation.binds
    }

    package var description: String { sql }

    /// Collects literal SQL and turns every interpolated value into the next placeholder.
    package struct StringInterpolation: StringInterpolationProtocol {
        var sql = ""
        var binds: [String?] = []

        package init(literalCapacity: Int, interpolationCount: Int) {
            sql.reserveCapacity(literalCapacity + interpolationCount * 3)
        }

        package mutating func appendLiteral(_ literal: String) {
            sql += literal
        }

        package mutating func appendInterpolation(_ value: some PostgresBindable) {
            binds.append(value.postgresText)
            sql += "$\(binds.count)"
        }

        /// An optional value: `nil` binds SQL `NULL`.
        package mutating func appendInterpolation<Value: PostgresBindable>(_ value: Value?) {
            binds.append(value?.postgresText)
            sql += "$\(binds.count)"
        }
    }
}

/// A named server-side prepared statement, parsed once per connection and reused.
///
/// The pool prepares it lazily on each connection the first time it is executed there.
package struct PostgresPreparedStatement: Sendable, Hashable {
    /// The statement name on the server; unique per SQL text.
    package let name: String
    /// The SQL with `$1…$n` placeholders.
    package let sql: String

    /// Declares a statement; nothing is sent until it is first executed.
    package init(name: String, sql: StaticString) {
        self.name = name
        self.sql = "\(sql)"
    }
}
