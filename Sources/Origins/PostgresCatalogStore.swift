import Postgres

/// The catalog in PostgreSQL: named prepared statements, `RETURNING` for the update.
package struct PostgresCatalogStore: CatalogStore {
    package let postgres: PostgresClient
    package var engine: String { "postgres" }

    private static let byID = PostgresPreparedStatement(
        name: "cacheload_product_by_id",
        sql: "SELECT id, name, price, description, views FROM products WHERE id = $1")
    private static let update = PostgresPreparedStatement(
        name: "cacheload_product_update",
        sql: "UPDATE products SET name = $2, price = $3, description = COALESCE($4, description) WHERE id = $1 RETURNING id, name, price, description, views")
    private static let delete = PostgresPreparedStatement(
        name: "cacheload_product_delete", sql: "DELETE FROM products WHERE id = $1")
    private static let mostViewed = PostgresPreparedStatement(
        name: "cacheload_products_most_viewed",
        sql: "SELECT id, name, price, description, views FROM products ORDER BY views DESC, id LIMIT $1")
    private static let slowVersion = PostgresPreparedStatement(
        name: "cacheload_slow_version", sql: "SELECT slow_version() AS version")

    package init(postgres: PostgresClient) {
        self.postgres = postgres
    }

    package func product(id: Int) async throws -> Product? {
        try await postgres.execute(Self.byID, id).first.map(Self.product)
    }

    /// - Throws: ``ProductValidationError`` when a value does not fit its column (a schema of
    ///   the user's own with `varchar(n)`).
    package func update(id: Int, _ change: ProductUpdate) async throws -> Product? {
        do {
            return try await postgres.execute(Self.update, id, change.name, change.price, change.description).first.map(Self.product)
        } catch let error as PostgresError where error.sqlState == "22001" {
            throw ProductValidationError.tooLongForColumn(error.message)
        }
    }

    package func delete(id: Int) async throws -> Bool {
        try await postgres.execute(Self.delete, id).affectedRows > 0
    }

    package func mostViewed(limit: Int) async throws -> [Product] {
        try await postgres.execute(Self.mostViewed, limit).map(Self.product)
    }

    package func slowVersion() async throws -> String {
        try await postgres.execute(Self.slowVersion).first?.string("version") ?? ""
    }

    package func ping() async throws {
        _ = try await postgres.query("SELECT 1")
    }

    package func schemaProblem() async throws -> String? {
        let row = try await postgres.query(
            "SELECT to_regclass('products') IS NOT NULL AS products, to_regprocedure('slow_version()') IS NOT NULL AS slow").first
        return CatalogSchema.problem(products: try row?.decode(Bool.self, "products") ?? false,
                                     slowVersion: try row?.decode(Bool.self, "slow") ?? false)
    }

    package func poolStatistics() async -> (open: Int, inUse: Int, waiting: Int) {
        await postgres.poolStatistics()
    }

    package func seed(products: Int, slowSeconds: Double) async throws -> CatalogSeeder.Outcome {
        try await CatalogSeeder(postgres: postgres).seed(products: products, slowSeconds: slowSeconds)
    }

    package func shutdown() async {
        await postgres.shutdown()
    }

    private static func product(_ row: PostgresRow) throws -> Product {
        Product(
            id: try row.decode(Int.self, "id") ?? 0,
            name: try row.string("name") ?? "",
            price: try row.string("price") ?? "0.00",
            description: try row.string("description") ?? "",
            views: try row.decode(Int.self, "views") ?? 0)
    }
}

/// What a schema check found missing, and what to do about it.
enum CatalogSchema {
    static func problem(products: Bool, slowVersion: Bool) -> String? {
        if products && slowVersion { return nil }
        let missing = [products ? nil : "the products table", slowVersion ? nil : "slow_version()"].compactMap { $0 }
        return "\(missing.joined(separator: " and ")) missing: run `cacheload seed` first"
    }
}
