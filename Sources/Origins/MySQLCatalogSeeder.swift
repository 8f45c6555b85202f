import Foundation
import MySQL

/// Creates the labs' MySQL schema as their setup writes it — `products` (`id INT AUTO_INCREMENT
/// PRIMARY KEY`, `name VARCHAR(100)`, `price DECIMAL(10,2)`, `description TEXT`, `views INT
/// DEFAULT 0`, `INDEX idx_views (views)`), the five named products, then generated ones up to
/// N — and `slow_version()` (a sleep, then `VERSION()`). Safe to run again: existing rows are
/// kept, missing ones added, the function replaced.
package struct MySQLCatalogSeeder: Sendable {
    private let mysql: MySQLClient

    /// The labs' named products, ids 1–5, before the generated ones.
    static let named: [(name: String, price: String, description: String)] = [
        ("Laptop", "999.99", "High-performance laptop with 16GB RAM and 512GB SSD"),
        ("Smartphone", "699.99", "Latest smartphone with 5G and a triple camera"),
        ("Headphones", "199.99", "Noise-cancelling wireless headphones"),
        ("Tablet", "449.99", "10-inch tablet with a stylus"),
        ("Smartwatch", "299.99", "Fitness tracking smartwatch with GPS"),
    ]

    package init(mysql: MySQLClient) {
        self.mysql = mysql
    }

    /// - Parameters:
    ///   - products: how many products ids `1...products` should exist.
    ///   - slowSeconds: how long `slow_version()` sleeps.
    package func seed(products: Int, slowSeconds: Double) async throws -> CatalogSeeder.Outcome {
        precondition(products >= 0 && slowSeconds >= 0 && slowSeconds.isFinite)
        _ = try await mysql.run("""
            CREATE TABLE IF NOT EXISTS products (
                id          INT AUTO_INCREMENT PRIMARY KEY,
                name        VARCHAR(100) NOT NULL,
                price       DECIMAL(10,2) NOT NULL,
                description TEXT,
                views       INT DEFAULT 0,
                INDEX idx_views (views)
            )
            """)
        var inserted = 0
        for start in stride(from: 1, through: products, by: 200) {
            inserted += try await insert(ids: start...min(products, start + 199))
        }
        // The sleep is a validated number formatted here, not user text: DDL cannot take a bind.
        // NO SQL: with binary logging on (RDS with backups), MySQL accepts only declared functions.
        let sleep = String(format: "%.3f", slowSeconds)
        _ = try await mysql.run("DROP FUNCTION IF EXISTS slow_version")
        _ = try await mysql.run("""
            CREATE FUNCTION slow_version() RETURNS VARCHAR(255) NOT DETERMINISTIC NO SQL
            BEGIN
                DO SLEEP(\(sleep));
                RETURN VERSION();
            END
            """)
        let total = try await mysql.execute("SELECT COUNT(*) AS n FROM products").first?.int("n") ?? 0
        return CatalogSeeder.Outcome(inserted: inserted, total: total)
    }

    /// One `INSERT IGNORE` of the given ids (missing ones only), values bound, not spliced.
    private func insert(ids: ClosedRange<Int>) async throws -> Int {
        var values: [any MySQLBindable] = []
        for id in ids {
            let (name, price, description) = id <= Self.named.count ? Self.named[id - 1] : Self.generated(id)
            // Views follow a long tail, as in PostgreSQL, so "warm the top N" means something.
            values += [id, name, price, description, 100_000 / id + (id * 31) % 97]
        }
        let rows = Array(repeating: "(?, ?, ?, ?, ?)", count: ids.count).joined(separator: ", ")
        let sql = "INSERT IGNORE INTO products (id, name, price, description, views) VALUES \(rows)"
        return try await mysql.execute(sql, values).affectedRows
    }

    /// Product `id`'s generated name, price and description (deterministic, as PostgreSQL's).
    static func generated(_ id: Int) -> (String, String, String) {
        let cents = (id * 7919) % 99900 + 100
        return ("Product \(id)", String(format: "%d.%02d", cents / 100, cents % 100),
                "Description of product \(id). A sample item for cache-aside load tests.")
    }
}
