import NIOCore
import NIOPosix
import NIOConcurrencyHelpers

/// Redis' server-assisted client-side caching (Redis 6+), RESP2 style: one connection per data
/// node (each primary of a cluster) that turns tracking on in broadcast mode for the given key
/// prefixes, redirected to itself, and subscribes to `__redis__:invalidate`. Redis then reports
/// every change of a matching key — a write by anyone, an expiry, an eviction — and `FLUSHALL`.
///
/// Broadcast mode needs no tracking on the connections that read: whichever connection read a
/// key, its change is reported here, and a reconnect of a data connection loses nothing.
package final class RedisInvalidationListener: Sendable {
    /// What the listener reports, in order, on an event-loop thread (keep handlers short).
    package enum Event: Sendable, Equatable {
        /// Subscribed on every node: from now on every change is reported.
        case listening
        /// Keys changed, expired or were evicted.
        case invalidated([String])
        /// The whole database was flushed.
        case flushed
        /// A listening connection was lost (or the cluster's primaries changed): changes may
        /// have gone unreported; the listener reconnects by itself.
        case lost(String)
        /// The server refused tracking (managed Redis versions may): the listener stops.
        case refused(String)
    }

    private let client: RedisClient
    private let prefixes: [String]
    private let onEvent: @Sendable (Event) -> Void
    /// How often the cluster's primaries are compared with the nodes listened to.
    private let topologyCheck: Duration

    package init(client: RedisClient, prefixes: [String],
                 topologyCheck: Duration = .seconds(1), onEvent: @escaping @Sendable (Event) -> Void) {
        self.client = client
        self.prefixes = prefixes
        self.topologyCheck = topologyCheck
        self.onEvent = onEvent
    }

    /// Listens until the task is cancelled, reconnecting with backoff after a loss; returns
    /// early when the server refuses tracking.
    package func run() async {
        var failures = 0
        while !Task.isCancelled {
            do {
                let nodes = try await client.dataNodeConfigurations()
                let connections = try await subscribeAll(nodes)
                failures = 0
                onEvent(.listening)
                await waitForLoss(of: connections, nodes: nodes)
                connections.forEach { $0.close() }
            } catch let error as TrackingRefused {
                onEvent(.refused(error.message))
                return
            } catch {
                failures += 1
                onEvent(.lost("cannot listen for invalidations: \(error)"))
                let pause = min(Duration.milliseconds(100) * (1 << min(failures, 5)), .seconds(3))
                try? await Task.sleep(for: pause)
            }
        }
    }

    private struct TrackingRefused: Error {
        var message: String
    }

    private func subscribeAll(_ nodes: [RedisConfiguration]) async throws -> [RedisConnection] {
        var connections: [RedisConnection] = []
        do {
            for node in nodes { connections.append(try await subscribe(node)) }
        } catch {
            connections.forEach { $0.close() }
            throw error
        }
        return connections
    }

    /// `CLIENT ID`, `CLIENT TRACKING on REDIRECT <own id> BCAST PREFIX …`, `SUBSCRIBE`.
    private func subscribe(_ node: RedisConfiguration) async throws -> RedisConnection {
        let onEvent = self.onEvent
        let connection = try await RedisConnection.connect(
            node, tlsContext: client.tlsContext, on: MultiThreadedEventLoopGroup.singleton.next(),
            onMessage: { message in Self.deliver(message, to: onEvent) }
        ).get()
        do {
            let idReply = try await connection.send(.init("CLIENT", "ID")).get()
            guard case .integer(let id) = idReply else {
                throw TrackingRefused(message: "\(node.host):\(node.port) refused CLIENT ID: \(idReply)")
            }
            var tracking = ["CLIENT", "TRACKING", "on", "REDIRECT", String(id), "BCAST"]
            for prefix in prefixes { tracking += ["PREFIX", prefix] }
            if case .error(let message) = try await connection.send(RedisCommand(arguments: tracking.map { Array($0.utf8) })).get() {
                throw TrackingRefused(message: "\(node.host):\(node.port) refused CLIENT TRACKING: \(message)")
            }
            let subscribed = try await connection.send(.init("SUBSCRIBE", "__redis__:invalidate")).get()
            if case .error(let message) = subscribed {
                throw TrackingRefused(message: "\(node.host):\(node.port) refused SUBSCRIBE __redis__:invalidate: \(message)")
            }
            return connection
        } catch {
            connection.close()
            throw error
        }
    }

    /// `["message", "__redis__:invalidate", [keys…] or nil]`.
    private static func deliver(_ message: RedisReply, to onEvent: @Sendable (Event) -> Void) {
        guard case .array(let parts) = message, parts.count == 3, parts[1].text == "__redis__:invalidate" else { return }
        switch parts[2] {
        case .array(let keys): onEvent(.invalidated(keys.compactMap(\.text)))
        default: onEvent(.flushed)
        }
    }

    /// Waits until one connection closes, the nodes to listen to change, or the task is
    /// cancelled; reports the loss once — a close at once, from the close itself, so no copy is
    /// served after changes stopped arriving.
    private func waitForLoss(of connections: [RedisConnection], nodes: [RedisConfiguration]) async {
        let lost = NIOLockedValueBox(false)
        let onEvent = self.onEvent
        let report: @Sendable (String) -> Void = { reason in
            let first = lost.withLockedValue { lost in
                defer { lost = true }
                return !lost
            }
            if first { onEvent(.lost(reason)) }
        }
        for connection in connections {
            connection.channel.closeFuture.whenComplete { _ in report("the invalidation connection closed") }
        }
        let addresses = { (nodes: [RedisConfiguration]) in Set(nodes.map { "\($0.host):\($0.port)" }) }
        let listened = addresses(nodes)
        var sinceCheck = Duration.zero
        while !Task.isCancelled, !lost.withLockedValue({ $0 }) {
            try? await Task.sleep(for: .milliseconds(100))
            sinceCheck += .milliseconds(100)
            guard sinceCheck >= topologyCheck else { continue }
            sinceCheck = .zero
            if let current = try? await client.dataNodeConfigurations(), addresses(current) != listened {
                report("the data nodes changed")
            }
        }
        // Stopping closes the connections: that is no loss to report.
        lost.withLockedValue { $0 = true }
    }
}
