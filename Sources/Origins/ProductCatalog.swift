import Foundation
import Logging
import MySQL
import Postgres
import Synchronization

/// The origin: the `products` table and the slow `slow_version()` query, in PostgreSQL or MySQL
/// (``CatalogStore``), through prepared statements only. Every query is counted so callers can
/// prove what the cache saved.
package final class ProductCatalog: Sendable {
    /// The engine's SQL and client.
    package let store: any CatalogStore
    private let queries = Atomic<Int>(0)
    private let recorder: (@Sendable (_ operation: String, _ seconds: Double, _ failed: Bool) -> Void)?
    private let logger: Logger?
    /// Whether the missing-schema error was logged already: said once, not once per request.
    private let schemaMissingLogged = Atomic<Bool>(false)

    /// - Parameter recorder: called after every origin query with its name, duration and
    ///   whether it failed (the server feeds its metrics from it).
    package init(store: any CatalogStore, logger: Logger? = nil,
                recorder: (@Sendable (_ operation: String, _ seconds: Double, _ failed: Bool) -> Void)? = nil) {
        self.store = store
        self.logger = logger
        self.recorder = recorder
    }

    /// The catalog in PostgreSQL.
    package convenience init(postgres: PostgresClient, logger: Logger? = nil,
                             recorder: (@Sendable (_ operation: String, _ seconds: Double, _ failed: Bool) -> Void)? = nil) {
        self.init(store: PostgresCatalogStore(postgres: postgres), logger: logger, recorder: recorder)
    }

    /// What a user must do when the table or function is missing (SQLSTATE 42P01, 42883).
    package static let missingSchemaAdvice = "the products table or slow_version() does not exist in this database: run `cacheload seed` first"

    /// Whether `error` says the schema `cacheload seed` makes is missing (a setup error, not an
    /// outage): PostgreSQL's SQLSTATE 42P01/42883, MySQL's 1146 (no table) and 1305 (no function).
    package static func isMissingSchema(_ error: any Error) -> Bool {
        if let error = error as? PostgresError { return error.sqlState == "42P01" || error.sqlState == "42883" }
        if let error = error as? MySQLError { return error.number == 1146 || error.number == 1305 }
        return false
    }

    /// `nil` when the products table and `slow_version()` exist, else what is missing and what to do.
    package func schemaProblem() async throws -> String? {
        try await store.schemaProblem()
    }

    /// Origin queries run so far (all operations).
    package var queryCount: Int { queries.load(ordering: .relaxed) }

    /// The product with `id`, or `nil` when there is none.
    package func product(id: Int) async throws -> Product? {
        try await measured("product_by_id") { try await self.store.product(id: id) }
    }

    /// Applies `change` and returns the updated product, or `nil` when there is none.
    package func update(id: Int, _ change: ProductUpdate) async throws -> Product? {
        try await measured("product_update") { try await self.store.update(id: id, change) }
    }

    /// Deletes the product; `false` when there was none.
    package func delete(id: Int) async throws -> Bool {
        try await measured("product_delete") { try await self.store.delete(id: id) }
    }

    /// The `limit` most viewed products, most viewed first.
    package func mostViewed(limit: Int) async throws -> [Product] {
        try await measured("products_most_viewed") { try await self.store.mostViewed(limit: limit) }
    }

    /// `SELECT slow_version()`: the database version, after the configured sleep.
    package func slowVersion() async throws -> String {
        try await measured("slow_version") { try await self.store.slowVersion() }
    }

    /// Whether the origin answers a trivial query.
    package func ping() async throws {
        try await store.ping()
    }

    /// Open, in-use and waiting connections to the origin.
    package func poolStatistics() async -> (open: Int, inUse: Int, waiting: Int) {
        await store.poolStatistics()
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
}
