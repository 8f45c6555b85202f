import Foundation
import HTTPCurl
import Postgres
import Redis
import Testing
import TestSupport

@Suite("Write-through, invalidation and the admin token")
struct WriteAndAdminTests {
    @Test("PUT writes through: the next GET is a HIT with the new values, and the row changed")
    func writeThrough() async throws {
        try await TestServer.withRoutes { server in
            #expect(try await server.request(.GET, "/product/10").header("X-Cache") == "MISS")
            let put = try await server.request(.PUT, "/product/10", body: #"{"name":"Renamed","price":12.5,"description":"new"}"#,
                                               token: server.adminToken)
            #expect(put.status == 200)
            let after = try await server.request(.GET, "/product/10")
            #expect(after.header("X-Cache") == "HIT")
            let product = try #require(jsonObject(after)["product"] as? [String: Any])
            #expect(product["name"] as? String == "Renamed")
            #expect(product["price"] as? Double == 12.5)
            let postgres = PostgresClient(configuration: try PostgresConfiguration(server.databaseURL, poolSize: 1))
            let row = try await postgres.query("SELECT name, price::text AS price FROM products WHERE id = \(10)").first
            #expect(try row?.string("name") == "Renamed")
            #expect(try row?.string("price") == "12.50")
            await postgres.shutdown()
        }
    }

    /// Sets Redis options on the test's own Redis (a real refusal, not a mock).
    private func configure(_ server: RoutedServer, _ settings: [(String, String)]) async throws {
        let redis = RedisClient(configuration: try RedisConfiguration(url: server.redisURL, poolSize: 1))
        for (name, value) in settings { _ = try await redis.send(RedisCommand("CONFIG", "SET", name, value)) }
        await redis.shutdown()
    }

    @Test("PUT whose new value Redis refuses (out of memory) removes the old one: INVALIDATED, and the next GET has the new row")
    func writeThroughRefusedInvalidates() async throws {
        try await TestServer.withRoutes { server in
            #expect(try await server.request(.GET, "/product/11").header("X-Cache") == "MISS")
            #expect(try await server.request(.GET, "/product/11").header("X-Cache") == "HIT")
            // noeviction at 1 byte: Redis refuses SET and scripts, still takes DEL and answers GET.
            try await configure(server, [("maxmemory-policy", "noeviction"), ("maxmemory", "1")])
            let put = try await server.request(.PUT, "/product/11", body: #"{"name":"Refused by Redis","price":3}"#, token: server.adminToken)
            #expect(put.status == 200, "\(put.text)")
            #expect(jsonObject(put)["cache_status"] as? String == "INVALIDATED", "\(put.text)")
            let after = try await server.request(.GET, "/product/11")
            #expect(after.header("X-Cache") != "HIT", "the old value was still served")
            #expect((jsonObject(after)["product"] as? [String: Any])?["name"] as? String == "Refused by Redis")
            try await configure(server, [("maxmemory", "0")])
        }
    }

    @Test("PUT when Redis refuses every write answers 503 saying the row is saved and the old value may be served")
    func writeThroughAndRemovalRefused() async throws {
        try await TestServer.withRoutes { server in
            _ = try await server.request(.GET, "/product/12")
            // A primary without the replicas it requires refuses every write, DEL included.
            try await configure(server, [("min-replicas-to-write", "1")])
            let put = try await server.request(.PUT, "/product/12", body: #"{"name":"Saved, not cached","price":4}"#, token: server.adminToken)
            #expect(put.status == 503, "\(put.text)")
            #expect(put.text.contains("saved in the database"), "\(put.text)")
            try await configure(server, [("min-replicas-to-write", "0")])
        }
    }

    @Test("PUT without a description keeps the stored one; name and price are required")
    func descriptionIsOptional() async throws {
        try await TestServer.withRoutes { server in
            let before = jsonObject(try await server.request(.GET, "/product/13"))["product"] as? [String: Any]
            let put = try await server.request(.PUT, "/product/13", body: #"{"name":"Only name and price","price":7}"#, token: server.adminToken)
            #expect(put.status == 200, "\(put.text)")
            let after = jsonObject(try await server.request(.GET, "/product/13"))["product"] as? [String: Any]
            #expect(after?["name"] as? String == "Only name and price")
            #expect(after?["description"] as? String == before?["description"] as? String)
            #expect((before?["description"] as? String ?? "").isEmpty == false)
            let noPrice = try await server.request(.PUT, "/product/13", body: #"{"name":"x"}"#, token: server.adminToken)
            #expect(noPrice.status == 400)
            #expect((jsonObject(noPrice)["error"] as? String)?.contains("missing field \"price\"") == true, "\(noPrice.text)")
        }
    }

    @Test("DELETE removes the row and invalidates the key: the next GET is a 404 MISS")
    func deleteInvalidates() async throws {
        try await TestServer.withRoutes { server in
            #expect(try await server.request(.GET, "/product/11").status == 200)
            #expect(try await server.request(.GET, "/product/11").header("X-Cache") == "HIT")
            let delete = try await server.request(.DELETE, "/product/11", token: server.adminToken)
            #expect(delete.status == 200)
            #expect(jsonObject(delete)["cache_invalidated"] as? Bool == true)
            let after = try await server.request(.GET, "/product/11")
            #expect(after.status == 404)
            #expect(after.header("X-Cache") == "MISS")
            #expect(try await server.request(.DELETE, "/product/11", token: server.adminToken).status == 404)
        }
    }

    @Test("bad PUT bodies are refused with the reason and change nothing")
    func badBodies() async throws {
        try await TestServer.withRoutes { server in
            let cases: [(String, Int, String)] = [
                ("not json", 400, "not valid JSON"),
                (#"{"price": 3}"#, 400, "missing field \"name\""),
                (#"{"name": 5, "price": 3}"#, 400, "wrong type"),
                (#"{"name": "x", "price": "cheap"}"#, 400, "wrong type"),
                (#"{"name": "x", "price": -1}"#, 422, "negative"),
                (#"{"name": "", "price": 1}"#, 422, "name must not be empty"),
                (#"{"name": "x", "price": 1.234}"#, 422, "two decimal places"),
                (String(repeating: "x", count: 200_000), 413, "larger than"),
                (String(repeating: "x", count: 10_000_000), 413, "larger than"),
            ]
            for (body, status, reason) in cases {
                let response = try await server.request(.PUT, "/product/12", body: body, token: server.adminToken)
                #expect(response.status == status, "body \(body.prefix(30))")
                #expect((jsonObject(response)["error"] as? String)?.contains(reason) == true, "body \(body.prefix(30)): \(response.text)")
            }
            let product = jsonObject(try await server.request(.GET, "/product/12"))["product"] as? [String: Any]
            #expect(product?["name"] as? String == "Product 12")
        }
    }

    @Test("admin routes refuse a missing or wrong token with 401, and change nothing")
    func tokenRequired() async throws {
        // Every `try` is inside #expect, which closure inference does not see: said explicitly.
        try await TestServer.withRoutes { server async throws in
            for token in [nil, "wrong", "test-admin-token-but-longer", ""] as [String?] {
                #expect(try await server.request(.PUT, "/product/13", body: #"{"name":"x","price":1}"#, token: token).status == 401)
                #expect(try await server.request(.DELETE, "/product/13", token: token).status == 401)
                #expect(try await server.request(.POST, "/admin/warm?top=5", token: token).status == 401)
            }
            #expect(try await server.request(.GET, "/product/13").status == 200)
            #expect(try await server.serverStats()["fills"] as? Int == 1)
        }
    }

    @Test("without a configured admin token the admin routes are disabled (403), never open")
    func noTokenConfigured() async throws {
        try await TestServer.withRoutes(adminToken: nil) { server in
            let response = try await server.request(.DELETE, "/product/14", token: "anything")
            #expect(response.status == 403)
            #expect((jsonObject(response)["error"] as? String)?.contains("--admin-token") == true)
            #expect(try await server.request(.GET, "/product/14").status == 200)
        }
    }

    @Test("POST /admin/warm?top=N fills the N most viewed products: their first GET is a HIT")
    func warm() async throws {
        try await TestServer.withRoutes { server in
            let warm = try await server.request(.POST, "/admin/warm?top=20", token: server.adminToken)
            #expect(warm.status == 200)
            #expect(jsonObject(warm)["warmed"] as? Int == 20)
            // Seeded views fall with the id, so the top 20 are ids 1...20.
            for id in 1...20 {
                #expect(try await server.request(.GET, "/product/\(id)").header("X-Cache") == "HIT")
            }
            #expect(try await server.request(.GET, "/product/21").header("X-Cache") == "MISS")
            #expect(try await server.request(.POST, "/admin/warm?top=zero", token: server.adminToken).status == 400)
        }
    }
}
