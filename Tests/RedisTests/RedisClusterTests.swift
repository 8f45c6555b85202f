import Foundation
import NIOCore
import Redis
import Testing
import TestSupport

/// Redis Cluster against real nodes: slots, discovery, redirections, failover, TLS.
@Suite("Redis Cluster: discovery, routing, MOVED/ASK, failover, READONLY, TLS")
struct RedisClusterTests {
    private func client(_ url: String, mode: RedisMode = .auto, readFrom: RedisReadFrom = .primary,
                        commandTimeout: Duration = .seconds(1)) throws -> RedisClient {
        var configuration = try RedisConfiguration(url: url, poolSize: 2)
        configuration.mode = mode
        configuration.readFrom = readFrom
        configuration.connectTimeout = .milliseconds(500)
        configuration.commandTimeout = commandTimeout
        configuration.reconnectBackoff = (.milliseconds(20), .milliseconds(200))
        return RedisClient(configuration: configuration)
    }

    @Test("hash slots: the specification's examples, hash tags, and CLUSTER KEYSLOT of a real node agree")
    func hashSlots() throws {
        #expect(HashSlot.of("123456789") == 0x31C3 % 16384)
        #expect(HashSlot.of("{user1000}.following") == HashSlot.of("{user1000}.followers"))
        #expect(HashSlot.of("foo{}{bar}") != HashSlot.of("bar"), "an empty tag hashes the whole key")
        #expect(HashSlot.of("foo{{bar}}zap") == HashSlot.of("{bar"))
        let cluster = try RedisClusterProcess(primaries: 3, replicasPerPrimary: 0)
        let keys = (0..<60).map { "product:\($0 * 977)" } + ["{tag}a", "x{tag}y", "{}", "{", "}{", "é{ü}"]
        for key in keys {
            let real = try cluster.redisCLI(["CLUSTER", "KEYSLOT", key]).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(Int(real) == HashSlot.of(key), "\(key)")
        }
    }

    @Test("auto mode finds the cluster; keys spread over every primary; MGET, DEL, SCAN and INFO fan out")
    func discoveryAndSpread() async throws {
        let cluster = try RedisClusterProcess(primaries: 3, replicasPerPrimary: 1)
        let redis = try client(cluster.url)
        #expect(try await redis.isCluster())
        let keys = (0..<300).map { "product:\($0)" }
        for key in keys { try await redis.set(key, Array(key.utf8), expireSeconds: 600) }
        for key in keys { #expect(try await redis.get(key).map { String(buffer: $0) } == key) }

        // The topology two ways: CLUSTER SHARDS and CLUSTER SLOTS describe the same map.
        let shards = try ClusterTopology(shardsReply: try await redis.send(RedisCommand("CLUSTER", "SHARDS")), tls: false)
        let slots = try ClusterTopology(slotsReply: try await redis.send(RedisCommand("CLUSTER", "SLOTS")))
        #expect(shards.coveredSlots == 16384 && slots.coveredSlots == 16384)
        #expect(Set(shards.primaries) == Set(slots.primaries))
        for slot in stride(from: 0, to: 16384, by: 97) {
            #expect(shards.shard(for: slot)?.primary == slots.shard(for: slot)?.primary)
        }

        // Every primary served some of the GETs: each one's own keyspace_hits moved.
        let perNode = try await redis.infoByNode("stats")
        #expect(perNode.count == 3)
        let hits = perNode.map { Int($0.fields["keyspace_hits"] ?? "") ?? 0 }
        #expect(hits.allSatisfy { $0 > 0 }, "\(perNode.map(\.node)): \(hits)")
        #expect(hits.reduce(0, +) == 300)
        #expect(Int(try await redis.info("stats")["keyspace_hits"] ?? "") == 300, "INFO is summed over the primaries")

        let values = try await redis.mget(keys + ["product:none"])
        #expect(values.count == 301)
        #expect(values.prefix(300).map { $0.map { String(buffer: $0) } } == keys.map { Optional($0) })
        #expect(values.last! == nil)

        var scanned: [String] = []
        try await redis.scanKeys(matching: "product:*") { scanned += $0 }
        #expect(Set(scanned) == Set(keys))
        #expect(try await redis.del(Array(keys.prefix(150))) == 150)
        try await redis.flushdb()
        #expect(try await redis.get("product:299") == nil)
        try await redis.ping()
        #expect(redis.statistics.snapshot.moved == 0 && redis.statistics.snapshot.topologyRefreshes >= 1)
        await redis.shutdown()
    }

    @Test("ASK during a migration is followed without changing the map; MOVED after it updates the map once")
    func askThenMoved() async throws {
        let cluster = try RedisClusterProcess(primaries: 3, replicasPerPrimary: 0)
        let redis = try client(cluster.url)
        let key = "product:42"
        let slot = HashSlot.of(key)
        try await redis.set(key, Array("before".utf8))
        let topology = try ClusterTopology(shardsReply: try await redis.send(RedisCommand("CLUSTER", "SHARDS")), tls: false)
        let sourceAddress = try #require(topology.shard(for: slot)?.primary)
        let source = try #require(cluster.nodes.first { $0.port == sourceAddress.port })
        let target = try #require(cluster.nodes.first { $0.port != source.port })
        let sourceID = try cluster.redisCLI(["CLUSTER", "MYID"], node: source).trimmingCharacters(in: .whitespacesAndNewlines)
        let targetID = try cluster.redisCLI(["CLUSTER", "MYID"], node: target).trimmingCharacters(in: .whitespacesAndNewlines)

        try cluster.redisCLI(["CLUSTER", "SETSLOT", "\(slot)", "IMPORTING", sourceID], node: target)
        try cluster.redisCLI(["CLUSTER", "SETSLOT", "\(slot)", "MIGRATING", targetID], node: source)
        try cluster.redisCLI(["MIGRATE", "127.0.0.1", "\(target.port)", key, "0", "5000"], node: source)
        #expect(try await redis.get(key).map { String(buffer: $0) } == "before")
        #expect(redis.statistics.snapshot.ask == 1)
        #expect(redis.statistics.snapshot.moved == 0)

        for node in cluster.nodes { try cluster.redisCLI(["CLUSTER", "SETSLOT", "\(slot)", "NODE", targetID], node: node) }
        #expect(try await redis.get(key).map { String(buffer: $0) } == "before")
        #expect(redis.statistics.snapshot.moved == 1)
        try await redis.set(key, Array("after".utf8))
        #expect(try await redis.get(key).map { String(buffer: $0) } == "after")
        #expect(redis.statistics.snapshot.moved == 1, "the map learned the new owner: no second MOVED")
        await redis.shutdown()
    }

    @Test("a killed primary: commands fail fast (never hang) until its replica is promoted, then succeed with the data")
    func failover() async throws {
        let cluster = try RedisClusterProcess(primaries: 3, replicasPerPrimary: 1)
        let redis = try client(cluster.url)
        let key = "product:7"
        try await redis.set(key, Array("kept".utf8))
        let owner = try #require(try await redis.dataNodes().first { node in
            (try? cluster.redisCLI(["CLUSTER", "COUNTKEYSINSLOT", "\(HashSlot.of(key))"], node: cluster.nodes.first { $0.address == node }!))?
                .trimmingCharacters(in: .whitespacesAndNewlines) == "1"
        })
        let primary = try #require(cluster.nodes.first { $0.address == owner })
        try cluster.waitForReplication()
        cluster.kill(primary)
        let killed = Date()
        var failures = 0
        var recovered: Date?
        var lastError = ""
        while recovered == nil, Date().timeIntervalSince(killed) < 10 {
            let started = Date()
            do {
                #expect(try await redis.get(key).map { String(buffer: $0) } == "kept")
                recovered = Date()
            } catch {
                failures += 1
                lastError = "\(error)"
                #expect(Date().timeIntervalSince(started) < 2.5, "a command waited past its timeout: \(error)")
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        let gap = try #require(recovered, "still failing after 10 s: \(lastError); topology \((try? cluster.redisCLI(["CLUSTER", "SHARDS"], node: cluster.nodes.first { $0.isRunning }!)) ?? "")").timeIntervalSince(killed)
        #expect(gap < Double(cluster.nodeTimeoutMilliseconds) / 1000 + 2, "recovered after \(gap) s")
        #expect(failures > 0, "the kill was noticed")
        #expect(redis.statistics.snapshot.topologyRefreshes >= 2)
        await redis.shutdown()
    }

    @Test("READONLY after a replication-group failover: the client reconnects and the write lands on the new primary within 1 s")
    func readOnlyReconnects() async throws {
        let old = try RedisServerProcess()
        let new = try RedisServerProcess()
        let endpoint = try TCPForwarder(to: old.port)
        defer { endpoint.close() }
        let redis = try client("redis://127.0.0.1:\(endpoint.port)/0")
        try await redis.set("k", Array("v1".utf8))
        // The failover: the old primary becomes a replica, the endpoint's name moves.
        _ = try run("/usr/bin/redis-cli", ["-p", "\(old.port)", "REPLICAOF", "127.0.0.1", "\(new.port)"])
        endpoint.switchTarget(to: new.port)
        let started = Date()
        try await redis.set("k", Array("v2".utf8))
        #expect(Date().timeIntervalSince(started) < 1)
        #expect(redis.statistics.snapshot.readOnlyReconnects >= 1)
        let onNew = try run("/usr/bin/redis-cli", ["-p", "\(new.port)", "GET", "k"]).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(onNew == "v2")
        await redis.shutdown()
    }

    @Test("--redis-mode: cluster on a standalone node is refused; standalone is detected by auto")
    func modeChecks() async throws {
        let single = try RedisServerProcess()
        let auto = try client(single.url)
        #expect(try await auto.isCluster() == false)
        await auto.shutdown()
        let forced = try client(single.url, mode: .cluster)
        await #expect(throws: RedisError.self) { try await forced.checkMode() }
        do {
            try await forced.checkMode()
        } catch let error as RedisError {
            #expect(error.code == .notACluster)
            #expect("\(error)".contains("cluster_enabled:0"))
        }
        await forced.shutdown()
    }

    @Test("reads from replicas: GETs reach the replicas (READONLY), writes the primaries")
    func replicaReads() async throws {
        let cluster = try RedisClusterProcess(primaries: 3, replicasPerPrimary: 1)
        let writer = try client(cluster.url, readFrom: .replica)
        for id in 0..<60 { try await writer.set("product:\(id)", Array("\(id)".utf8)) }
        try cluster.waitForReplication()
        await writer.shutdown()
        // A client that reads its topology now that every replica has synced: one that read it
        // while a replica was still joining sees no replica for that shard until its next refresh.
        let redis = try client(cluster.url, readFrom: .replica)
        for id in 0..<60 { #expect(try await redis.get("product:\(id)").map { String(buffer: $0) } == "\(id)") }
        let replicas = cluster.nodes.filter { (try? cluster.role(of: $0)) == "slave" }
        #expect(replicas.count == 3)
        var replicaHits = 0
        for replica in replicas {
            let info = try cluster.redisCLI(["INFO", "stats"], node: replica)
            let line = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("keyspace_hits:") } ?? ""
            replicaHits += Int(line.dropFirst("keyspace_hits:".count)) ?? 0
        }
        #expect(replicaHits == 60)
        await redis.shutdown()
    }

    @Test("TLS cluster announcing host names: verified with the test CA and an ACL user; a foreign CA is refused without hanging")
    func tlsCluster() async throws {
        let certificates = try TestCertificates()
        let cluster = try RedisClusterProcess(primaries: 3, replicasPerPrimary: 0, tls: certificates, announceHostname: true,
                                              aclUsers: ["app on >app-secret ~* &* +@all"])
        let url = "rediss://app:app-secret@localhost:\(cluster.nodes[0].port)/0?ssl_ca_certs=\(certificates.caFile)"
        let redis = try client(url)
        for id in 0..<30 { try await redis.set("product:\(id)", Array("\(id)".utf8)) }
        for id in 0..<30 { #expect(try await redis.get("product:\(id)").map { String(buffer: $0) } == "\(id)") }
        #expect(try await redis.dataNodes().allSatisfy { $0.hasPrefix("localhost:") }, "connected to the announced names")
        await redis.shutdown()

        let foreign = try TestCertificates()
        let refused = try client("rediss://app:app-secret@localhost:\(cluster.nodes[0].port)/0?ssl_ca_certs=\(foreign.caFile)")
        let started = Date()
        await #expect(throws: RedisError.self) { try await refused.get("product:1") }
        #expect(Date().timeIntervalSince(started) < 3)
        await refused.shutdown()
    }

    @Test("a topology naming unreachable nodes: commands fail within the timeout, the rest of the cluster keeps answering")
    func unreachableNodes() async throws {
        let cluster = try RedisClusterProcess(primaries: 3, replicasPerPrimary: 0, nodeTimeoutMilliseconds: 5000)
        let redis = try client(cluster.url)
        for id in 0..<30 { try await redis.set("product:\(id)", Array("\(id)".utf8)) }
        let dead = cluster.nodes[2]
        cluster.kill(dead)
        var failed = 0, answered = 0
        for id in 0..<30 {
            let started = Date()
            do {
                _ = try await redis.get("product:\(id)")
                answered += 1
            } catch {
                failed += 1
            }
            #expect(Date().timeIntervalSince(started) < 2.5)
        }
        #expect(failed > 0 && answered > 0, "failed \(failed), answered \(answered)")
        await redis.shutdown()
    }
}
