/// The SQL of one database engine behind ``ProductCatalog``: the same products, the same slow
/// page, whichever origin the cache sits in front of.
package protocol CatalogStore: Sendable {
    /// `postgres` or `mysql`: the key `/health` reports the origin under, and the metrics' prefix.
    var engine: String { get }
    func product(id: Int) async throws -> Product?
    /// Applies `change`; the updated row, or `nil` when there is none.
    func update(id: Int, _ change: ProductUpdate) async throws -> Product?
    func delete(id: Int) async throws -> Bool
    func mostViewed(limit: Int) async throws -> [Product]
    /// `slow_version()`: the server's version after the configured sleep.
    func slowVersion() async throws -> String
    func ping() async throws
    /// `nil` when the products table and `slow_version()` exist, else what is missing.
    func schemaProblem() async throws -> String?
    /// Open, in-use and waiting connections.
    func poolStatistics() async -> (open: Int, inUse: Int, waiting: Int)
    /// Creates the schema, products `1...products` and `slow_version()` (idempotent).
    func seed(products: Int, slowSeconds: Double) async throws -> CatalogSeeder.Outcome
    /// Closes the client's connections and threads.
    func shutdown() async
}
