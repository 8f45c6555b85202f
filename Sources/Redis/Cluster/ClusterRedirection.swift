/// What a cluster-related error reply asks the client to do.
package enum ClusterRedirection: Equatable, Sendable {
    /// `MOVED slot host:port`: the slot lives elsewhere for good; update the map, retry there.
    case moved(slot: Int, node: ClusterNode)
    /// `ASK slot host:port`: this one key is being migrated; send `ASKING` and the command to
    /// the target once, the map stays.
    case ask(slot: Int, node: ClusterNode)
    /// `TRYAGAIN` (a multi-key command during a migration), `CLUSTERDOWN` (no quorum, or an
    /// uncovered slot), `LOADING` (a node still reading its data): retry after a pause.
    case retryLater(reason: String)
    /// `READONLY`: a write reached a replica — on a replication group whose primary failed
    /// over, the DNS name now points elsewhere; reconnect.
    case readOnly

    /// Parses an error reply; `nil` for errors that are the command's own (`WRONGTYPE`, `ERR`).
    package init?(errorReply message: String) {
        let words = message.split(separator: " ", maxSplits: 3)
        guard let first = words.first else { return nil }
        switch first {
        case "MOVED", "ASK":
            guard words.count >= 3, let slot = Int(words[1]), let node = ClusterNode(words[2]) else { return nil }
            self = first == "MOVED" ? .moved(slot: slot, node: node) : .ask(slot: slot, node: node)
        case "TRYAGAIN", "CLUSTERDOWN", "LOADING", "MASTERDOWN":
            self = .retryLater(reason: String(first))
        case "READONLY":
            self = .readOnly
        default:
            return nil
        }
    }
}
