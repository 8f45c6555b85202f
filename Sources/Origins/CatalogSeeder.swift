import Foundation

import Postgres

/// Creates what the reference labs' `setup.sql` created: the `products` table with an index on
/// `views`, N products, and `slow_version()` (a sleep, then `version()`). Safe to run again:
/// existing rows are kept, missing ones added, the function replaced.
package struct CatalogSeeder: Sendable {
    private let postgres: PostgresClient

    package init(postgres: PostgresClient) {
        self.postgres = postgres
    }

    /// What a run did.
    package struct Outcome: Sendable, Equatable {
        /// Rows inserted by this run (0 when all existed).
        package var inserted: Int
        /// Rows in the table afterwards.
        package var total: Int
    }

    /// - Parameters:
    ///   - products: how many products ids `1...products` should exist.
    ///   - slowSeconds: how long `slow_version()` sleeps.
    package func seed(products: Int, slowSeconds: Double) async throws -> Outcome {
        precondition(products >= 0 && slowSeconds >= 0 && slowSeconds.isFinite)
        _ = try await postgres.query("""
            CREATE TABLE IF NOT EXISTS products (
                id          integer PRIMARY KEY,
                name        text NOT NULL,
                price       numeric(10,2) NOT NULL CHECK (price >= 0),
                description text NOT NULL DEFAULT '',
                views       integer NOT NULL DEFAULT 0
            )
            """)
        _ = try await postgres.query("CREATE INDEX IF NOT EXISTS products_views_idx ON products (views DESC)")
        // Views follow a long tail (a few products are far more popular), so "warm the top N"
        // means something; prices and views are deterministic per id, so runs repeat.
        let inserted = try await postgres.query("""
            INSERT INTO products (id, name, price, description, views)
            SELECT i,
                   'Product ' || i,
                   round((((i * 7919) % 99900) / 100.0 + 1)::numeric, 2),
                   'Description of product ' || i || '. A sample item for cache-aside load tests.',
                   (100000 / i) + ((i * 31) % 97)
            FROM generate_series(1, \(products)::int) AS i
            ON CONFLICT (id) DO NOTHING
            """).affectedRows
        // The sleep is a validated number formatted here, not user text: DDL cannot take a bind.
        let sleep = String(format: "%.3f", slowSeconds)
        _ = try await postgres.query(PostgresQuery(unsafeSQL: """
            CREATE OR REPLACE FUNCTION slow_version() RETURNS text LANGUAGE sql AS $$
                SELECT pg_sleep(\(sleep)); SELECT version();
            $$
            """))
        let total = try await postgres.query("SELECT count(*) AS n FROM products").first?.decode(Int.self, "n") ?? 0
        return Outcome(inserted: inserted, total: total)
    }
}
