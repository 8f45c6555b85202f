import Foundation
import HTTPCurl
import LoadGen
import Redis
import Testing
import TestSupport

/// The cache in front of a real Redis Cluster while the cluster changes under a running load:
/// slots moving between primaries, and a primary dying. The load's own counts and the server's
/// counters must agree exactly, as in the single-node fault tests.
@Suite("Redis Cluster changing under a running load", .serialized)
struct ClusterUnderLoadTests {
    static let keys = 1...300

    private func plan(_ server: TestServer, seconds: Int) throws -> LoadPlan {
        LoadPlan(template: try RequestTemplate(url: server.baseURL + "/product/{key}"), keys: Self.keys, distribution: .uniform,
                 seed: 11, connections: 8, rate: nil, duration: .seconds(seconds), timeout: .seconds(3), threads: 1)
    }

    private func warm(_ server: TestServer) async throws {
        for id in Self.keys { _ = try await server.request(.GET, "/product/\(id)") }
    }

    private func metric(_ server: TestServer, _ series: String) async throws -> Int {
        let text = try await server.request(.GET, "/metrics").text
        let line = text.split(separator: "\n").first { $0.hasPrefix(series + " ") }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") }.map { Int($0) } ?? 0
    }

    private func counter(_ stats: [String: Any], _ name: String) -> Int { stats[name] as? Int ?? 0 }

    @Test("resharding 1500 slots while a load runs: 0 × 5xx, 0 BYPASS, MOVED/ASK followed and counted")
    func reshardUnderLoad() async throws {
        let cluster = try RedisClusterProcess(primaries: 3, replicasPerPrimary: 0)
        let server = try await TestServer.start(redisURL: cluster.url)
        try await warm(server)
        let source = try cluster.redisCLI(["CLUSTER", "MYID"], node: cluster.nodes[0]).trimmingCharacters(in: .whitespacesAndNewlines)
        let target = try cluster.redisCLI(["CLUSTER", "MYID"], node: cluster.nodes[1]).trimmingCharacters(in: .whitespacesAndNewlines)
        let before = try await server.serverStats()

        let clock = ContinuousClock()
        async let load = LoadEngine(plan: try plan(server, seconds: 6)).run()
        try await Task.sleep(until: clock.now + .milliseconds(500))
        let reshardStart = clock.now
        let reshard = Task.detached {
            try cluster.redisCLI(["--cluster", "reshard", cluster.nodes[0].address, "--cluster-from", source, "--cluster-to", target,
                                  "--cluster-slots", "1500", "--cluster-yes"])
        }
        _ = try await reshard.value
        let reshardTook = clock.now - reshardStart
        let result = try await load
        let after = try await server.serverStats()
        let counts = result.counts

        #expect(counts.status5xx == 0)
        #expect(counts.errors == 0)
        #expect(counts.bypasses == 0, "a redirection must never cost a BYPASS")
        let moved = try await metric(server, #"cacheload_redis_redirections_total{kind="moved"}"#)
        let ask = try await metric(server, #"cacheload_redis_redirections_total{kind="ask"}"#)
        #expect(moved + ask > 0, "the slots moved under the load: redirections were followed")
        #expect(counter(after, "hits") - counter(before, "hits") == counts.hits)
        #expect(counter(after, "misses") - counter(before, "misses") == counts.misses)
        #expect(counter(after, "bypasses") - counter(before, "bypasses") == 0)
        print("reshard of 1500 slots took \(reshardTook) under load: \(counts.completed) answered, \(moved) MOVED, \(ask) ASK, 0 BYPASS, 0 5xx")
        await server.stop()
    }

    @Test("a primary SIGKILLed mid-run: 0 × 5xx, BYPASS only until its replica is promoted, counters conserved")
    func failoverUnderLoad() async throws {
        let cluster = try RedisClusterProcess(primaries: 3, replicasPerPrimary: 1)
        let server = try await TestServer.start(redisCommandTimeout: .milliseconds(300), redisURL: cluster.url)
        try await warm(server)
        let primaries = try cluster.primaries()
        try cluster.waitForReplication()
        // The key the probe watches lives on the primary that dies.
        let victim = primaries[0]
        let probeKey = try #require(Self.keys.first { id in
            (try? cluster.redisCLI(["EXISTS", "product:\(id)"], node: victim))?.trimmingCharacters(in: .whitespacesAndNewlines) == "1"
        })
        // Only a replica can be promoted; when one says `master`, the cluster has failed over.
        let replicas = cluster.nodes.filter { node in !primaries.contains { $0 === node } }
        let before = try await server.serverStats()

        let clock = ContinuousClock()
        async let load = LoadEngine(plan: try plan(server, seconds: 8)).run()
        try await Task.sleep(until: clock.now + .milliseconds(1500))
        cluster.kill(victim)
        let killed = clock.now
        var probed: [String] = []
        var promoted: Duration?
        var recovered: Duration?
        while recovered == nil, clock.now - killed < .seconds(10) {
            if promoted == nil, replicas.contains(where: { (try? cluster.role(of: $0)) == "master" }) { promoted = clock.now - killed }
            let answer = try await server.request(.GET, "/product/\(probeKey)", timeout: .seconds(3))
            probed.append(answer.header("X-Cache") ?? "status \(answer.status)")
            if answer.header("X-Cache") == "HIT" { recovered = clock.now - killed } else { try await Task.sleep(for: .milliseconds(20)) }
        }
        // Promoted between the last look and the HIT: the promotion is no later than the HIT.
        if promoted == nil, recovered != nil, replicas.contains(where: { (try? cluster.role(of: $0)) == "master" }) { promoted = recovered }
        let result = try await load
        let after = try await server.serverStats()
        let counts = result.counts

        #expect(counts.status5xx == 0, "a dead primary must not fail a request")
        #expect(counts.errors == 0)
        #expect(counts.bypasses > 0, "the dead primary was not noticed")
        let gap = try #require(recovered, "HITs did not come back: \(probed.suffix(5))")
        // How soon Redis promotes a replica is Redis's (node timeout, then an election with a
        // random delay); how soon the server follows the new map once it has is the server's.
        let promotion = try #require(promoted, "no replica was promoted; HITs came back \(gap) after the kill")
        #expect(gap - promotion < .seconds(1), "HITs back \(gap - promotion) after the promotion (\(promotion) after the kill)")
        let last = try #require(result.seconds.last(where: { $0.responses > 0 }))
        #expect(last.bypasses == 0, "last second: \(last.bypasses) BYPASS")
        let probeCounts = (hits: probed.filter { $0 == "HIT" }.count, misses: probed.filter { $0 == "MISS" }.count,
                           bypasses: probed.filter { $0 == "BYPASS" }.count)
        #expect(counter(after, "hits") - counter(before, "hits") == counts.hits + probeCounts.hits)
        #expect(counter(after, "misses") - counter(before, "misses") == counts.misses + probeCounts.misses)
        #expect(counter(after, "bypasses") - counter(before, "bypasses") == counts.bypasses + probeCounts.bypasses)
        print("cluster failover under load: \(counts.completed) answered, \(counts.bypasses) BYPASS, 0 5xx; replica promoted \(promotion) after the kill (node timeout \(cluster.nodeTimeoutMilliseconds) ms), HITs back \(gap)")
        await server.stop()
    }
}
