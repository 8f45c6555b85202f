import Foundation
import MySQL
import Origins

/// A database of its own in the services' MariaDB for one test, seeded as `cacheload seed`
/// seeds MySQL, so tests run in parallel without seeing each other's rows.
package enum TestMySQLDatabase {
    /// Creates and seeds a database; its name and URL (TLS verified against the services' CA).
    package static func create(products: Int = 1005, slowSeconds: Double = 0.5) async throws -> (name: String, url: String) {
        let database = try await createEmpty()
        let client = MySQLClient(configuration: try MySQLConfiguration(url: database.url, poolSize: 1))
        _ = try await MySQLCatalogSeeder(mysql: client).seed(products: products, slowSeconds: slowSeconds)
        await client.shutdown()
        return database
    }

    /// A new empty database.
    package static func createEmpty() async throws -> (name: String, url: String) {
        let name = "cacheload_\(UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: ""))"
        let admin = MySQLClient(configuration: try MySQLConfiguration(url: TestServices.mysqlURL, poolSize: 1))
        _ = try await admin.run("CREATE DATABASE \(name)")
        await admin.shutdown()
        var components = URLComponents(string: TestServices.mysqlURL)!
        components.path = "/\(name)"
        return (name, components.string!)
    }

    package static func drop(_ name: String) async {
        guard let configuration = try? MySQLConfiguration(url: TestServices.mysqlURL, poolSize: 1) else { return }
        let admin = MySQLClient(configuration: configuration)
        _ = try? await admin.run("DROP DATABASE IF EXISTS \(name)")
        await admin.shutdown()
    }
}

/// A private MariaDB (Debian's `mariadbd`) a test may stop and start again on the same port and
/// data: the origin going away under load, then coming back.
package final class MariaDBProcess: @unchecked Sendable {
    package let port: Int
    private let directory: URL
    private var pid: pid_t?

    package init() throws {
        port = freeLoopbackPort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cacheload-mariadb-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("data"), withIntermediateDirectories: true)
        _ = try run("/bin/chown", ["-R", "mysql", directory.path])
        _ = try run("/bin/chmod", ["755", directory.path])
        _ = try run("/usr/bin/mariadb-install-db", ["--no-defaults", "--datadir=\(directory.path)/data", "--user=mysql",
                                                    "--auth-root-authentication-method=socket", "--skip-test-db"])
        try start()
        _ = try run("/usr/bin/mariadb", ["--no-defaults", "-S", "\(directory.path)/mariadb.sock", "-u", "root", "-e",
                                         "CREATE DATABASE shop; CREATE USER 'app'@'%' IDENTIFIED BY 'app-password'; GRANT ALL ON *.* TO 'app'@'%';"])
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// `mysql://app:…@127.0.0.1:PORT/shop`, plain TCP (a private loopback server: no TLS).
    package var url: String { "mysql://app:app-password@127.0.0.1:\(port)/shop?ssl-mode=disabled" }

    /// Starts the server on its port and data; returns once it accepts connections.
    package func start() throws {
        pid = try spawn("/usr/sbin/mariadbd", [
            "--no-defaults", "--datadir=\(directory.path)/data", "--user=mysql", "--port=\(port)", "--bind-address=127.0.0.1",
            "--socket=\(directory.path)/mariadb.sock", "--skip-name-resolve", "--skip-log-bin", "--innodb-buffer-pool-size=32M",
        ], outputPath: directory.appendingPathComponent("mariadb.log").path)
        try waitUntilAccepting(port: port, seconds: 60)
    }

    /// Stops the server (SIGTERM, as a service stop) and waits until it is gone.
    package func stop() {
        guard let pid else { return }
        kill(pid, SIGTERM)
        waitForExit(pid)
        self.pid = nil
    }
}
