import Foundation
import HTTPCurl
import Postgres
import Testing
import TestSupport

/// What a newcomer runs into, each once a defect: the setup mistake must be named, logged once,
/// and shown in /health; a failing subcommand must not exit 0.
@Suite("A new user's mistakes: named, logged once, and never a success")
struct NewUserTests {
    private func log(_ serve: ProductionPathTests.ServeProcess) -> String {
        (try? String(contentsOfFile: serve.log, encoding: .utf8)) ?? ""
    }

    private func occurrences(of text: String, in log: String) -> Int {
        log.components(separatedBy: text).count - 1
    }

    @Test("serve before seed: 503 says to run cacheload seed, /health is unhealthy with the reason, logged once")
    func serveBeforeSeed() async throws {
        let database = try await TestDatabase.createEmpty()
        let redis = try RedisServerProcess()  // its own: the shared one may hold products from other runs
        let serve = try ProductionPathTests.ServeProcess.start(["REDIS_URL=\(redis.url)", "DATABASE_URL=\(database.url)"])
        let client = CurlClient(concurrency: 2)
        for id in 1...3 {
            let response = try await client.execute(CurlRequest(url: "\(serve.base)/product/\(id)"))
            #expect(response.status == 503)
            #expect(response.text.contains("run `cacheload seed` first"), "\(response.text)")
        }
        let health = try await client.execute(CurlRequest(url: "\(serve.base)/health"))
        #expect(health.status == 503)
        #expect(health.text.contains("unhealthy") && health.text.contains("cacheload seed"), "\(health.text)")
        #expect(occurrences(of: "run `cacheload seed` first", in: log(serve)) == 1, "\(log(serve))")
        await client.shutdown()
        #expect(serve.stop() == 0)
        await TestDatabase.drop(database.name)
    }

    @Test("Redis with a wrong password: BYPASS, /health degraded with the reason (no password), the cause logged once per outage")
    func wrongRedisPassword() async throws {
        let redis = try RedisServerProcess(password: "right-password")
        let database = try await TestDatabase.create(products: 10)
        let serve = try ProductionPathTests.ServeProcess.start([
            "REDIS_URL=redis://:wrong-password@127.0.0.1:\(redis.port)/0", "DATABASE_URL=\(database.url)",
        ])
        let client = CurlClient(concurrency: 2)
        for id in 1...5 {
            let response = try await client.execute(CurlRequest(url: "\(serve.base)/product/\(id)"))
            #expect(response.status == 200)
            #expect(response.header("X-Cache") == "BYPASS")
        }
        let health = try await client.execute(CurlRequest(url: "\(serve.base)/health"))
        #expect(health.status == 200)
        #expect(health.text.contains("degraded"), "\(health.text)")
        #expect(health.text.lowercased().contains("auth"), "the reason names the refused AUTH: \(health.text)")
        #expect(!health.text.contains("wrong-password") && !log(serve).contains("wrong-password"))
        #expect(occurrences(of: "Redis is unavailable", in: log(serve)) == 1, "\(log(serve))")
        await client.shutdown()
        #expect(serve.stop() == 0)
        await TestDatabase.drop(database.name)
    }
}
