import Foundation
import HTTPCurl
import MySQL
import Testing
import TestSupport

/// `cacheload seed` and `serve` with a MySQL origin: Debian's MariaDB (TLS required, verified
/// against the services' CA), through the real binary — the labs' schema, the cache in front
/// of it behaving as it does in front of PostgreSQL, and the origin going away under load.
@Suite("MySQL origin: seed, serve, and MariaDB stopped under load", .serialized)
struct MySQLOriginTests {
    @Test("seed makes the labs' ecommerce.products: 1005 rows, the five named first, INDEX idx_views, idempotent; prices keep two decimals")
    func seedsTheLabsSchema() async throws {
        let database = try await TestMySQLDatabase.createEmpty()
        let first = try await runCacheload(["seed", "--origin", database.url, "--slow-seconds", "0.2"])
        #expect(first.status == 0 && first.output.contains("1005 products inserted, 1005 in the table"), "\(first.output)")
        let again = try await runCacheload(["seed", "--mysql", database.url, "--slow-seconds", "0.2"])
        #expect(again.status == 0 && again.output.contains("0 products inserted, 1005 in the table"), "\(again.output)")

        let mysql = MySQLClient(configuration: try MySQLConfiguration(url: database.url, poolSize: 1))
        let table = try await mysql.run("SHOW CREATE TABLE products").first?.string("Create Table") ?? ""
        for part in ["`id` int(11) NOT NULL AUTO_INCREMENT", "`name` varchar(100)", "`price` decimal(10,2)", "`description` text",
                     "`views` int(11) DEFAULT 0", "KEY `idx_views` (`views`)"] {
            #expect(table.contains(part), "\(part) in \(table)")
        }
        let named = try await mysql.execute("SELECT name, price FROM products WHERE id <= ? ORDER BY id", 5).rows
        #expect(named.map { $0.string("name") ?? "" } == ["Laptop", "Smartphone", "Headphones", "Tablet", "Smartwatch"])
        #expect(named.first?.string("price") == "999.99")
        await mysql.shutdown()

        let redis = try RedisServerProcess()
        let server = try ServeProcess(redis: redis.url, postgres: TestServices.databaseURL, arguments: ["--mysql", database.url])
        let answer = try await server.request(.GET, "/product/12")
        #expect(answer.status == 200 && answer.text.contains("\"price\":") && answer.text.range(of: #""price":[0-9]+\.[0-9]{2},"#, options: .regularExpression) != nil,
                "\(answer.text)")
        await server.stop()
        redis.stop()
        await TestMySQLDatabase.drop(database.name)
    }

    @Test("serve --mysql: MISS then HIT, write-through, delete and a cached 404, warm by views, the slow page loaded once for three callers, /health names mysql")
    func cacheAsideOverMySQL() async throws {
        let redis = try RedisServerProcess()
        let database = try await TestMySQLDatabase.create(products: 200, slowSeconds: 1.5)
        let server = try ServeProcess(redis: redis.url, postgres: TestServices.databaseURL, arguments: ["--mysql", database.url])

        #expect(try await server.request(.GET, "/product/7").header("X-Cache") == "MISS")
        #expect(try await server.request(.GET, "/product/7").header("X-Cache") == "HIT")
        let written = try await server.request(.PUT, "/product/7", body: #"{"name":"Blender","price":49.9}"#)
        #expect(written.status == 200 && written.text.contains("\"price\":49.90"), "\(written.text)")
        let read = try await server.request(.GET, "/product/7")
        #expect(read.header("X-Cache") == "HIT" && read.text.contains("Blender"), "write-through: \(read.text)")
        // The lab's name VARCHAR(100) is narrower than the API's 200: the client's mistake (422), not an outage (503).
        let long = try await server.request(.PUT, "/product/7", body: #"{"name":"\#(String(repeating: "x", count: 150))","price":1}"#)
        #expect(long.status == 422 && long.text.contains("longer than the origin database's column"), "\(long.status) \(long.text)")
        #expect(try await server.request(.GET, "/product/7").text.contains("Blender"), "a refused change changes nothing")
        let deleted = try await server.request(.DELETE, "/product/8")
        #expect(deleted.status == 200 && deleted.text.contains(#""deleted":8"#), "\(deleted.text)")
        #expect(try await server.request(.GET, "/product/8").status == 404)
        let again = try await server.request(.GET, "/product/8")
        #expect(again.status == 404 && again.header("X-Cache") == "HIT", "a missing product is cached as missing")

        let warm = try await runCacheload(["warm", "--mysql", database.url, "--redis", redis.url, "--top", "10"])
        #expect(warm.status == 0 && warm.output.contains("10 products cached"), "\(warm.output)")
        #expect(try await server.request(.GET, "/product/1").header("X-Cache") == "HIT", "the most viewed product was warmed")

        let before = try await server.stats()["origin_queries"] as? Int ?? -1
        async let a = server.request(.GET, "/")
        async let b = server.request(.GET, "/")
        async let c = server.request(.GET, "/")
        let pages = try await [a, b, c]
        #expect(pages.allSatisfy { $0.status == 200 && $0.text.contains("MariaDB") }, "\(pages.map(\.text))")
        #expect(try await server.stats()["origin_queries"] as? Int == before + 1, "slow_version() ran once for three callers")
        #expect(try await server.request(.GET, "/").header("X-Cache") == "HIT")

        let health = try await server.request(.GET, "/health")
        #expect(health.status == 200 && health.text.contains(#""mysql":{"status":"up"}"#), "\(health.text)")
        await server.stop()
        redis.stop()
        await TestMySQLDatabase.drop(database.name)
    }

    @Test("MariaDB stopped under load: cached products keep flowing, misses answer 503 with a JSON reason, /health 503; all recovers when it is back")
    func originStoppedUnderLoad() async throws {
        let mariadb = try MariaDBProcess()
        let seeded = try await runCacheload(["seed", "--mysql", mariadb.url, "--products", "100", "--slow-seconds", "0"])
        #expect(seeded.status == 0, "\(seeded.output)")
        let redis = try RedisServerProcess()
        let server = try ServeProcess(redis: redis.url, postgres: TestServices.databaseURL, arguments: ["--mysql", mariadb.url])
        for id in 1...10 { #expect(try await server.request(.GET, "/product/\(id)").status == 200) }

        mariadb.stop()
        for id in 1...10 {
            let cached = try await server.request(.GET, "/product/\(id)")
            #expect(cached.status == 200 && cached.header("X-Cache") == "HIT", "cached \(id) while MariaDB is down")
        }
        // Load on the cached keys while the origin is gone: every answer a hit.
        let json = FileManager.default.temporaryDirectory.appendingPathComponent("mysql-down-\(UUID()).json").path
        defer { try? FileManager.default.removeItem(atPath: json) }
        let load = try await runCacheload(["load", "\(server.baseURL)/product/{key}", "--keys", "1-10", "--requests", "500", "-c", "8",
                                           "--quiet", "--json", json, "--threshold", "errors<0.01%"])
        let summary = (try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])?["summary"] as? [String: Any]
        #expect(load.status == 0 && (summary?["status"] as? [String: Int])?["2xx"] == 500, "\(load.output)")
        #expect((summary?["cache"] as? [String: Any])?["hits"] as? Int == 500, "\(summary ?? [:])")
        let miss = try await server.request(.GET, "/product/50")
        #expect(miss.status == 503 && miss.text.contains("\"error\""), "a miss with the origin down: \(miss.status) \(miss.text)")
        let health = try await server.request(.GET, "/health")
        #expect(health.status == 503 && health.text.contains(#""mysql":{"reason""#), "\(health.text)")

        try mariadb.start()
        var recovered = 0
        for _ in 0..<100 where recovered != 200 {
            recovered = Int(try await server.request(.GET, "/product/50").status)
            if recovered != 200 { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(recovered == 200, "the miss is served again once MariaDB is back")
        #expect(try await server.request(.GET, "/health").status == 200)
        #expect(await server.stop() == 0, "\(server.output)")
        redis.stop()
    }

    @Test("a mysql:// DATABASE_URL alone names the origin, as the deployed unit runs seed and serve")
    func databaseURLNamesMySQL() async throws {
        let database = try await TestMySQLDatabase.createEmpty()
        let redis = try RedisServerProcess()
        let environment = ["DATABASE_URL=\(database.url)", "REDIS_URL=\(redis.url)"]
        let seeded = try await runCacheload(["seed", "--products", "20", "--slow-seconds", "0"], environment: environment)
        #expect(seeded.status == 0 && seeded.output.contains("20 products inserted"), "\(seeded.output)")
        let port = freeLoopbackPort()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("serve-env-\(UUID()).log").path
        let pid = try spawn("/usr/bin/env", environment + [TestServices.cacheloadBinary, "serve", "--listen", "127.0.0.1:\(port)"], outputPath: log)
        defer { stopIfRunning(pid) }
        try waitUntilAccepting(port: port, seconds: 20)
        let client = CurlClient(concurrency: 1)
        let health = try await client.execute(CurlRequest(url: "http://127.0.0.1:\(port)/health"))
        #expect(health.status == 200 && health.text.contains(#""mysql":{"status":"up"}"#), "\(health.text)")
        await client.shutdown()
        kill(pid, SIGTERM)
        #expect(waitForExit(pid) == 0, "\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        redis.stop()
        await TestMySQLDatabase.drop(database.name)
    }

    @Test("--postgres beats a mysql:// DATABASE_URL: flags win over the environment")
    func postgresFlagBeatsTheEnvironment() async throws {
        let database = try await TestDatabase.createEmpty()
        let seeded = try await runCacheload(["seed", "--postgres", database.url, "--products", "7", "--slow-seconds", "0"],
                                            environment: ["DATABASE_URL=mysql://nobody@127.0.0.1:1/none"])
        #expect(seeded.status == 0 && seeded.output.contains("7 products inserted, 7 in the table"), "\(seeded.output)")
        await TestDatabase.drop(database.name)
    }

    @Test("a certificate that does not name the host (verify-identity): one line naming TLS, exit 1, nothing created")
    func certificateForAnotherHost() async throws {
        let database = try await TestMySQLDatabase.createEmpty()
        var components = try #require(URLComponents(string: database.url))
        // The services' certificate names localhost and 127.0.0.1; 127.0.0.2 reaches the same
        // server through a forwarder, under a name the certificate does not cover.
        let forwarder = try TCPForwarder(to: try #require(components.port), listeningOn: "127.0.0.2")
        components.host = "127.0.0.2"
        components.port = forwarder.port
        components.queryItems = (components.queryItems ?? []) + [URLQueryItem(name: "ssl-mode", value: "verify-identity")]
        let (status, output) = try await runCacheload(["seed", "--mysql", try #require(components.string), "--products", "5"])
        #expect(status == 1, "\(output)")
        let lines = output.split(separator: "\n").filter { !$0.contains(" warning ") }
        let password = try #require(components.password)
        #expect(lines.count == 1 && output.contains("TLS") && output.contains("a name on that certificate") && !output.contains(password), "\(output)")
        let mysql = MySQLClient(configuration: try MySQLConfiguration(url: database.url, poolSize: 1))
        #expect(try await mysql.run("SHOW TABLES").rows.isEmpty, "nothing created")
        // The same server by the name on its certificate is accepted.
        components.host = "127.0.0.1"
        components.port = try #require(URLComponents(string: database.url)?.port)
        let (good, seeded) = try await runCacheload(["seed", "--mysql", try #require(components.string), "--products", "5"])
        #expect(good == 0, "\(seeded)")
        await mysql.shutdown()
        forwarder.close()
        await TestMySQLDatabase.drop(database.name)
    }

    @Test("password rotation on MySQL: after the password and the secret change and connections are killed, misses are answered again within 5 s (error 1045 → the secret read again)")
    func followsRotation() async throws {
        let database = try await TestMySQLDatabase.create(products: 20, slowSeconds: 0.1)
        let user = "rot_\(UUID().uuidString.prefix(8).lowercased())"
        let admin = MySQLClient(configuration: try MySQLConfiguration(url: TestServices.mysqlURL, poolSize: 1))
        _ = try await admin.run("CREATE USER '\(user)'@'%' IDENTIFIED BY 'first-password'")
        _ = try await admin.run("GRANT ALL ON \(database.name).* TO '\(user)'@'%'")
        var components = try #require(URLComponents(string: database.url))
        (components.user, components.password) = (user, "first-password")
        let secret = try await TestSecrets.create("cacheload-mysql-rotation-\(UUID().uuidString.prefix(8))",
                                                  value: #"{"username":"\#(user)","password":"first-password"}"#)
        let redis = try RedisServerProcess()
        let server = try ServeProcess(redis: redis.url, postgres: TestServices.databaseURL,
                                      arguments: ["--mysql", try #require(components.string), "--cache", "off", "--log-level", "info"],
                                      environment: TestServices.awsEnvironment + ["CACHELOAD_POSTGRES_SECRET_ARN=\(secret)"])
        #expect(try await server.request(.GET, "/product/1").status == 200)

        // The rotation as RDS does it: the new password on the server, then in the secret; the old connections go.
        _ = try await admin.run("ALTER USER '\(user)'@'%' IDENTIFIED BY 'second-password'")
        try await TestSecrets.put(secret, value: #"{"username":"\#(user)","password":"second-password"}"#)
        for row in try await admin.run("SELECT id FROM information_schema.processlist WHERE user = '\(user)'").rows {
            _ = try? await admin.run("KILL CONNECTION \(try row.int("id") ?? 0)")
        }
        let deadline = ContinuousClock.now + .seconds(5)
        var status = 0
        while ContinuousClock.now < deadline, status != 200 {
            status = try await server.request(.GET, "/product/2").status
            if status != 200 { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(status == 200, "misses still fail 5 s after the rotation")
        await server.stop()
        #expect(server.output.contains("fetching the credentials again"), "\(server.output.suffix(2000))")
        #expect(!server.output.contains("second-password") && !server.output.contains("first-password"), "a password reached the log")
        _ = try await admin.run("DROP USER '\(user)'@'%'")
        await admin.shutdown()
        redis.stop()
        await TestMySQLDatabase.drop(database.name)
    }

    @Test("bad origin input: one line and exit 64 before anything starts — a malformed URL, an unknown ssl-mode, --origin and --mysql together")
    func badInput() async throws {
        for arguments in [["seed", "--mysql", "mysql://app@db"], ["seed", "--origin", "mysql://app@db/shop?ssl-mode=sometimes"],
                          ["serve", "--origin", "mongodb://db/shop"], ["seed", "--origin", "mysql://a@b/c", "--mysql", "mysql://a@b/c"]] {
            let (status, output) = try await runCacheload(arguments)
            #expect(status == 64, "\(arguments): \(output)")
            #expect(output.hasPrefix("Error: --"), "\(arguments): \(output)")
        }
    }
}
