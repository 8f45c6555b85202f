import Foundation
import HTTPCurl
import Postgres
import Testing
import TestSupport

/// The paths a deployment takes, with nothing injected: the release-style binary, credentials
/// resolved by the real chain from the environment or the instance metadata service, a real CA
/// file. Two defects once hid behind injected credentials and a readable file.
@Suite("Production paths: credentials from the chain, CA files from disk")
struct ProductionPathTests {
    /// A running `cacheload serve` process with the given environment additions.
    struct ServeProcess {
        let pid: pid_t
        let port: Int
        let log: String
        var base: String { "http://127.0.0.1:\(port)" }

        static func start(_ environment: [String], arguments: [String] = []) throws -> ServeProcess {
            let port = freeLoopbackPort()
            let log = FileManager.default.temporaryDirectory.appendingPathComponent("serve-\(UUID()).log").path
            let pid = try spawn("/usr/bin/env", ["-u", "AWS_ACCESS_KEY_ID", "-u", "AWS_SECRET_ACCESS_KEY", "-u", "AWS_PROFILE"]
                                + environment + [TestServices.cacheloadBinary, "serve", "--listen", "127.0.0.1:\(port)"] + arguments,
                                outputPath: log)
            do {
                try waitUntilAccepting(port: port, seconds: 20)
            } catch {
                kill(pid, SIGKILL)
                waitForExit(pid)
                throw ProcessFailure(command: "cacheload serve", output: (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
            }
            return ServeProcess(pid: pid, port: port, log: log)
        }

        func stop() -> Int32? {
            kill(pid, SIGTERM)
            defer { try? FileManager.default.removeItem(atPath: log) }
            return waitForExit(pid, within: 10)
        }
    }

    private func bucket() async throws -> String {
        try await TestBuckets.create("cacheload-path")
    }

    @Test("200 S3 misses with credentials from the environment: the thread count grows by at most 2")
    func s3MissesDoNotLeakThreads() async throws {
        let database = try await TestDatabase.create(products: 10)
        let bucket = try await bucket()
        let serve = try ServeProcess.start([
            "REDIS_URL=\(TestServices.redisURL)", "DATABASE_URL=\(database.url)", "AWS_REGION=\(TestServices.awsRegion)",
            "AWS_ENDPOINT_URL=\(TestServices.awsEndpoint)",
            "AWS_ACCESS_KEY_ID=\(TestServices.awsAccessKeyID)", "AWS_SECRET_ACCESS_KEY=\(TestServices.awsSecretAccessKey)",
        ], arguments: ["--s3-bucket", bucket])
        let client = CurlClient(concurrency: 4)
        let prefix = UUID().uuidString.prefix(8)
        // A first miss starts what a process starts once (the S3 client's pool, say).
        #expect(try await client.execute(CurlRequest(url: "\(serve.base)/object/\(prefix)-warmup")).status == 404)
        let before = threadCount(serve.pid)
        for index in 0..<200 {
            let response = try await client.execute(CurlRequest(url: "\(serve.base)/object/\(prefix)-\(index)"))
            #expect(response.status == 404, "\(response.status) \(response.text)")
        }
        let after = threadCount(serve.pid)
        #expect(before > 0)
        #expect(after - before <= 2, "threads went from \(before) to \(after) over 200 S3 misses")
        await client.shutdown()
        #expect(serve.stop() == 0)
        await TestDatabase.drop(database.name)
    }

    @Test("credentials from the instance role: the metadata service is asked once for 50 S3 misses and CloudWatch's pushes, not once per miss or per client")
    func instanceRoleResolvedOnce() async throws {
        let database = try await TestDatabase.create(products: 10)
        let metadata = try await MetadataServer()
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("home-\(UUID())").path
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let serve = try ServeProcess.start([
            "REDIS_URL=\(TestServices.redisURL)", "DATABASE_URL=\(database.url)", "AWS_REGION=\(TestServices.awsRegion)",
            "AWS_ENDPOINT_URL=\(TestServices.awsEndpoint)", "HOME=\(home)",
            "AWS_EC2_METADATA_SERVICE_ENDPOINT=\(metadata.baseURL)",
        ], arguments: ["--s3-bucket", "cacheload-imds-\(UUID().uuidString.prefix(8).lowercased())", "--cloudwatch",
                       "--spool", FileManager.default.temporaryDirectory.appendingPathComponent("imds-spool-\(UUID()).jsonl").path])
        let client = CurlClient(concurrency: 8)
        let prefix = UUID().uuidString.prefix(8)
        try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<50 {
                group.addTask { try await client.execute(CurlRequest(url: "\(serve.base)/object/\(prefix)-\(index)")).status }
            }
            for try await status in group { #expect(status == 404 || status == 502, "\(status)") }
        }
        #expect(try await client.execute(CurlRequest(url: "\(serve.base)/product/1")).status == 200, "a datum for the pusher")
        await client.shutdown()
        #expect(serve.stop() == 0)  // the pusher's last flush: CloudWatch has asked for credentials by now
        // One credential chain per process: S3 and the CloudWatch pusher share it (two chains asked twice).
        let tokenRequests = metadata.requests.filter { $0 == "PUT /latest/api/token" }
        let credentialRequests = metadata.requests.filter { $0.hasSuffix("/security-credentials/cacheload-role") }
        #expect(tokenRequests.count == 1, "\(metadata.requests)")
        #expect(credentialRequests.count == 1, "\(metadata.requests)")
        try await metadata.close()
        await TestDatabase.drop(database.name)
    }

    @Test("load --json s3://… --cloudwatch with credentials from the instance role: one lookup for the result's S3 and the push")
    func loadResolvesCredentialsOnce() async throws {
        let server = try await TestServer.start(products: 10)
        let metadata = try await MetadataServer(roleKeys: (TestServices.awsAccessKeyID, TestServices.awsSecretAccessKey))
        let bucket = try await TestBuckets.create("cacheload-imds-load")
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("home-\(UUID())").path
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        // The keys come from the role alone: none in the environment or in a shared file.
        let (status, output) = try await runCacheload(
            ["load", server.baseURL + "/product/{key}", "--keys", "1-10", "-c", "2", "-d", "1s", "--quiet",
             "--json", "s3://\(bucket)/runs/one.json", "--cloudwatch"],
            environment: ["-u", "AWS_ACCESS_KEY_ID", "-u", "AWS_SECRET_ACCESS_KEY", "-u", "AWS_SESSION_TOKEN", "-u", "AWS_PROFILE",
                          "HOME=\(home)", "AWS_REGION=\(TestServices.awsRegion)", "AWS_ENDPOINT_URL=\(TestServices.awsEndpoint)",
                          "AWS_EC2_METADATA_SERVICE_ENDPOINT=\(metadata.baseURL)"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("wrote s3://\(bucket)/runs/one.json") && output.contains("pushed"), "\(output)")
        // One credential chain per process: the result store and the CloudWatch push share it (two chains asked twice).
        #expect(metadata.requests.filter { $0 == "PUT /latest/api/token" }.count == 1, "\(metadata.requests)")
        #expect(metadata.requests.filter { $0.hasSuffix("/security-credentials/cacheload-role") }.count == 1, "\(metadata.requests)")
        try await metadata.close()
        await server.stop()
    }

    @Test("an unreadable ssl_ca_certs file at start: exit non-zero within 5 s with one line naming the file")
    func unreadableCAFileRefusedAtStart() throws {
        let missing = "/nonexistent-\(UUID().uuidString).pem"
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("ca-\(UUID()).log").path
        let pid = try spawn(TestServices.cacheloadBinary, [
            "serve", "--listen", "127.0.0.1:\(freeLoopbackPort())", "--redis", "rediss://127.0.0.1:6379/0?ssl_ca_certs=\(missing)",
            "--postgres", TestServices.databaseURL,
        ], outputPath: log)
        let status = waitForExit(pid, within: 5)
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(status != nil && status != 0, "exit \(String(describing: status)): \(output)")
        let lines = output.split(separator: "\n")
        #expect(lines.count == 1, "\(output)")
        #expect(output.contains(missing), "\(output)")
        try? FileManager.default.removeItem(atPath: log)
    }

    @Test("the CA file made unreadable while running: /health answers within 1 s, requests BYPASS, then HIT once it is back")
    func caFileLostWhileRunning() async throws {
        let certificates = try TestCertificates()
        let redis = try RedisServerProcess(tls: certificates)
        let ca = certificates.directory + "/running.pem"
        try FileManager.default.copyItem(atPath: certificates.caFile, toPath: ca)
        let database = try await TestDatabase.create(products: 10)
        let serve = try ServeProcess.start([
            "REDIS_URL=rediss://localhost:\(redis.port)/0?ssl_ca_certs=\(ca)", "DATABASE_URL=\(database.url)",
        ])
        let client = CurlClient(concurrency: 2)
        func get(_ path: String) async throws -> CurlResponse {
            try await client.execute(CurlRequest(url: serve.base + path, timeout: .seconds(1)))
        }
        _ = try await get("/product/1")
        #expect(try await get("/product/1").header("X-Cache") == "HIT")

        try FileManager.default.moveItem(atPath: ca, toPath: ca + ".away")
        redis.stop()
        try redis.start()
        for _ in 0..<5 {
            let health = try await get("/health")
            #expect(health.status == 200)
            #expect(health.text.contains("degraded"), "\(health.text)")
            #expect(try await get("/product/2").header("X-Cache") == "BYPASS")
        }

        try FileManager.default.moveItem(atPath: ca + ".away", toPath: ca)
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(5)
        var cache = ""
        while clock.now < deadline, cache != "HIT" {
            cache = try await get("/product/3").header("X-Cache") ?? ""
            if cache != "HIT" { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(cache == "HIT", "the cache did not come back within 5 s of the CA file")
        await client.shutdown()
        #expect(serve.stop() == 0)
        await TestDatabase.drop(database.name)
    }
}

/// RDS rotates its managed master password every seven days; the server must follow without a restart.
@Suite("PostgreSQL password rotation: the secret is read again on 28P01")
struct PasswordRotationTests {
    @Test("after the password and the secret change and connections drop, misses are answered again within 5 s")
    func followsRotation() async throws {
        let cluster = try PostgresClusterProcess(passwords: true)
        let admin = PostgresClient(configuration: try PostgresConfiguration(cluster.socketURL, poolSize: 1))
        _ = try await admin.query(PostgresQuery(unsafeSQL: "CREATE ROLE app SUPERUSER LOGIN PASSWORD 'first-password'"))
        let url = { (password: String) in "postgresql://app:\(password)@127.0.0.1:\(cluster.port)/postgres" }
        try await TestDatabase.seed(url("first-password"), products: 20, slowSeconds: 0.1)
        let secret = try await TestSecrets.create("cacheload-rotation-\(UUID().uuidString.prefix(8))",
                                                  value: #"{"username":"app","password":"first-password"}"#)
        let serve = try ProductionPathTests.ServeProcess.start([
            "REDIS_URL=\(TestServices.redisURL)", "DATABASE_URL=\(url("first-password"))",
            "CACHELOAD_POSTGRES_SECRET_ARN=\(secret)", "AWS_REGION=\(TestServices.awsRegion)",
            "AWS_ENDPOINT_URL=\(TestServices.awsEndpoint)",
            "AWS_ACCESS_KEY_ID=\(TestServices.awsAccessKeyID)", "AWS_SECRET_ACCESS_KEY=\(TestServices.awsSecretAccessKey)",
        ], arguments: ["--cache", "off"])
        let client = CurlClient(concurrency: 2)
        #expect(try await client.execute(CurlRequest(url: serve.base + "/product/1")).status == 200)

        // The rotation as RDS does it: new password on the server, then in the secret.
        _ = try await admin.query(PostgresQuery(unsafeSQL: "ALTER ROLE app PASSWORD 'second-password'"))
        try await TestSecrets.put(secret, value: #"{"username":"app","password":"second-password"}"#)
        _ = try await admin.query(PostgresQuery(unsafeSQL: "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'app'"))

        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(5)
        var status = 0
        while clock.now < deadline, status != 200 {
            status = try await client.execute(CurlRequest(url: serve.base + "/product/2")).status
            if status != 200 { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(status == 200, "misses still fail 5 s after the rotation")
        let log = (try? String(contentsOfFile: serve.log, encoding: .utf8)) ?? ""
        #expect(log.contains("fetching the credentials again"), "\(log.suffix(2000))")
        #expect(!log.contains("second-password") && !log.contains("first-password"), "a password reached the log")
        await client.shutdown()
        #expect(serve.stop() == 0)
        await admin.shutdown()
    }
}
