/// An error from the Redis client, typed so callers can tell an outage from a bad command.
package struct RedisError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure. New kinds may be added; switch with a `default`.
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Base: Hashable, Sendable {
            case invalidURL, connectionFailed, connectionClosed, timeout, authenticationFailed
            case server, protocolError, unexpectedReply, clientClosed, tooManyRedirections, notACluster, unresponsive
        }
        let base: Base
        /// The Redis URL is malformed or uses an unsupported scheme.
        package static let invalidURL = Code(base: .invalidURL)
        /// No connection could be opened (refused, unreachable, connect timeout), or the client
        /// is backing off after such a failure.
        package static let connectionFailed = Code(base: .connectionFailed)
        /// The connection closed while the command was in flight.
        package static let connectionClosed = Code(base: .connectionClosed)
        /// No reply within the command timeout.
        package static let timeout = Code(base: .timeout)
        /// `AUTH` was refused: wrong password or user.
        package static let authenticationFailed = Code(base: .authenticationFailed)
        /// Redis answered the command with an error reply.
        package static let server = Code(base: .server)
        /// The bytes from the server were not valid RESP.
        package static let protocolError = Code(base: .protocolError)
        /// The reply had a type the command does not return.
        package static let unexpectedReply = Code(base: .unexpectedReply)
        /// The client was shut down.
        package static let clientClosed = Code(base: .clientClosed)
        /// A cluster kept redirecting one command (more than five `MOVED`/`ASK` in a row).
        package static let tooManyRedirections = Code(base: .tooManyRedirections)
        /// `--redis-mode cluster` was given but the node is not in cluster mode.
        package static let notACluster = Code(base: .notACluster)
        /// The node let several commands in a row time out: commands fail at once until a
        /// background probe gets an answer (``CircuitBreaker``).
        package static let unresponsive = Code(base: .unresponsive)

        package var description: String {
            switch base {
            case .invalidURL: "invalid URL"
            case .connectionFailed: "connection failed"
            case .connectionClosed: "connection closed"
            case .timeout: "timeout"
            case .authenticationFailed: "authentication failed"
            case .server: "server error"
            case .protocolError: "protocol error"
            case .unexpectedReply: "unexpected reply"
            case .clientClosed: "client closed"
            case .tooManyRedirections: "too many redirections"
            case .notACluster: "not a cluster"
            case .unresponsive: "unresponsive"
            }
        }
    }

    /// The kind of failure.
    package let code: Code
    /// What happened, without secrets.
    package let message: String
    /// The node (`host:port`) the command was sent to, when one was: a cluster client's
    /// callers tell one shard's outage from another's by it.
    package var node: String?

    package init(_ code: Code, _ message: String, node: String? = nil) {
        self.code = code
        self.message = message
        self.node = node
    }

    package var description: String {
        var text = "Redis \(code): \(message)"
        switch code.base {
        case .connectionFailed: text += " (check that Redis is running at the URL given by --redis or REDIS_URL)"
        case .authenticationFailed: text += " (check the password in the Redis URL)"
        case .timeout: text += " (Redis is slow or unreachable; the command timeout bounds the wait)"
        case .notACluster: text += " (drop --redis-mode cluster, or point --redis at a node with cluster-enabled yes)"
        default: break
        }
        return text
    }
}
