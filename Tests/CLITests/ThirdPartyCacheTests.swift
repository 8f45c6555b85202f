import Foundation
import Redis
import Testing
import TestSupport

/// `cacheload load` measuring caches it did not write, through the real binary: its hits and
/// misses must equal what each cache counted itself over the same run.
@Suite("load --cache-status against nginx proxy_cache, Varnish and a labs-style Flask app", .serialized)
struct ThirdPartyCacheTests {
    private func temporaryFile(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("\(UUID())-\(name)").path
    }

    /// Runs `cacheload load` with `--json` and returns the exit status, the output and `summary.cache`.
    private func load(_ arguments: [String]) async throws -> (Int32?, String, [String: Any]) {
        let json = temporaryFile("run.json")
        defer { try? FileManager.default.removeItem(atPath: json) }
        let (status, output) = try await runCacheload(["load"] + arguments + ["--quiet", "--json", json], within: 120)
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any]
        let summary = document?["summary"] as? [String: Any]
        return (status, output, summary?["cache"] as? [String: Any] ?? [:])
    }

    private func delta(_ after: [String: Int], _ before: [String: Int], _ names: String...) -> Int {
        names.reduce(0) { $0 + (after[$1] ?? 0) - (before[$1] ?? 0) }
    }

    @Test("nginx proxy_cache, X-Cache-Status: hits, stale, misses and bypasses equal nginx's access log (HIT, STALE/UPDATING, MISS/EXPIRED, BYPASS)")
    func nginxCacheStatusHeader() async throws {
        let nginx = try NginxCacheProcess()
        let before = try nginx.loggedOutcomes()
        let base = "http://127.0.0.1:\(nginx.port)"
        // 4 s over 20 keys fresh for 1 s: entries expire (EXPIRED), are served stale while updated
        // (STALE/UPDATING), and /…/1 is never cached (BYPASS).
        let (status, output, cache) = try await load(["\(base)/plain/{key}", "\(base)/stale/{key}", "--keys", "1-20", "--rate", "300",
                                                      "--requests", "1200", "-c", "4"])
        #expect(status == 0, "\(output)")
        let logged = try nginx.loggedOutcomes()
        #expect(delta(logged, before, "EXPIRED") > 0 && delta(logged, before, "BYPASS") > 0 && delta(logged, before, "STALE", "UPDATING") > 0,
                "the run exercised every outcome: \(logged)")
        #expect(cache["hits"] as? Int == delta(logged, before, "HIT", "STALE", "UPDATING", "REVALIDATED"), "\(cache) vs \(logged)")
        #expect(cache["stale"] as? Int == delta(logged, before, "STALE", "UPDATING"), "\(cache) vs \(logged)")
        #expect(cache["misses"] as? Int == delta(logged, before, "MISS", "EXPIRED"), "\(cache) vs \(logged)")
        #expect(cache["bypasses"] as? Int == delta(logged, before, "BYPASS"), "\(cache) vs \(logged)")
        #expect(cache["source"] as? String == "X-Cache-Status")
        #expect(output.contains("cache outcome: X-Cache-Status in 1200 of 1200 answers"), "\(output)")
    }

    @Test("nginx proxy_cache, RFC 9211 Cache-Status: the same counts from the structured field")
    func nginxStructuredCacheStatus() async throws {
        let nginx = try NginxCacheProcess()
        let before = try nginx.loggedOutcomes()
        let (status, output, cache) = try await load(["http://127.0.0.1:\(nginx.port)/rfc/{key}", "http://127.0.0.1:\(nginx.port)/rfc-stale/{key}",
                                                      "--keys", "1-20", "--rate", "300", "--requests", "900", "-c", "4"])
        #expect(status == 0, "\(output)")
        let logged = try nginx.loggedOutcomes()
        #expect(cache["hits"] as? Int == delta(logged, before, "HIT", "STALE", "UPDATING", "REVALIDATED"), "\(cache) vs \(logged)")
        #expect(cache["stale"] as? Int == delta(logged, before, "STALE", "UPDATING"), "\(cache) vs \(logged)")
        #expect(cache["misses"] as? Int == delta(logged, before, "MISS", "EXPIRED"), "\(cache) vs \(logged)")
        #expect(cache["bypasses"] as? Int == delta(logged, before, "BYPASS"), "\(cache) vs \(logged)")
        #expect(cache["source"] as? String == "Cache-Status")
        #expect((cache["hops"] as? [String: Int])?["1"] == 900)
    }

    @Test("Varnish: hits and misses from X-Varnish equal varnishstat's MAIN.cache_hit and MAIN.cache_miss")
    func varnish() async throws {
        let varnish = try VarnishProcess()
        let (hits, misses) = (try varnish.counter("MAIN.cache_hit"), try varnish.counter("MAIN.cache_miss"))
        let (status, output, cache) = try await load(["http://127.0.0.1:\(varnish.port)/item/{key}", "--keys", "1-50", "--requests", "600", "-c", "4"])
        #expect(status == 0, "\(output)")
        #expect(cache["hits"] as? Int == (try varnish.counter("MAIN.cache_hit")) - hits, "\(cache)")
        #expect(cache["misses"] as? Int == (try varnish.counter("MAIN.cache_miss")) - misses, "\(cache)")
        #expect((cache["misses"] as? Int ?? 0) >= 50, "\(cache)")
        #expect(cache["source"] as? String == "X-Varnish")
    }

    @Test("a labs-style Flask app (cache_status in the JSON body, no header): client hits equal Redis's keyspace_hits over the run")
    func labsApp() async throws {
        let redis = try RedisServerProcess()
        let database = try await TestDatabase.create(products: 60)
        let app = try LabsAppProcess(redis: redis.url, database: database.url)
        let client = RedisClient(configuration: try RedisConfiguration(url: redis.url))
        func stats() async throws -> (Int, Int) {
            let info = try await client.info("stats")
            return (Int(info["keyspace_hits"] ?? "") ?? -1, Int(info["keyspace_misses"] ?? "") ?? -1)
        }
        let before = try await stats()
        let url = "http://127.0.0.1:\(app.port)/product/{key}"
        let (status, output, cache) = try await load([url, "--keys", "1-60", "--requests", "400", "-c", "4", "--threshold", "hit_ratio>0.5"])
        let after = try await stats()
        #expect(status == 0, "\(output)")
        #expect(cache["hits"] as? Int == after.0 - before.0, "\(cache), Redis \(before) → \(after)")
        #expect(cache["misses"] as? Int == after.1 - before.1, "\(cache), Redis \(before) → \(after)")
        #expect(cache["source"] as? String == "JSON field cache_status")
        #expect(output.contains("cache outcome: JSON field cache_status in 400 of 400 answers"), "\(output)")

        // Told to look elsewhere: no hit ratio, one line saying why, and the threshold fails with that reason.
        let (missed, missedOutput, _) = try await load([url, "--keys", "1-60", "--requests", "50", "-c", "2", "--cache-status", "header:X-Cache",
                                                        "--threshold", "hit_ratio>0.5"])
        #expect(missed == 99, "\(missedOutput)")
        #expect(missedOutput.contains("no answer carried the header X-Cache") && missedOutput.contains("--cache-status"), "\(missedOutput)")
        #expect(missedOutput.contains("no answer stated a hit or a miss"), "\(missedOutput)")
        await client.shutdown()
        await TestDatabase.drop(database.name)
    }
}
