import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// One TCP connection to Redis, authenticated and on the configured database.
///
/// Safe to use from any task: writes hop to the channel's event loop, and replies come back in
/// order through ``RedisChannelHandler``.
final class RedisConnection: Sendable {
    let channel: any Channel
    private let commandTimeout: TimeAmount
    /// Commands waiting for the next hop onto the event loop, which writes them all and
    /// flushes once: many concurrent callers cost one task and one syscall, not one each.
    private let outbox = NIOLockedValueBox<(requests: [RedisRequest], hopScheduled: Bool)>(([], false))

    private init(channel: any Channel, commandTimeout: TimeAmount) {
        self.channel = channel
        self.commandTimeout = commandTimeout
    }

    /// Connects (with TLS for `rediss://`), then sends `AUTH` and `SELECT` as the configuration requires.
    /// - Parameter onMessage: receives pub/sub messages, for a connection that will subscribe.
    static func connect(
        _ configuration: RedisConfiguration,
        tlsContext: RedisTLSContext?,
        on eventLoop: any EventLoop,
        onMessage: (@Sendable (RedisReply) -> Void)? = nil
    ) -> EventLoopFuture<RedisConnection> {
        guard let tlsContext else { return connect(configuration, tls: nil, on: eventLoop, onMessage: onMessage) }
        // The TLS context checks and may reload the CA file: file I/O, so on the thread pool,
        // never on the event loop that serves requests.
        return NIOThreadPool.singleton.runIfActive(eventLoop: eventLoop) { try tlsContext.context() }
            .flatMap { context in
                connect(configuration, tls: (context, Self.serverName(configuration.host)), on: eventLoop, onMessage: onMessage)
            }
    }

    private static func connect(
        _ configuration: RedisConfiguration,
        tls: (context: NIOSSLContext, serverName: String?)?,
        on eventLoop: any EventLoop,
        onMessage: (@Sendable (RedisReply) -> Void)?
    ) -> EventLoopFuture<RedisConnection> {
        // With TLS the connection counts as made once the handshake is done: a refused
        // certificate then fails the connect with its reason, instead of surfacing later as an
        // anonymous "I/O on closed channel" on the first command.
        let handshake: EventLoopPromise<Void>? = tls == nil ? nil : eventLoop.makePromise()
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls, let handshake {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls.context, serverHostname: tls.serverName))
                        try channel.pipeline.syncOperations.addHandler(TLSHandshakeWatcher(handshake))
                    }
                    try channel.pipeline.syncOperations.addHandler(RedisChannelHandler(onMessage: onMessage))
                }
            }
        let timeout = TimeAmount(configuration.commandTimeout)
        let failure = { @Sendable (error: any Error) -> RedisError in
            RedisError(.connectionFailed, "cannot connect to \(configuration.host):\(configuration.port): \(error)")
        }
        return bootstrap.connect(host: configuration.host, port: configuration.port)
            .flatMapErrorThrowing { error in
                handshake?.fail(error)
                throw failure(error)
            }
            .flatMap { channel in
                guard let handshake else { return eventLoop.makeSucceededFuture(channel) }
                return handshake.futureResult.map { channel }.flatMapErrorThrowing { error in
                    channel.close(promise: nil)
                    throw failure(error)
                }
            }
            .map { RedisConnection(channel: $0, commandTimeout: timeout) }
            .flatMap { connection in
                connection.handshake(configuration).map { connection }.flatMapError { error in
                    connection.channel.close(promise: nil)
                    return eventLoop.makeFailedFuture(error)
                }
            }
    }

    var isActive: Bool { channel.isActive }

    /// SNI and name checking take a host name; an IP address is checked against the peer's address.
    private static func serverName(_ host: String) -> String? {
        (try? SocketAddress(ipAddress: host, port: 0)) == nil ? host : nil
    }

    /// Sends one command; the future completes with its reply (including `.error` replies).
    func send(_ command: RedisCommand) -> EventLoopFuture<RedisReply> {
        let request = makeRequest(command)
        enqueue { $0.append(request) }
        return request.promise.futureResult
    }

    /// Sends `first` and `second` back to back (no other caller's command between them) and
    /// completes with the reply to `second`; `first`'s reply is not looked at.
    func send(_ first: RedisCommand, then second: RedisCommand) -> EventLoopFuture<RedisReply> {
        let (request1, request2) = (makeRequest(first), makeRequest(second))
        enqueue { $0.append(request1); $0.append(request2) }
        return request2.promise.futureResult
    }

    private func makeRequest(_ command: RedisCommand) -> RedisRequest {
        RedisRequest(command: command, promise: channel.eventLoop.makePromise(of: RedisReply.self), timeout: commandTimeout)
    }

    /// Adds requests to the outbox under its lock; the first addition since the last drain
    /// schedules the hop that writes them.
    private func enqueue(_ add: (inout [RedisRequest]) -> Void) {
        let needsHop = outbox.withLockedValue { outbox -> Bool in
            add(&outbox.requests)
            defer { outbox.hopScheduled = true }
            return !outbox.hopScheduled
        }
        if needsHop {
            channel.eventLoop.execute { self.drainOutbox() }
        }
    }

    private func drainOutbox() {
        let batch = outbox.withLockedValue { outbox -> [RedisRequest] in
            defer { outbox = ([], false) }
            return outbox.requests
        }
        for request in batch {
            channel.write(request).whenFailure { error in
                request.promise.fail(RedisError(.connectionClosed, "cannot send \(request.command.name): \(error)"))
            }
        }
        channel.flush()
    }

    func close() {
        channel.close(promise: nil)
    }

    private func handshake(_ configuration: RedisConfiguration) -> EventLoopFuture<Void> {
        var steps: [(RedisCommand, RedisError.Code)] = []
        if let password = configuration.password {
            steps.append((.auth(user: configuration.user, password: password), .authenticationFailed))
        }
        if configuration.database != 0 {
            steps.append((.select(configuration.database), .server))
        }
        if configuration.readsFromReplica {
            steps.append((.readOnly, .server))
        }
        var future = channel.eventLoop.makeSucceededVoidFuture()
        for (command, code) in steps {
            future = future.flatMap {
                self.send(command).flatMapThrowing { reply in
                    if case .error(let message) = reply {
                        throw RedisError(code, "\(command.name) refused: \(message)")
                    }
                }
            }
        }
        return future
    }
}


/// Completes a promise when the TLS handshake is done, or fails it with the handshake's error
/// (or the channel's end, whichever comes first).
private final class TLSHandshakeWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    private let promise: EventLoopPromise<Void>

    init(_ promise: EventLoopPromise<Void>) {
        self.promise = promise
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent { promise.succeed() }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(RedisError(.connectionClosed, "the connection closed during the TLS handshake"))
        context.fireChannelInactive()
    }
}

/// The TLS context of one client, shared by all its connections and reconnects, so the trust
/// store is loaded once rather than per connection.
///
/// Each connect looks at the CA file again (one `stat`): a file replaced on disk (a rotated CA
/// bundle) is loaded anew, and a file that became unreadable fails the connect — the client then
/// degrades and backs off like for any other connect failure, and recovers when the file is back.
final class RedisTLSContext: Sendable {
    private let settings: RedisConfiguration.TLS
    private let made = NIOLockedValueBox<(context: NIOSSLContext, file: FileIdentity?)?>(nil)

    init(_ settings: RedisConfiguration.TLS) {
        self.settings = settings
    }

    /// The context; a failure (an unreadable CA file, say) is not kept, so the next connect retries.
    func context() throws -> NIOSSLContext {
        let file = try settings.caCertificatesFile.map(FileIdentity.init(readable:))
        if let made = made.withLockedValue({ $0 }), made.file == file { return made.context }
        // Loading certificates reads a file: done outside the lock; two racing connects both
        // load, and either result is right.
        let context = try Self.make(settings)
        made.withLockedValue { $0 = (context, file) }
        return context
    }

    private static func make(_ tls: RedisConfiguration.TLS) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.certificateVerification = tls.verifyCertificate ? .fullVerification : .none
        if let file = tls.caCertificatesFile {
            configuration.trustRoots = .file(file)
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw RedisError(.connectionFailed, "TLS setup failed: \(error)")
        }
    }
}

/// Which file, and which version of it: a change of any field means the file was replaced.
struct FileIdentity: Equatable, Sendable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var modified: Int

    /// - Throws: ``RedisError`` naming the file when it is missing or unreadable.
    init(readable path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0, access(path, R_OK) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw RedisError(.invalidURL, "ssl_ca_certs \(path): no such readable file")
        }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modified = info.st_mtim.tv_sec * 1_000_000_000 + info.st_mtim.tv_nsec
    }
}
