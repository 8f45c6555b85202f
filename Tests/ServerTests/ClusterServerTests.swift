import Foundation
import HTTPCurl
import Redis
import Testing
import TestSupport

/// The server's behaviour against a real 3-shard Redis Cluster is what it is against one node.
@Suite("The cache-aside server in front of a Redis Cluster")
struct ClusterServerTests {
    @Test("MISS→HIT, negative cache, single-flight, write-through, invalidation and /stats, on three shards")
    func behaviourOnACluster() async throws {
        let cluster = try RedisClusterProcess(primaries: 3, replicasPerPrimary: 0)
        try await TestServer.withRoutes(redisURL: cluster.url) { server in

            for id in 1...30 {
                #expect(try await server.request(.GET, "/product/\(id)").header("X-Cache") == "MISS")
                #expect(try await server.request(.GET, "/product/\(id)").header("X-Cache") == "HIT")
            }
            let missing = try await server.request(.GET, "/product/999999")
            #expect(missing.status == 404 && missing.header("X-Cache") == "MISS")
            let negative = try await server.request(.GET, "/product/999999")
            #expect(negative.status == 404 && negative.header("X-Cache") == "HIT")

            let queriesBefore = try await server.serverStats()["origin_queries"] as? Int ?? 0
            let answers = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<50 { group.addTask { try await server.request(.GET, "/product/500").status } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(answers.allSatisfy { $0 == 200 })
            #expect((try await server.serverStats()["origin_queries"] as? Int ?? 0) - queriesBefore == 1, "single-flight")

            let put = try await server.request(.PUT, "/product/10", body: #"{"name":"Sharded","price":3}"#, token: server.adminToken)
            #expect(put.status == 200)
            let after = try await server.request(.GET, "/product/10")
            #expect(after.header("X-Cache") == "HIT")
            #expect((jsonObject(after)["product"] as? [String: Any])?["name"] as? String == "Sharded")
            #expect(try await server.request(.DELETE, "/product/11", token: server.adminToken).status == 200)
            #expect(try await server.request(.GET, "/product/11").status == 404)

            // Keys landed on every shard, and /stats adds the shards up.
            let stats = try await server.request(.GET, "/stats")
            let redis = try #require(jsonObject(stats)["redis"] as? [String: Any])
            #expect(redis["mode"] as? String == "cluster")
            let nodes = try #require(redis["nodes"] as? [String: [String: Any]])
            #expect(nodes.count == 3)
            let perNodeHits = nodes.values.map { $0["keyspace_hits"] as? Int ?? 0 }
            #expect(perNodeHits.allSatisfy { $0 > 0 }, "\(nodes)")
            #expect(redis["keyspace_hits"] as? Int == perNodeHits.reduce(0, +))
            let metrics = try await server.request(.GET, "/metrics").text
            #expect(metrics.contains(#"cacheload_redis_redirections_total{kind="moved"} 0"#))
            #expect(metrics.contains("cacheload_redis_topology_refreshes_total"))
        }
    }
}
