import Foundation
import HTTPCurl
import Testing
import TestSupport

/// Passwords, tokens and AWS keys go into URLs, flags and the environment; they must come out
/// nowhere — not in logs at trace level, not in /health, /stats or /metrics, not in reports.
@Suite("Secrets never appear in logs, status pages or reports")
struct SecretsTests {
    @Test("serve at trace level through a Redis outage and admin traffic: no password, token or AWS secret anywhere")
    func serveKeepsSecrets() async throws {
        let suffix = UUID().uuidString.prefix(8)
        let redisPassword = "redis-pw-\(suffix)"
        let postgresPassword = "pg-pw-\(suffix)"
        let adminToken = "admin-token-\(suffix)"
        let redis = try RedisServerProcess(password: redisPassword)
        let seeded = try await TestDatabase.create(products: 50)
        var database = URLComponents(string: seeded.url)!
        database.password = postgresPassword  // trust authentication ignores it; libpq still receives it
        let port = freeLoopbackPort()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("secrets-\(suffix).log").path
        let binary = TestServices.cacheloadBinary
        let pid = try spawn("/usr/bin/env", [
            "REDIS_URL=\(redis.url)", "DATABASE_URL=\(database.string!)", "CACHELOAD_ADMIN_TOKEN=\(adminToken)",
        ] + TestServices.awsEnvironment + [
            binary, "serve", "--listen", "127.0.0.1:\(port)", "--log-level", "trace",
            "--cloudwatch", "--flush-interval", "1", "--resolution", "1", "--environment", "secrets-\(suffix)", "--spool", log + ".spool",
        ], outputPath: log)
        defer { stopIfRunning(pid) }
        try waitUntilAccepting(port: port, seconds: 20)
        let client = CurlClient(concurrency: 2)
        let base = "http://127.0.0.1:\(port)"
        func get(_ path: String, token: String? = nil, method: CurlRequest.Method = .GET, body: String? = nil) async throws -> CurlResponse {
            var headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
            if let token { headers.append(("Authorization", "Bearer \(token)")) }
            return try await client.execute(CurlRequest(method: method, url: base + path, headers: headers, body: body.map { Array($0.utf8) }))
        }
        var pages: [String] = []
        for id in [1, 2, 2, 3] { _ = try await get("/product/\(id)") }
        #expect(try await get("/admin/warm?top=5", token: "wrong-\(suffix)", method: .POST).status == 401)
        let warmed = try await get("/admin/warm?top=5", token: adminToken, method: .POST)
        #expect(warmed.status == 200, "\(warmed.status) \(warmed.text)")
        let put = try await get("/product/4", token: adminToken, method: .PUT, body: #"{"name":"n","description":"d","price":1.5}"#)
        #expect(put.status == 200, "\(put.status) \(put.text)")
        redis.stop()  // errors about the Redis connection get logged with its description
        let bypass = try await get("/product/5")
        #expect(bypass.status == 200, "\(bypass.status) \(bypass.text)")
        pages.append(try await get("/health").text)
        try redis.start()
        pages.append(try await get("/health").text)
        pages.append(try await get("/stats").text)
        pages.append(try await get("/metrics").text)
        kill(pid, SIGTERM)
        #expect(waitForExit(pid) == 0)
        await client.shutdown()

        let output = try String(contentsOfFile: log, encoding: .utf8)
        #expect(output.contains("listening on"), "the log is not what it should be: \(output.prefix(300))")
        #expect(output.contains("redis://:***@"), "the Redis URL is logged masked")
        for secret in [redisPassword, postgresPassword, adminToken, TestServices.awsSecretAccessKey, "wrong-\(suffix)"] {
            #expect(!output.contains(secret), "log leaks \(secret.prefix(6))…")
            for page in pages { #expect(!page.contains(secret), "a status page leaks \(secret.prefix(6))…") }
        }
        try? FileManager.default.removeItem(atPath: log)
        try? FileManager.default.removeItem(atPath: log + ".spool")
        await TestDatabase.drop(seeded.name)
    }

    @Test("a load with an Authorization header: the token is in no output, JSON or HTML report")
    func loadReportsKeepSecrets() async throws {
        let server = try await TestServer.start()
        let token = "load-token-\(UUID().uuidString.prefix(8))"
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("secret-load-\(UUID())").path
        let binary = TestServices.cacheloadBinary
        let pid = try spawn(binary, ["load", "\(server.baseURL)/product/{key}", "--requests", "200", "-c", "4",
                                     "--header", "Authorization: Bearer \(token)", "--json", base + ".json", "--html", base + ".html"],
                            outputPath: base + ".log")
        defer { stopIfRunning(pid) }
        #expect(waitForExit(pid) == 0)
        for file in [".log", ".json", ".html"] {
            let text = try String(contentsOfFile: base + file, encoding: .utf8)
            #expect(text.count > 100, "\(file) is empty")
            #expect(!text.contains(token), "\(file) leaks the Authorization header")
            try? FileManager.default.removeItem(atPath: base + file)
        }
        await server.stop()
    }
}
