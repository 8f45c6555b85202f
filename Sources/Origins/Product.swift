import Foundation

/// A row of the `products` table.
package struct Product: Sendable, Equatable {
    package var id: Int
    package var name: String
    /// Exact decimal text as PostgreSQL returns `numeric(10,2)`, e.g. `"19.99"`.
    package var price: String
    package var description: String
    package var views: Int

    package init(id: Int, name: String, price: String, description: String, views: Int) {
        self.id = id
        self.name = name
        self.price = price
        self.description = description
        self.views = views
    }

    /// The JSON object the API returns and the cache stores:
    /// `{"id":1,"name":"…","price":19.99,"description":"…","views":3}`.
    ///
    /// Written by hand: the price goes out as the exact decimal text (a `Double` would print
    /// 19.989999…), and the bytes are built once per origin load, then served from Redis as is.
    package var json: [UInt8] {
        var out = "{\"id\":\(id),\"name\":"
        JSONText.appendString(name, to: &out)
        out += ",\"price\":\(price),\"description\":"
        JSONText.appendString(description, to: &out)
        out += ",\"views\":\(views)}"
        return Array(out.utf8)
    }
}

/// A validated change to a product, as `PUT /product/{id}` accepts it.
package struct ProductUpdate: Sendable, Equatable {
    package var name: String
    /// Decimal text with at most two fractional digits, 0 ≤ price < 100000000.
    package var price: String
    /// The new description; `nil` leaves the stored one as it is.
    package var description: String?

    /// Checks every field and says which one is wrong and why.
    package init(name: String, price: Double, description: String?) throws(ProductValidationError) {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw ProductValidationError("name must not be empty") }
        guard name.count <= 200 else { throw ProductValidationError("name must be at most 200 characters") }
        guard (description?.count ?? 0) <= 10_000 else { throw ProductValidationError("description must be at most 10000 characters") }
        guard price.isFinite else { throw ProductValidationError("price must be a number") }
        guard price >= 0 else { throw ProductValidationError("price must not be negative") }
        guard price < 100_000_000 else { throw ProductValidationError("price must be below 100000000 (numeric(10,2))") }
        let cents = (price * 100).rounded()
        guard abs(cents - price * 100) < 1e-6 else { throw ProductValidationError("price must have at most two decimal places") }
        self.name = name
        self.price = String(format: "%.2f", cents / 100)
        self.description = description
    }
}

/// Why a product change was refused; the message names the field.
package struct ProductValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    package let message: String
    init(_ message: String) { self.message = message }
    package var description: String { message }

    /// The origin's column is narrower than the API's limit (SQLSTATE 22001).
    static func tooLongForColumn(_ databaseMessage: String) -> ProductValidationError {
        ProductValidationError("a value is longer than the origin database's column allows (\(databaseMessage)); shorten it")
    }
}

/// Minimal JSON string escaping (RFC 8259 §7).
enum JSONText {
    static func appendString(_ value: String, to out: inout String) {
        out += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += String(format: "\\u%04x", scalar.value)
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
