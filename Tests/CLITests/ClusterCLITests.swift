import Foundation
import HTTPCurl
import Redis
import Testing
import TestSupport

/// The subcommands that talk to Redis, pointed at the shared clusters of `scripts/services`.
@Suite("cacheload export, s3 flush and serve against a Redis Cluster", .serialized)
struct ClusterCLITests {
    @Test("export: the cluster's keyspace counters summed, and each primary's labelled node=host:port (promtool clean)")
    func exportPerNode() async throws {
        let url = TestServices.redisClusterURL
        let redis = RedisClient(configuration: try RedisConfiguration(url: url))
        for id in 0..<90 { _ = try await redis.get("export:\(UUID().uuidString):\(id)") }
        let port = freeLoopbackPort()
        let pid = try spawn(TestServices.cacheloadBinary, ["export", "--redis", url, "--listen", "127.0.0.1:\(port)",
                                                           "--interval", "1", "--log-level", "warning"])
        defer { stopIfRunning(pid) }
        try waitUntilAccepting(port: port, seconds: 10)
        let client = CurlClient(concurrency: 1)
        var text = ""
        for _ in 0..<100 {
            text = try await client.execute(CurlRequest(url: "http://127.0.0.1:\(port)/metrics")).text
            if text.contains("cacheload_redis_node_keyspace_misses_total{") { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        await client.shutdown()
        let nodes = try await redis.dataNodes()
        #expect(nodes.count == 3)
        var perNode = 0
        for node in nodes {
            let line = text.split(separator: "\n").first { $0.hasPrefix(#"cacheload_redis_node_keyspace_misses_total{node="\#(node)"}"#) }
            let value = try #require(line.flatMap { Double($0.split(separator: " ").last ?? "") }, "no series for \(node): \(text)")
            #expect(value > 0, "every primary saw some of the 90 misses")
            perNode += Int(value)
        }
        let total = text.split(separator: "\n").first { $0.hasPrefix("cacheload_redis_keyspace_misses_total ") }
        #expect(total.flatMap { Double($0.split(separator: " ").last ?? "") }.map { Int($0) } == perNode, "the total is the nodes' sum")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-export-\(UUID()).txt")
        try text.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let check = try run("/bin/sh", ["-c", "promtool check metrics < \(file.path) 2>&1"])
        #expect(!check.contains("error"), "\(check)")
        kill(pid, SIGTERM)
        #expect(waitForExit(pid) == 0)
        await redis.shutdown()
    }

    @Test("s3 flush on the TLS cluster: object:* keys removed from every primary, other keys kept")
    func flushEveryPrimary() async throws {
        let url = TestServices.redisTLSClusterURL
        let redis = RedisClient(configuration: try RedisConfiguration(url: url))
        let keys = (0..<60).map { "object:flush-\($0)" }
        for key in keys { try await redis.set(key, Array("x".utf8), expireSeconds: 600) }
        try await redis.set("product:kept", Array("y".utf8), expireSeconds: 600)
        var nodesWithObjects = Set<String>()
        for (node, fields) in try await redis.infoByNode("keyspace") where fields["db0"] != nil { nodesWithObjects.insert(node) }
        #expect(nodesWithObjects.count == 3)
        let (status, output) = try await runCacheload(["s3", "flush", "--redis", url])
        #expect(status == 0, "\(output)")
        #expect(output.contains("flushed 60 cached objects"), "\(output)")
        #expect(try await redis.mget(keys).allSatisfy { $0 == nil })
        #expect(try await redis.get("product:kept") != nil)
        _ = try await redis.del("product:kept")
        await redis.shutdown()
    }

    @Test("serve --redis-mode cluster on a standalone Redis: one line naming the URL, exit 1, nothing served")
    func clusterModeOnStandalone() async throws {
        let (status, output) = try await runCacheload(["serve", "--listen", "127.0.0.1:\(freeLoopbackPort())", "--redis", TestServices.redisURL,
                                                 "--redis-mode", "cluster", "--log-level", "error"], within: 20)
        #expect(status == 1, "\(output)")
        #expect(output.contains("cluster_enabled:0") && output.contains("--redis-mode cluster"), "\(output)")
        let (usage, usageOutput) = try await runCacheload(["warm", "--redis-mode", "sharded"])
        #expect(usage == 64)
        #expect(usageOutput.contains("expected auto, standalone or cluster"), "\(usageOutput)")
    }

    @Test("serve --redis-mode standalone on a cluster node: MOVED answers BYPASS, the log says once to use auto and does not flap")
    func standaloneOnClusterNode() async throws {
        let database = try await TestDatabase.create(products: 200)
        let serve = try ServeProcess(redis: TestServices.redisClusterURL, postgres: database.url, arguments: ["--redis-mode", "standalone"])
        let client = CurlClient(concurrency: 4)
        var caches: [String] = []
        for id in 1...200 {
            caches.append(try await client.execute(CurlRequest(url: "\(serve.baseURL)/product/\(id)")).header("X-Cache") ?? "none")
        }
        await client.shutdown()
        _ = await serve.stop()
        // About a third of the keys live on the node given: those are cached (a MISS, or a HIT
        // when an earlier run on the shared cluster cached them); the others bypass.
        #expect((caches.contains("MISS") || caches.contains("HIT")) && caches.contains("BYPASS"), "\(Set(caches))")
        let lines = serve.output.split(separator: "\n")
        let changes = lines.filter { $0.contains("Redis is unavailable") || $0.contains("Redis answers again") }
        #expect(changes.count <= 2, "\(changes.count) outage lines for 200 requests: \(changes.prefix(4))")
        #expect(serve.output.contains("use --redis-mode auto"), "\(serve.output.suffix(1500))")
    }

    @Test("two cluster shards failing one after the other: two outages logged, each naming its node, not one for the client")
    func outagePerNode() async throws {
        // A long node timeout: the cluster keeps serving the live shards' slots while the test runs.
        let cluster = try RedisClusterProcess(primaries: 3, replicasPerPrimary: 0, nodeTimeoutMilliseconds: 60_000)
        let database = try await TestDatabase.create(products: 60)
        let serve = try ServeProcess(redis: cluster.url, postgres: database.url)
        func readAll() async throws -> Set<String> {
            var caches = Set<String>()
            for id in 1...60 { caches.insert(try await serve.request(.GET, "/product/\(id)").header("X-Cache") ?? "none") }
            return caches
        }
        _ = try await readAll()
        cluster.kill(cluster.nodes[1])
        let oneDown = try await readAll()
        cluster.kill(cluster.nodes[2])
        let twoDown = try await readAll()
        _ = await serve.stop()
        await TestDatabase.drop(database.name)
        #expect(oneDown == ["HIT", "BYPASS"] && twoDown == ["HIT", "BYPASS"], "\(oneDown) \(twoDown)")
        let starts = serve.output.split(separator: "\n").filter { $0.contains("Redis is unavailable") }
        #expect(starts.count == 2, "\(starts)")
        #expect(starts.first?.contains("at \(cluster.nodes[1].address)") == true, "\(starts)")
        #expect(starts.last?.contains("at \(cluster.nodes[2].address)") == true, "\(starts)")
    }
}
