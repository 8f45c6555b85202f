import Foundation

/// A private Redis Cluster of real `redis-server --cluster-enabled yes` processes on loopback,
/// joined by `redis-cli --cluster create`, for tests that kill nodes or move slots — so the
/// shared cluster of `scripts/services` stays untouched.
package final class RedisClusterProcess: @unchecked Sendable {
    /// One node: its client port (the TLS port on a TLS cluster) and its process.
    package final class Node: @unchecked Sendable {
        package let port: Int
        let busPort: Int
        fileprivate(set) var pid: pid_t?
        /// Whether the node's process is running (not killed by the test).
        package var isRunning: Bool { pid != nil }
        init(port: Int, busPort: Int) {
            self.port = port
            self.busPort = busPort
        }
        package var address: String { "127.0.0.1:\(port)" }
    }

    package let nodes: [Node]
    package let tls: TestCertificates?
    /// `cluster-node-timeout`: how long before a silent primary is failed over.
    package let nodeTimeoutMilliseconds: Int
    package let replicasPerPrimary: Int
    private let directory: URL
    private let announceHostname: Bool
    private let aclUsers: [String]

    /// Starts `primaries × (1 + replicasPerPrimary)` nodes and creates the cluster.
    /// - Parameters:
    ///   - tls: TLS only (`tls-cluster yes`: the bus and replication too), as Serverless.
    ///   - announceHostname: nodes announce `localhost` as their endpoint (as Serverless
    ///     announces names), so clients must connect — and send SNI — by name.
    ///   - aclUsers: ACL rules, one `user` directive each, on every node.
    package init(primaries: Int = 3, replicasPerPrimary: Int = 1, tls: TestCertificates? = nil,
                 announceHostname: Bool = false, aclUsers: [String] = [], nodeTimeoutMilliseconds: Int = 1000) throws {
        self.aclUsers = aclUsers
        self.replicasPerPrimary = replicasPerPrimary
        self.tls = tls
        self.announceHostname = announceHostname
        self.nodeTimeoutMilliseconds = nodeTimeoutMilliseconds
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cacheload-cluster-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var ports = Set<Int>()
        nodes = (0..<(primaries * (1 + replicasPerPrimary))).map { _ in
            Node(port: Self.uniquePort(&ports), busPort: Self.uniquePort(&ports))
        }
        for node in nodes { try start(node) }
        try redisCLI(["--cluster", "create"] + nodes.map(\.address) + ["--cluster-replicas", "\(replicasPerPrimary)", "--cluster-yes"])
        try waitUntilHealthy()
    }

    deinit {
        for node in nodes { stop(node) }
        try? FileManager.default.removeItem(at: directory)
    }

    /// A URL naming the first node, as a user would give one node (or a configuration endpoint).
    package var url: String {
        let host = announceHostname ? "localhost" : "127.0.0.1"
        guard let tls else { return "redis://\(host):\(nodes[0].port)/0" }
        return "rediss://\(host):\(nodes[0].port)/0?ssl_ca_certs=\(tls.caFile)"
    }

    /// Starts (again) a node on its ports, with its existing cluster state, and waits for it to accept.
    package func start(_ node: Node) throws {
        // A directory per node: a replica's full sync writes an RDB file there, and nodes
        // sharing one would overwrite each other's.
        let nodeDirectory = directory.appendingPathComponent("\(node.port)")
        try FileManager.default.createDirectory(at: nodeDirectory, withIntermediateDirectories: true)
        var arguments = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", nodeDirectory.path,
                         "--cluster-enabled", "yes", "--cluster-config-file", "nodes-\(node.port).conf",
                         "--cluster-node-timeout", "\(nodeTimeoutMilliseconds)", "--cluster-port", "\(node.busPort)",
                         "--protected-mode", "no"]
        if let tls {
            arguments += ["--port", "0", "--tls-port", "\(node.port)", "--tls-cluster", "yes", "--tls-replication", "yes",
                          "--tls-cert-file", tls.serverCertificateFile, "--tls-key-file", tls.serverKeyFile,
                          "--tls-ca-cert-file", tls.caFile, "--tls-auth-clients", "no"]
        } else {
            arguments += ["--port", "\(node.port)"]
        }
        if announceHostname {
            arguments += ["--cluster-announce-hostname", "localhost", "--cluster-preferred-endpoint-type", "hostname"]
        }
        for user in aclUsers { arguments += ["--user"] + user.split(separator: " ").map(String.init) }
        node.pid = try spawn("/usr/bin/redis-server", arguments, outputPath: nodeDirectory.appendingPathComponent("redis.log").path)
        try waitUntilAccepting(port: node.port, seconds: 10)
    }

    /// SIGKILL: the node is gone at once, as a crashed instance would be.
    package func kill(_ node: Node) {
        stop(node)
    }

    private func stop(_ node: Node) {
        guard let pid = node.pid else { return }
        Foundation.kill(pid, SIGKILL)
        waitForExit(pid)
        node.pid = nil
    }

    /// Runs `redis-cli` (with the TLS options this cluster needs) against `node` (or node 0).
    @discardableResult
    package func redisCLI(_ arguments: [String], node: Node? = nil) throws -> String {
        var options = ["-h", "127.0.0.1", "-p", "\((node ?? nodes[0]).port)"]
        if let tls { options += ["--tls", "--cacert", tls.caFile] }
        return try run("/usr/bin/redis-cli", options + arguments)
    }

    /// The node's role as it says (`master` or `slave`).
    package func role(of node: Node) throws -> String {
        try redisCLI(["ROLE"], node: node).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
    }

    /// The primaries, by asking each node its role.
    package func primaries() throws -> [Node] {
        try nodes.filter { node in
            guard node.pid != nil else { return false }
            return try role(of: node) == "master"
        }
    }

    /// Waits until every primary's replicas have acknowledged its writes (`WAIT`), so a failover
    /// finds a replica with the data.
    package func waitForReplication(seconds: Double = 5) throws {
        for primary in try primaries() {
            let replicas = replicasPerPrimary
            let acknowledged = try redisCLI(["WAIT", "\(replicas)", "\(Int(seconds * 1000))"], node: primary)
            guard Int(acknowledged.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 >= replicas else {
                throw ProcessFailure(command: "WAIT on \(primary.address)", output: "no replica acknowledged within \(seconds) s")
            }
        }
    }

    /// Waits until every running node reports `cluster_state:ok` and all slots assigned.
    package func waitUntilHealthy(seconds: Double = 20) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let healthy = nodes.filter { $0.pid != nil }.allSatisfy { node in
                guard let info = try? redisCLI(["CLUSTER", "INFO"], node: node) else { return false }
                return info.contains("cluster_state:ok") && info.contains("cluster_slots_ok:16384")
            }
            if healthy { return }
            usleep(100_000)
        }
        throw ProcessFailure(command: "cluster health", output: "not every node reported cluster_state:ok within \(seconds) s")
    }

    private static func uniquePort(_ taken: inout Set<Int>) -> Int {
        while true {
            let port = freeLoopbackPort()
            if taken.insert(port).inserted { return port }
        }
    }
}
