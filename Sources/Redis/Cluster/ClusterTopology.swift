/// One Redis node as the cluster announces it: the name to connect to (and to send as SNI),
/// and the port (the TLS port on a TLS cluster).
package struct ClusterNode: Hashable, Sendable, CustomStringConvertible {
    package var host: String
    package var port: Int

    package init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port`, as in `MOVED` replies and metric labels.
    package var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Parses `host:port` (the last colon splits, so IPv6 addresses work).
    init?(_ text: some StringProtocol) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else { return nil }
        host = String(text[..<colon].filter { $0 != "[" && $0 != "]" })
        self.port = port
    }
}

/// One shard: a primary, its replicas, and the slot ranges it serves.
package struct ClusterShard: Hashable, Sendable {
    package var primary: ClusterNode
    /// Replicas that have not failed.
    package var replicas: [ClusterNode]
    package var slots: [ClosedRange<Int>]
}

/// Which shard serves each of the 16384 slots, as one node reported it.
package struct ClusterTopology: Hashable, Sendable {
    package var shards: [ClusterShard]
    /// Index into ``shards`` per slot; `nil` for a slot no shard serves (a failed primary with
    /// no replica to promote, or a cluster being set up).
    private var owners: [UInt16]

    private static let unowned: UInt16 = .max

    package init(shards: [ClusterShard]) {
        self.shards = shards
        owners = Array(repeating: Self.unowned, count: HashSlot.count)
        for (index, shard) in shards.enumerated() {
            for range in shard.slots {
                for slot in range where slot >= 0 && slot < HashSlot.count { owners[slot] = UInt16(index) }
            }
        }
    }

    /// The shard serving `slot`, if any.
    package func shard(for slot: Int) -> ClusterShard? {
        let index = owners[slot]
        return index == Self.unowned ? nil : shards[Int(index)]
    }

    /// How many slots some shard serves (16384 in a healthy cluster).
    package var coveredSlots: Int { owners.count { $0 != Self.unowned } }

    /// Every primary, in shard order.
    package var primaries: [ClusterNode] { shards.map(\.primary) }

    /// The map after a `MOVED slot node`: the slot now belongs to the shard whose primary is
    /// `node` (a new shard when no known shard has that primary), until the next refresh.
    /// One entry changes (a resharding sends a MOVED per slot; each must stay cheap); the
    /// shards' slot ranges are left as read and are replaced by the refresh the MOVED asks for.
    package func moving(slot: Int, to node: ClusterNode) -> ClusterTopology {
        var moved = self
        if let index = shards.firstIndex(where: { $0.primary == node }) {
            moved.owners[slot] = UInt16(index)
        } else {
            moved.shards.append(ClusterShard(primary: node, replicas: [], slots: [slot...slot]))
            moved.owners[slot] = UInt16(moved.shards.count - 1)
        }
        return moved
    }
}

extension ClusterTopology {
    /// Reads a `CLUSTER SHARDS` reply (Redis 7+): per shard, `slots` as flat start/end pairs and
    /// `nodes` with `role`, `health`, `ip`, `hostname`, `endpoint`, `port`/`tls-port`.
    ///
    /// A node's address is its `endpoint` (what the cluster wants clients to use: the hostname
    /// when `cluster-preferred-endpoint-type hostname`, as ElastiCache Serverless announces),
    /// falling back to `hostname`, then `ip`; the port is `tls-port` when `tls` is set.
    package init(shardsReply reply: RedisReply, tls: Bool) throws {
        guard case .array(let items) = reply else { throw Self.malformed("CLUSTER SHARDS", reply) }
        var shards: [ClusterShard] = []
        for item in items {
            let fields = try Self.fields(item, in: "CLUSTER SHARDS")
            guard case .array(let slotBounds)? = fields["slots"], case .array(let nodes)? = fields["nodes"] else {
                throw Self.malformed("CLUSTER SHARDS", item)
            }
            let bounds = slotBounds.compactMap(\.integerValue)
            var ranges: [ClosedRange<Int>] = []
            for pair in stride(from: 0, to: bounds.count - 1, by: 2) where bounds[pair] <= bounds[pair + 1] {
                ranges.append(bounds[pair]...bounds[pair + 1])
            }
            var primary: ClusterNode?
            var replicas: [ClusterNode] = []
            for node in nodes {
                let info = try Self.fields(node, in: "CLUSTER SHARDS")
                guard let address = Self.address(info, tls: tls) else { continue }
                let health = info["health"]?.text ?? "online"
                if info["role"]?.text == "master" {
                    if health != "failed" { primary = address }
                } else if health != "failed" {
                    // A replica still loading its copy answers LOADING, which is retried.
                    replicas.append(address)
                }
            }
            // A shard whose primary failed and has not been replaced serves nothing yet:
            // leaving its slots unowned makes callers degrade instead of writing to a dead node.
            if let primary, !ranges.isEmpty {
                shards.append(ClusterShard(primary: primary, replicas: replicas, slots: ranges))
            }
        }
        self.init(shards: shards)
    }

    /// Reads a `CLUSTER SLOTS` reply: `[start, end, [host, port, id, {hostname…}], replicas…]`.
    package init(slotsReply reply: RedisReply) throws {
        guard case .array(let items) = reply else { throw Self.malformed("CLUSTER SLOTS", reply) }
        var byPrimary: [ClusterNode: ClusterShard] = [:]
        var order: [ClusterNode] = []
        for item in items {
            guard case .array(let parts) = item, parts.count >= 3,
                  let start = parts[0].integerValue, let end = parts[1].integerValue, start <= end else {
                throw Self.malformed("CLUSTER SLOTS", item)
            }
            let nodes = parts[2...].compactMap(Self.slotsNode)
            guard let primary = nodes.first else { continue }
            if byPrimary[primary] == nil {
                byPrimary[primary] = ClusterShard(primary: primary, replicas: Array(nodes.dropFirst()), slots: [])
                order.append(primary)
            }
            byPrimary[primary]?.slots.append(start...end)
        }
        self.init(shards: order.compactMap { byPrimary[$0] })
    }

    private static func slotsNode(_ reply: RedisReply) -> ClusterNode? {
        guard case .array(let parts) = reply, parts.count >= 2,
              let host = parts[0].text, let port = parts[1].integerValue else { return nil }
        // "?" (or an empty string) means "the address you reached me on": not known here, skip.
        guard !host.isEmpty, host != "?" else { return nil }
        return ClusterNode(host: host, port: port)
    }

    private static func address(_ info: [String: RedisReply], tls: Bool) -> ClusterNode? {
        let candidates = [info["endpoint"]?.text, info["hostname"]?.text, info["ip"]?.text]
        guard let host = candidates.compactMap({ $0 }).first(where: { !$0.isEmpty && $0 != "?" }) else { return nil }
        let port = tls ? (info["tls-port"]?.integerValue ?? info["port"]?.integerValue) : (info["port"]?.integerValue ?? info["tls-port"]?.integerValue)
        return port.map { ClusterNode(host: host, port: $0) }
    }

    /// A RESP2 map (a flat array of name/value pairs) as a dictionary.
    private static func fields(_ reply: RedisReply, in command: String) throws -> [String: RedisReply] {
        guard case .array(let flat) = reply, flat.count % 2 == 0 else { throw malformed(command, reply) }
        var fields: [String: RedisReply] = [:]
        for index in stride(from: 0, to: flat.count, by: 2) {
            if let name = flat[index].text { fields[name] = flat[index + 1] }
        }
        return fields
    }

    private static func malformed(_ command: String, _ reply: RedisReply) -> RedisError {
        RedisError(.unexpectedReply, "\(command) returned \(reply)")
    }
}

extension RedisReply {
    /// The reply as an integer: an integer reply, or a string holding one.
    var integerValue: Int? {
        switch self {
        case .integer(let value): value
        case .string, .status: text.flatMap { Int($0) }
        default: nil
        }
    }
}
