import NIOCore
import NIOHPACK
import NIOHTTP2

/// One HTTP/2 connection of a ``ChannelTransport``: the slots of one connection group send
/// their requests on it as streams, and the frames that come back are matched to slots by
/// stream ID. It sits after swift-nio-http2's `NIOHTTP2Handler` (no stream multiplexer: a
/// stream is an ID in a dictionary here, not a child channel — the load generator's cost per
/// request stays a few frames, not a channel pipeline).
///
/// Runs on its channel's event loop, as the worker does.
final class HTTP2Connection: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    /// What the connection tells its ``ChannelTransport``.
    struct Events {
        /// The server's first SETTINGS arrived: streams may open.
        var ready: (HTTP2Connection) -> Void
        /// A `GOAWAY`: no new stream may open here; the group needs another connection.
        var goingAway: (HTTP2Connection) -> Void
        /// The connection closed; `slots` had streams on it that never ended.
        var closed: (HTTP2Connection, [LoopWorker.Slot]) -> Void
    }

    /// Our SETTINGS: no push, and a stream window of 2³¹−1 so no response stalls on our side
    /// (the connection window is opened as far, and topped up, below).
    static let settings: HTTP2Settings = [
        HTTP2Setting(parameter: .enablePush, value: 0),
        HTTP2Setting(parameter: .initialWindowSize, value: Int(Int32.max)),
        HTTP2Setting(parameter: .maxHeaderListSize, value: HPACKDecoder.defaultMaxHeaderListSize),
    ]

    let group: Int
    private let worker: LoopWorker
    private let scheme: String
    private let events: Events
    private var context: ChannelHandlerContext?
    private var nextStreamID = HTTP2StreamID(1)
    /// The header lines of the requests, parsed once (``HTTP2Request/HeaderBlock``).
    private var headerBlock: HTTP2Request.HeaderBlock?
    /// Streams whose response has not ended, by ID.
    private var streams: [HTTP2StreamID: LoopWorker.Slot] = [:]
    /// Streams whose response head arrived (a later HEADERS is trailers).
    private var answered: Set<HTTP2StreamID> = []
    private(set) var isReady = false
    /// What ended the connection, when an error did.
    private(set) var failure: (any Error)?
    /// A `GOAWAY` arrived: the last stream the server will process.
    private(set) var goAwayLastStream: HTTP2StreamID?
    /// The server's stream window for our request bodies (SETTINGS_INITIAL_WINDOW_SIZE).
    private var serverStreamWindow = 65_535
    /// Inside a read: requests written now are flushed together at its end (one TLS record and
    /// one `write` for every request a read's answers set off, as h2load batches).
    private var reading = false
    private var unflushed = false
    /// Response bytes received since the connection window was last topped up.
    private var unacknowledged = 0
    private static let connectionWindowTopUp = 1 << 30

    init(group: Int, worker: LoopWorker, scheme: String, events: Events) {
        self.group = group
        self.worker = worker
        self.scheme = scheme
        self.events = events
    }

    /// Whether a new stream may open here.
    var isUsable: Bool { isReady && goAwayLastStream == nil && context != nil }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    // MARK: Requests out

    /// Opens a stream for the slot's request. `false` when the connection cannot take it.
    func send(_ request: ByteBuffer, on slot: LoopWorker.Slot) -> Bool {
        guard isUsable, let context, let converted = HTTP2Request(http1: request, scheme: scheme, fields: &headerBlock) else { return false }
        let id = nextStreamID
        nextStreamID = HTTP2StreamID(Int(id) + 2)
        streams[id] = slot
        let endsHere = converted.body == nil
        context.write(wrapOutboundOut(HTTP2Frame(streamID: id, payload: .headers(.init(headers: converted.headers, endStream: endsHere)))), promise: nil)
        if let body = converted.body {
            if body.readableBytes > serverStreamWindow { worker.flowControlStalled() }
            context.write(wrapOutboundOut(HTTP2Frame(streamID: id, payload: .data(.init(data: .byteBuffer(body), endStream: true)))), promise: nil)
        }
        if reading { unflushed = true } else { context.flush() }
        return true
    }

    /// Gives up the slot's stream (a timeout): `RST_STREAM CANCEL`, and its frames are ignored.
    func cancel(_ slot: LoopWorker.Slot) {
        guard let id = streams.first(where: { $0.value === slot })?.key else { return }
        streams[id] = nil
        answered.remove(id)
        context?.writeAndFlush(wrapOutboundOut(HTTP2Frame(streamID: id, payload: .rstStream(.cancel))), promise: nil)
        closeIfDrained()
    }

    func close() {
        context?.close(promise: nil)
    }

    // MARK: Frames in

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        reading = true
        let frame = unwrapInboundIn(data)
        if frame.streamID == .rootStream {
            connectionFrame(frame.payload, context: context)
            return
        }
        guard let slot = streams[frame.streamID] else { return }
        switch frame.payload {
        case .headers(let headers):
            if answered.contains(frame.streamID) {
                if headers.endStream { end(frame.streamID, slot) }  // trailers
            } else if head(headers.headers, slot) {
                if headers.endStream { end(frame.streamID, slot) } else { answered.insert(frame.streamID) }
            }
        case .data(let data):
            let length = data.data.readableBytes + (data.paddingBytes ?? 0)
            if case .byteBuffer(let buffer) = data.data {
                buffer.withUnsafeReadableBytes { slot.scanner.bodyBytes($0) }
            }
            acknowledge(length, context: context)
            if data.endStream { end(frame.streamID, slot) }
        default:
            break  // RST_STREAM arrives as a StreamClosedEvent below
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        reading = false
        if unflushed {
            unflushed = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    /// A response head: status and fields into the slot's scanner. `false` for an interim (1xx)
    /// head, which the real one follows.
    private func head(_ headers: HPACKHeaders, _ slot: LoopWorker.Slot) -> Bool {
        guard let status = headers.first(name: ":status").flatMap(Int.init), status >= 200 else { return false }
        slot.scanner.beginFields(status: status)
        for field in headers where !field.name.hasPrefix(":") {
            var name = field.name
            var value = field.value
            name.withUTF8 { name in value.withUTF8 { slot.scanner.field(name: name, value: $0) } }
        }
        slot.scanner.endOfFields()
        return true
    }

    private func end(_ id: HTTP2StreamID, _ slot: LoopWorker.Slot) {
        streams[id] = nil
        answered.remove(id)
        slot.scanner.endOfStream { worker.complete(slot, $0) }
        closeIfDrained()
    }

    private func connectionFrame(_ payload: HTTP2Frame.FramePayload, context: ChannelHandlerContext) {
        switch payload {
        case .settings(.settings(let settings)):
            for setting in settings where setting.parameter == .initialWindowSize { serverStreamWindow = setting.value }
            let maxStreams = settings.first { $0.parameter == .maxConcurrentStreams }?.value
            if !isReady {
                isReady = true
                // Open the connection window as far as the stream windows (it starts at 64 KiB).
                context.writeAndFlush(wrapOutboundOut(HTTP2Frame(streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: Int(Int32.max) - 65_535))), promise: nil)
                worker.http2Opened(maxStreams: maxStreams)
                events.ready(self)
            } else if let maxStreams {
                worker.http2Opened(maxStreams: maxStreams)
            }
        case .goAway(let lastStreamID, _, _):
            let first = goAwayLastStream == nil
            goAwayLastStream = min(lastStreamID, goAwayLastStream ?? lastStreamID)
            if first {
                worker.goAwayReceived()
                events.goingAway(self)
            }
            closeIfDrained()
        default:
            break
        }
    }

    /// Tops the connection window up once a gigabyte of it is used.
    private func acknowledge(_ length: Int, context: ChannelHandlerContext) {
        unacknowledged += length
        guard unacknowledged >= Self.connectionWindowTopUp else { return }
        context.writeAndFlush(wrapOutboundOut(HTTP2Frame(streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: unacknowledged))), promise: nil)
        unacknowledged = 0
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let closed = event as? StreamClosedEvent, let slot = streams.removeValue(forKey: closed.streamID) {
            answered.remove(closed.streamID)
            // Above a GOAWAY's last stream, or REFUSED_STREAM: the server never processed it.
            let refused = closed.reason == .refusedStream || goAwayLastStream.map { closed.streamID > $0 } == true
            if refused { worker.streamRefused(slot) } else { worker.streamReset(slot) }
            closeIfDrained()
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// After a `GOAWAY`, the connection closes once its last stream ended.
    private func closeIfDrained() {
        if goAwayLastStream != nil, streams.isEmpty { close() }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if failure == nil { failure = error }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        let orphans = Array(streams.values)
        streams.removeAll()
        answered.removeAll()
        self.context = nil
        events.closed(self, orphans)
        context.fireChannelInactive()
    }
}
