import Foundation
@testable import MySQL
import Testing
import TestSupport

/// The MySQL client against the real MariaDB of `scripts/services` (TLS required by the server,
/// verified against the test CA by the client).
@Suite("MySQLClient against MariaDB with require_secure_transport")
struct MySQLClientTests {
    private func client(poolSize: Int = 2, _ change: (inout MySQLConfiguration) -> Void = { _ in }) throws -> MySQLClient {
        var configuration = try MySQLConfiguration(url: TestServices.mysqlURL, poolSize: poolSize)
        change(&configuration)
        return MySQLClient(configuration: configuration)
    }

    @Test("TLS verified, prepared statements with bound values: integers, decimals with their two places, NULL, long text")
    func preparedStatements() async throws {
        let mysql = try client()
        let table = "t_\(UUID().uuidString.prefix(8).lowercased())"
        _ = try await mysql.run("CREATE TABLE \(table) (id INT PRIMARY KEY, price DECIMAL(10,2), note TEXT)")
        let long = String(repeating: "ü", count: 5000)
        _ = try await mysql.execute("INSERT INTO \(table) VALUES (?, ?, ?), (?, ?, ?)", 1, "12.50", long, 2, "3.00", String?.none)
        let rows = try await mysql.execute("SELECT id, price, note FROM \(table) WHERE id >= ? ORDER BY id", 1).rows
        #expect(rows.count == 2)
        #expect(try rows[0].int("id") == 1 && rows[0].string("price") == "12.50" && rows[0].string("note") == long)
        #expect(rows[1].string("price") == "3.00" && rows[1].string("note") == nil)
        // A value is a value, never SQL: a quote in it changes nothing.
        let none = try await mysql.execute("SELECT id FROM \(table) WHERE note = ?", "x' OR '1'='1").rows
        #expect(none.isEmpty)
        let cipher = try await mysql.run("SHOW SESSION STATUS LIKE 'Ssl_version'").first?.string("Value")
        #expect(cipher?.hasPrefix("TLSv1") == true, "the connection is TLS (\(cipher ?? "none"))")
        #expect(try await mysql.execute("DELETE FROM \(table) WHERE id = ?", 2).affectedRows == 1)
        _ = try await mysql.run("DROP TABLE \(table)")
        await mysql.shutdown()
    }

    @Test("errors are typed: a missing table 1146/42S02, a wrong password 1045 then the credentials source, TLS off refused, a foreign CA refused")
    func typedErrors() async throws {
        let mysql = try client()
        await #expect(throws: MySQLError.self) { try await mysql.execute("SELECT * FROM no_such_table WHERE id = ?", 1) }
        do {
            _ = try await mysql.execute("SELECT * FROM no_such_table WHERE id = ?", 1)
        } catch let error as MySQLError {
            #expect(error.number == 1146 && error.sqlState == "42S02" && !error.breaksConnection, "\(error)")
        }
        await mysql.shutdown()

        let good = try MySQLConfiguration(url: TestServices.mysqlURL)
        var wrong = good
        wrong.password = "not-the-password"
        let denied = MySQLClient(configuration: wrong)
        do {
            _ = try await denied.execute("SELECT ?", 1)
            Issue.record("a wrong password connected")
        } catch let error as MySQLError {
            #expect(error.isAccessDenied && !error.description.contains("not-the-password"), "\(error)")
        }
        await denied.shutdown()
        let rotated = MySQLClient(configuration: wrong) { (good.user, good.password ?? "") }
        #expect(try await rotated.execute("SELECT ? AS one", 1).first?.int("one") == 1, "access denied → the secret is read again")
        await rotated.shutdown()

        var plain = good
        plain.sslMode = .disabled
        let refused = MySQLClient(configuration: plain)
        await #expect(throws: MySQLError.self, "require_secure_transport refuses a connection without TLS") {
            try await refused.execute("SELECT 1")
        }
        await refused.shutdown()

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("foreign-ca-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try run("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=Foreign CA",
                                          "-keyout", directory.appendingPathComponent("ca.key").path, "-out", directory.appendingPathComponent("ca.pem").path])
        var foreign = good
        foreign.sslCA = directory.appendingPathComponent("ca.pem").path
        let untrusted = MySQLClient(configuration: foreign)
        do {
            _ = try await untrusted.execute("SELECT 1")
            Issue.record("a certificate from another CA was accepted")
        } catch let error as MySQLError {
            #expect(error.kind == .connect && (2000..<3000).contains(error.number ?? 0), "\(error)")
        }
        await untrusted.shutdown()
    }

    @Test("KILL QUERY fails that statement only (1317), the pool keeps working; an exhausted pool times out")
    func killedQueryAndExhaustedPool() async throws {
        let mysql = try client(poolSize: 2)
        async let sleeper: Result<MySQLResult, any Error> = { do { return .success(try await mysql.execute("SELECT SLEEP(?) AS s", 20)) } catch { return .failure(error) } }()
        var id: Int?
        for _ in 0..<200 where id == nil {
            id = try await mysql.execute("SELECT id FROM information_schema.processlist WHERE info LIKE ? AND id <> CONNECTION_ID()", "SELECT SLEEP(%").first.flatMap { try? $0.int("id") }
            if id == nil { try await Task.sleep(for: .milliseconds(20)) }
        }
        let killed = try #require(id)
        _ = try await mysql.run("KILL QUERY \(killed)")
        switch await sleeper {
        case .success(let result):
            // MariaDB answers a killed SLEEP with 1 instead of an error.
            #expect(result.first?.string("s") == "1", "\(result)")
        case .failure(let error):
            #expect((error as? MySQLError)?.number == 1317, "\(error)")
        }
        #expect(try await mysql.execute("SELECT ? AS one", 1).first?.int("one") == 1)
        await mysql.shutdown()

        let small = try client(poolSize: 1) { $0.acquireTimeout = .milliseconds(200) }
        async let holder = small.execute("SELECT SLEEP(?)", 1)
        try await Task.sleep(for: .milliseconds(100))
        do {
            _ = try await small.execute("SELECT 1")
            Issue.record("a second caller got the only connection")
        } catch let error as MySQLError {
            #expect(error.kind == .poolTimeout, "\(error)")
        }
        _ = try await holder
        await small.shutdown()
    }

    @Test("URLs: the parts, the password kept out of descriptions, loopback defaults to preferred, others to verify-identity; bad ones refused")
    func configurations() throws {
        let remote = try MySQLConfiguration(url: "mysql://app:s%40cret@db.example.com/ecommerce", environment: [:])
        #expect(remote.host == "db.example.com" && remote.port == 3306 && remote.user == "app" && remote.password == "s@cret")
        #expect(remote.database == "ecommerce" && remote.sslMode == .verifyIdentity && !remote.description.contains("s@cret"))
        let local = try MySQLConfiguration(url: "mysql://app@127.0.0.1:3307/shop?ssl-mode=REQUIRED", environment: ["MYSQL_PWD": "pw"])
        #expect(local.port == 3307 && local.password == "pw" && local.sslMode == .required)
        #expect(try MySQLConfiguration(url: "mysql://app@localhost/shop", environment: [:]).sslMode == .preferred)
        #expect(try MySQLConfiguration(url: "mysql://app@localhost/shop?ssl-ca=/ca.pem", environment: [:]).sslMode == .verifyCA,
                "a CA without a mode verifies, as the mysql client does")
        let fromEnvironment = try MySQLConfiguration(url: "mysql:///shop", environment: ["MYSQL_HOST": "db", "MYSQL_TCP_PORT": "3310", "USER": "me"])
        #expect(fromEnvironment.host == "db" && fromEnvironment.port == 3310 && fromEnvironment.user == "me")
        for bad in ["postgresql://x@y/z", "mysql://app@db", "mysql://app@db/shop?ssl-mode=sometimes", "mysql://app@db/shop?colour=blue"] {
            #expect(throws: MySQLError.self, "\(bad)") { try MySQLConfiguration(url: bad, environment: [:]) }
        }
    }

    @Test("an option file's [client] section fills what the URL leaves out, before the environment; quotes, comments and other groups read as mysql reads them")
    func optionFile() async throws {
        let text = """
            # a shared ~/.my.cnf
            [mysqld]
            port = 1111
            [client]
            host = db.internal   # the RDS endpoint
            port=3310
            user = "lab user"
            password = 'p#ss word'
            ssl_ca = /etc/rds.pem
            default-character-set = utf8mb4
            !includedir /etc/mysql/conf.d/
            [mysql]
            user = someone-else
            """
        let file = MySQLOptionFile(parsing: text)
        #expect(file["host"] == "db.internal" && file["port"] == "3310" && file["user"] == "lab user")
        #expect(file["password"] == "p#ss word" && file["ssl-ca"] == "/etc/rds.pem" && file["database"] == nil)
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("mycnf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        try text.write(to: home.appendingPathComponent(".my.cnf"), atomically: true, encoding: .utf8)
        let environment = ["HOME": home.path, "MYSQL_HOST": "env-host", "MYSQL_PWD": "env-pw", "USER": "env-user"]
        let fromFile = try MySQLConfiguration(url: "mysql:///ecommerce", environment: environment)
        #expect(fromFile.host == "db.internal" && fromFile.port == 3310 && fromFile.user == "lab user" && fromFile.password == "p#ss word")
        #expect(fromFile.sslCA == "/etc/rds.pem" && fromFile.sslMode == .verifyIdentity, "the file before the environment")
        let urlWins = try MySQLConfiguration(url: "mysql://app:pw@127.0.0.1:3307/shop?ssl-mode=required", environment: environment)
        #expect(urlWins.host == "127.0.0.1" && urlWins.port == 3307 && urlWins.user == "app" && urlWins.password == "pw")
        #expect(urlWins.sslMode == .required && urlWins.sslCA == "/etc/rds.pem")
        #expect(throws: MySQLError.self, "a named option file that is not there") {
            try MySQLConfiguration(url: "mysql:///shop?defaults-file=/nonexistent/my.cnf", environment: [:])
        }

        // A real connection whose credentials and CA come from the file alone.
        let real = try MySQLConfiguration(url: TestServices.mysqlURL, environment: [:])
        let named = home.appendingPathComponent("client.cnf")
        try """
            [client]
            host=\(real.host)
            port=\(real.port)
            user=\(real.user)
            password="\(real.password ?? "")"
            database=\(real.database)
            ssl-ca=\(real.sslCA ?? "")
            """.write(to: named, atomically: true, encoding: .utf8)
        let configuration = try MySQLConfiguration(url: "mysql://?defaults-file=\(named.path)", poolSize: 1, environment: [:])
        #expect(configuration.sslMode == .verifyCA && !configuration.description.contains(real.password ?? "-"))
        let mysql = MySQLClient(configuration: configuration)
        let cipher = try await mysql.run("SHOW SESSION STATUS LIKE 'Ssl_version'").first?.string("Value")
        #expect(cipher?.hasPrefix("TLSv1") == true, "TLS verified with the file's CA (\(cipher ?? "none"))")
        await mysql.shutdown()
    }
}
