import NIOCore
import NIOHTTP2
import NIOPosix
import NIOSSL
import NIOTLS

/// One HTTP/2 connection group of a ``ChannelTransport``: ``LoadPlan/streams`` slots and the
/// connection their streams share.
struct HTTP2Group {
    /// The connection new streams open on; `nil` while none is ready.
    var current: HTTP2Connection?
    /// A connection is being made (TCP, TLS, the server's SETTINGS).
    var connecting = false
    /// Slots that asked to open, told so when the connection is ready.
    var waiting: [LoopWorker.Slot] = []
    /// Requests waiting for the connection that replaces one the server sent `GOAWAY` on.
    var queued: [(request: ByteBuffer, slot: LoopWorker.Slot)] = []
    /// Connections after `GOAWAY`, finishing the streams the server kept.
    var draining: [HTTP2Connection] = []
}

extension ChannelTransport {
    private func groupIndex(_ slot: LoopWorker.Slot) -> Int { slot.position / plan.streams }

    /// The slots of connection group `index`, in the worker's order.
    private func slots(ofGroup index: Int, in worker: LoopWorker) -> ArraySlice<LoopWorker.Slot> {
        worker.allSlots[(index * plan.streams)..<min(worker.allSlots.count, (index + 1) * plan.streams)]
    }

    /// The slot opens on its group's connection, made first if there is none.
    func openStream(_ slot: LoopWorker.Slot) {
        guard let worker else { return }
        let index = groupIndex(slot)
        if let current = groups[index].current, current.isUsable {
            execute { worker.opened(slot) }
            return
        }
        groups[index].waiting.append(slot)
        connect(group: index)
    }

    /// A request as a new stream, or queued until the group's next connection is ready.
    func sendStream(_ request: ByteBuffer, on slot: LoopWorker.Slot) {
        let index = groupIndex(slot)
        if let current = groups[index].current, current.send(request, on: slot) { return }
        groups[index].queued.append((request, slot))
        connect(group: index)
    }

    /// Gives up the slot's stream (a timeout, the run's end); the worker hears the slot closed
    /// and opens it again on the group's connection, which stays.
    func closeStream(_ slot: LoopWorker.Slot) {
        guard let worker else { return }
        let index = groupIndex(slot)
        groups[index].current?.cancel(slot)
        for connection in groups[index].draining { connection.cancel(slot) }
        groups[index].waiting.removeAll { $0 === slot }
        groups[index].queued.removeAll { $0.slot === slot }
        execute { worker.connectionClosed(slot) }
    }

    /// The run ended: every connection closes.
    func closeAllStreams() {
        for group in groups {
            group.current?.close()
            for connection in group.draining { connection.close() }
        }
    }

    // MARK: Connecting

    private func connect(group index: Int) {
        guard let worker, !groups[index].connecting, let first = slots(ofGroup: index, in: worker).first else { return }
        groups[index].connecting = true
        let target = plan.targets[first.target]
        let bootstrap = bootstrap(for: worker) { [self] channel in
            guard let tls = plan.tls else {
                try speakHTTP2(on: channel, group: index, scheme: "http")  // --h2c: prior knowledge
                return
            }
            let serverName = LoadTLS.serverName(for: target.host)
            try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls.context, serverHostname: serverName))
            try channel.pipeline.syncOperations.addHandler(ProtocolSelection { [self] channel, protocolName in
                try agreed(protocolName, on: channel, group: index)
            } failed: { [self] tls in
                connectionFailed(group: index, tls: tls, reason: nil)
            })
        }
        bootstrap.connect(host: target.host, port: target.port).whenFailure { [self] _ in
            connectionFailed(group: index, tls: false, reason: nil)
        }
    }

    /// ALPN's outcome: h2 → this group speaks HTTP/2; else HTTP/1.1 under `auto` (the group is
    /// one slot then), and a failed run under `--http 2`.
    private func agreed(_ negotiated: String?, on channel: any Channel, group index: Int) throws {
        guard let worker else { return }
        for slot in groups[index].waiting.prefix(1) { worker.tlsHandshakeCompleted(slot) }
        if negotiated == "h2" {
            try speakHTTP2(on: channel, group: index, scheme: "https")
        } else if plan.http == .http2 {
            worker.protocolRefused("--http 2: the target did not agree to HTTP/2 by ALPN (it chose \(negotiated ?? "no protocol")); use --http auto or 1.1")
            channel.close(promise: nil)
        } else {
            groups[index].connecting = false
            let waiting = groups[index].waiting
            groups[index].waiting = []
            guard let slot = waiting.first else { channel.close(promise: nil); return }
            try openedHTTP1(channel, slot)
        }
    }

    private func speakHTTP2(on channel: any Channel, group index: Int, scheme: String) throws {
        guard let worker else { return }
        let events = HTTP2Connection.Events(
            ready: { [self] in ready($0) }, goingAway: { [self] in goingAway($0) }, closed: { [self] in closed($0, orphans: $1) })
        try channel.pipeline.syncOperations.addHandler(NIOHTTP2Handler(mode: .client, initialSettings: HTTP2Connection.settings))
        try channel.pipeline.syncOperations.addHandler(HTTP2Connection(group: index, worker: worker, scheme: scheme, events: events))
    }

    /// No connection came of it: the slots waiting are told (each tries again shortly). The
    /// first contact failing at the protocol ends the run: the target does not speak HTTP/2.
    private func connectionFailed(group index: Int, tls: Bool, reason: String?) {
        guard let worker, groups[index].connecting else { return }
        groups[index].connecting = false
        if let reason, !spokeHTTP2 { worker.protocolRefused(reason) }
        let waiting = groups[index].waiting
        groups[index].waiting = []
        for slot in waiting { worker.openFailed(slot, kind: tls ? .tls : .connect) }
        // Requests queued after a GOAWAY stay until a later attempt (their slots time them out).
    }

    // MARK: Events of a connection

    private func ready(_ connection: HTTP2Connection) {
        guard let worker else { connection.close(); return }
        spokeHTTP2 = true
        let index = connection.group
        groups[index].current = connection
        groups[index].connecting = false
        let waiting = groups[index].waiting
        let queued = groups[index].queued
        groups[index].waiting = []
        groups[index].queued = []
        execute {
            for slot in waiting { worker.opened(slot) }
        }
        for (request, slot) in queued where slot.inFlight { sendStream(request, on: slot) }
    }

    private func goingAway(_ connection: HTTP2Connection) {
        let index = connection.group
        guard groups[index].current === connection else { return }
        groups[index].current = nil
        groups[index].draining.append(connection)  // it closes itself once its last stream ends
        connect(group: index)
    }

    private func closed(_ connection: HTTP2Connection, orphans: [LoopWorker.Slot]) {
        guard let worker else { return }
        let index = connection.group
        if !connection.isReady {
            let reason = plan.http == .h2c
                ? "--h2c: the target did not answer HTTP/2 with prior knowledge (\(connection.failure.map { "\($0)" } ?? "it closed the connection")); drop --h2c to speak HTTP/1.1"
                : "the target agreed to HTTP/2 by ALPN but sent no SETTINGS (\(connection.failure.map { "\($0)" } ?? "it closed the connection"))"
            connectionFailed(group: index, tls: false, reason: reason)
            return
        }
        if let draining = groups[index].draining.firstIndex(where: { $0 === connection }) {
            groups[index].draining.remove(at: draining)
            for slot in orphans { worker.connectionClosed(slot) }
            return
        }
        guard groups[index].current === connection else { return }
        groups[index].current = nil
        // Every open slot of the group was on it: each is closed (its request, if any, lost)
        // and opens again, which makes a new connection.
        groups[index].queued.removeAll()
        for slot in slots(ofGroup: index, in: worker) where slot.isOpen { worker.connectionClosed(slot) }
    }
}

/// Waits for the TLS handshake and hands over what ALPN chose; removes itself after.
final class ProtocolSelection: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let chosen: (any Channel, String?) throws -> Void
    private let failed: (_ tls: Bool) -> Void
    private var decided = false

    init(chosen: @escaping (any Channel, String?) throws -> Void, failed: @escaping (_ tls: Bool) -> Void) {
        self.chosen = chosen
        self.failed = failed
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted(let negotiated) = event as? TLSUserEvent, !decided {
            decided = true
            do {
                try chosen(context.channel, negotiated)
                context.pipeline.syncOperations.removeHandler(self, promise: nil)
            } catch {
                context.close(promise: nil)
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !decided {
            decided = true
            failed(error is NIOSSLError || error is BoringSSLError)
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !decided {
            decided = true
            failed(false)
        }
        context.fireChannelInactive()
    }
}
