/// How `INFO` of several primaries becomes one answer.
package enum RedisInfo {
    /// Fields that are counts or sizes of the data each primary holds: summed over primaries.
    /// Everything else (versions, roles, rates of one process) is the first node's.
    package static let additiveFields: Set<String> = [
        "keyspace_hits", "keyspace_misses", "expired_keys", "evicted_keys", "total_commands_processed",
        "total_connections_received", "rejected_connections", "connected_clients", "blocked_clients",
        "used_memory", "used_memory_rss", "maxmemory", "instantaneous_ops_per_sec", "total_net_input_bytes",
        "total_net_output_bytes", "keyspace_hits_total", "total_error_replies",
    ]

    /// One answer from several: additive fields summed, the rest from the first.
    package static func summed(_ nodes: [[String: String]]) -> [String: String] {
        guard var result = nodes.first else { return [:] }
        guard nodes.count > 1 else { return result }
        for field in additiveFields where result[field] != nil {
            let values = nodes.compactMap { $0[field].flatMap(Int.init) }
            if values.count == nodes.count { result[field] = String(values.reduce(0, +)) }
        }
        return result
    }
}
