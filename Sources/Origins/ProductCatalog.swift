import Foundation
import Logging
import Postgres
import Synchronization

/// The PostgreSQL origin: the `products` table and the slow `slow_version()` query, through
/// prepared statements only. Every query is counted so callers can prove what the cache saved.
package final class ProductCatalog: Sendable {
    private let postgres: PostgresClient
    private let queries = Atomic<Int>(0)
    private let recorder: (@Sendable (_ operation: String, _ seconds: Double, _ failed: Bool) -> Void)?
    private let logger: Logger?
    /// Whether the missing-schema error was logged already: said once, not once per request.
    private let schemaMissingLogged = Atomic<Bool>(false)

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

    /// - Parameter recorder: called after every origin query with its name, duration and
    ///   whether it failed (the server feeds its metrics from it).
    package init(postgres: PostgresClient, logger: Logger? = nil,
                recorder: (@Sendable (_ operation: String, _ seconds: Double, _ failed: Bool) -> Void)? = nil) {
        self.postgres = postgres
        self.logger = logger
        self.recorder = recorder
    }

    /// What a user must do when the table or function is missing (SQLSTATE 42P01, 42883).
    package static let missingSchemaAdvice = "the products table or slow_version() does not exist in this database: run `cacheload seed` first"

    /// Whether `error` says the schema `cacheload seed` makes is missing (a setup error, not an outage).
    package static func isMissingSchema(_ error: any Error) -> Bool {
        guard let error = error as? PostgresError else { return false }
        return error.sqlState == "42P01" || error.sqlState == "42883"
    }

    /// `nil` when the products table and `slow_version()` exist, else what is missing and what to do.
    package func schemaProblem() async throws -> String? {
        let row = try await postgres.query(
            "SELECT to_regclass('products') IS NOT NULL AS products, to_regprocedure('slow_version()') IS NOT NULL AS slow").first
        let products = try row?.decode(Bool.self, "products") ?? false
        let slow = try row?.decode(Bool.self, "slow") ?? false
        if products && slow { return nil }
        let missing = [products ? nil : "the products table", slow ? nil : "slow_version()"].compactMap { $0 }
        return "\(missing.joined(separator: " and ")) missing: run `cacheload seed` first"
    }

    /// Origin queries run so far (all operations).
    package var queryCount: Int { queries.load(ordering: .relaxed) }

    /// The product with `id`, or `nil` when there is none.
    package func product(id: Int) async throws -> Product? {
        try await measured("product_by_id") { try await self.postgres.execute(Self.byID, id).first.map(Self.product) }
    }

    /// Applies `change` and returns the updated product, or `nil` when there is none.
    package func update(id: Int, _ change: ProductUpdate) async throws -> Product? {
        try await measured("product_update") {
            try await self.postgres.execute(Self.update, id, change.name, change.price, change.description).first.map(Self.product)
        }
    }

    /// Deletes the product; `false` when there was none.
    package func delete(id: Int) async throws -> Bool {
        try await measured("product_delete") { try await self.postgres.execute(Self.delete, id).affectedRows > 0 }
    }

    /// The `limit` most viewed products, most viewed first.
    package func mostViewed(limit: Int) async throws -> [Product] {
        try await measured("products_most_viewed") { try await self.postgres.execute(Self.mostViewed, limit).map(Self.product) }
    }

    /// `SELECT slow_version()`: the database version, after the configured sleep.
    package func slowVersion() async throws -> String {
        try await measured("slow_version") {
            try await self.postgres.execute(Self.slowVersion).first?.string("version") ?? ""
        }
    }

    /// Whether PostgreSQL answers a trivial query.
    package func ping() async throws {
        _ = try await postgres.query("SELECT 1")
    }

    private func measured<T: Sendable>(_ operation: String, _ body: @Sendable () async throws -> T) async throws -> T {
        queries.add(1, ordering: .relaxed)
        let start = ContinuousClock.now
        do {
            let value = try await body()
            recorder?(operation, (ContinuousClock.now - start) / .seconds(1), false)
            return value
        } catch {
            recorder?(operation, (ContinuousClock.now - start) / .seconds(1), true)
            if Self.isMissingSchema(error), schemaMissingLogged.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged {
                logger?.error("\(Self.missingSchemaAdvice)", metadata: ["error": "\(error)"])
            }
            throw error
        }
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
