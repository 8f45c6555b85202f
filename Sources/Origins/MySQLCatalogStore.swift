import MySQL

/// The catalog in MySQL or MariaDB (the labs' `ecommerce.products`): prepared statements with
/// `?` placeholders; an update is the write and the read of the row on one connection, since
/// MySQL has no `UPDATE … RETURNING`.
package struct MySQLCatalogStore: CatalogStore {
    package let mysql: MySQLClient
    package var engine: String { "mysql" }

    private static let columns = "id, name, price, description, views"

    package init(mysql: MySQLClient) {
        self.mysql = mysql
    }

    package func product(id: Int) async throws -> Product? {
        try await mysql.execute("SELECT \(Self.columns) FROM products WHERE id = ?", id).first.map(Self.product)
    }

    /// - Throws: ``ProductValidationError`` when a value does not fit its column (the lab's
    ///   `name VARCHAR(100)` is narrower than the API's 200 characters): the client's mistake,
    ///   not an outage.
    package func update(id: Int, _ change: ProductUpdate) async throws -> Product? {
        do {
            return try await write(id: id, change)
        } catch let error as MySQLError where error.sqlState == "22001" {
            throw ProductValidationError.tooLongForColumn(error.message)
        }
    }

    private func write(id: Int, _ change: ProductUpdate) async throws -> Product? {
        try await mysql.withSession { session in
            // Not judged by affected rows: MySQL counts changed rows, and the same values change none.
            _ = try session.execute(
                "UPDATE products SET name = ?, price = ?, description = COALESCE(?, description) WHERE id = ?",
                change.name, change.price, change.description, id)
            return try session.execute("SELECT \(Self.columns) FROM products WHERE id = ?", id).first.map(Self.product)
        }
    }

    package func delete(id: Int) async throws -> Bool {
        try await mysql.execute("DELETE FROM products WHERE id = ?", id).affectedRows > 0
    }

    package func mostViewed(limit: Int) async throws -> [Product] {
        try await mysql.execute("SELECT \(Self.columns) FROM products ORDER BY views DESC, id LIMIT ?", limit).rows.map(Self.product)
    }

    package func slowVersion() async throws -> String {
        try await mysql.execute("SELECT slow_version() AS version").first?.string("version") ?? ""
    }

    package func ping() async throws {
        _ = try await mysql.execute("SELECT 1")
    }

    package func schemaProblem() async throws -> String? {
        let row = try await mysql.execute("""
            SELECT (SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'products') AS products,
                   (SELECT COUNT(*) FROM information_schema.routines WHERE routine_schema = DATABASE() AND routine_name = 'slow_version') AS slow
            """).first
        return CatalogSchema.problem(products: (try row?.int("products") ?? 0) > 0, slowVersion: (try row?.int("slow") ?? 0) > 0)
    }

    package func poolStatistics() async -> (open: Int, inUse: Int, waiting: Int) {
        mysql.poolStatistics()
    }

    package func seed(products: Int, slowSeconds: Double) async throws -> CatalogSeeder.Outcome {
        try await MySQLCatalogSeeder(mysql: mysql).seed(products: products, slowSeconds: slowSeconds)
    }

    package func shutdown() async {
        await mysql.shutdown()
    }

    private static func product(_ row: MySQLRow) throws -> Product {
        Product(id: try row.int("id") ?? 0, name: row.string("name") ?? "", price: row.string("price") ?? "0.00",
                description: row.string("description") ?? "", views: try row.int("views") ?? 0)
    }
}
