import Foundation
import NIOCore

/// What to send, how fast and for how long.
package struct LoadPlan: Sendable {
    package var template: RequestTemplate
    /// Every target, ``template`` first: connections are spread over them round robin
    /// (`load URL1 URL2 …`, a fleet behind no balancer, or its instances one by one).
    package var targets: [RequestTemplate]
    /// A read/write mix: other templates (say PUT with a body) and their shares of requests;
    /// `template` takes the rest. Empty: every request uses `template`.
    package var mix: [(template: RequestTemplate, share: Double)] = []
    /// Keys substituted for `{key}`.
    package var keys: ClosedRange<Int>
    package var distribution: KeyDistribution
    /// Seed of the key sequence; the same seed repeats the same keys.
    package var seed: UInt64
    /// Keep-alive connections kept open.
    package var connections: Int
    /// Which HTTP the connections speak (`--http`, `--h2c`).
    package var http = HTTPChoice.auto
    /// HTTP/2: requests in flight on each connection at once (`--streams`, h2load's `-m`); 1 for
    /// HTTP/1.1. Each stream is a unit of concurrency, as a connection is for HTTP/1.1.
    package var streams = 1
    /// Requests per second across all connections (open loop); `nil` for closed loop, where each
    /// connection sends its next request as soon as the previous answer arrives.
    package var rate: Double? {
        didSet { schedule = rate.map { RateSchedule(constant: $0) } }
    }
    /// When each request is due in open loop (a constant ``rate`` or stages); `nil` for closed loop.
    package var schedule: RateSchedule?
    /// Stop after this long (after the warm-up)…
    package var duration: Duration?
    /// …or after this many requests, whichever comes first.
    package var requests: Int?
    /// A request unanswered for this long counts as a timeout and its connection is reopened.
    package var timeout: Duration
    /// Statuses that are answers, not failures (`--expect-status`; 100–399 by default).
    package var expectedStatus = ExpectedStatus.default
    /// Where each answer's cache outcome is read (`--cache-status`).
    package var cacheStatus = CacheStatusSource.auto
    /// Sent but not recorded: lets caches, JITs and connection pools settle first.
    package var warmup: Duration
    /// Event loops (threads) driving the connections.
    package var threads: Int
    /// How many of the run's last seconds keep their latency histograms; older seconds are
    /// folded into per-minute histograms (``TimeSeries``). Tests shorten it.
    package var detailedSeconds = TimeSeries.detailedSeconds
    /// TLS for `https://` targets; `nil` for `http://`.
    package var tls: LoadTLS?
    /// This machine's part of a split run; `nil` runs the whole plan. ``connections`` and
    /// ``requests`` are then already this segment's share.
    package var segment: LoadSegment?
    /// When the run begins on the wall clock (`--start-at`); `nil` starts at once.
    package var startAt: Date?
    /// Identifies the whole plan (target, keys, rate, duration, … — not the segment), so results of
    /// different plans are never merged as one run.
    package var planID: String?

    package init(template: RequestTemplate, keys: ClosedRange<Int> = 1...1, distribution: KeyDistribution = .uniform,
                seed: UInt64 = 1, connections: Int = 10, rate: Double? = nil, duration: Duration? = .seconds(10),
                requests: Int? = nil, timeout: Duration = .seconds(5), warmup: Duration = .zero,
                threads: Int = System.coreCount) {
        self.template = template
        self.targets = [template]
        self.keys = keys
        self.distribution = distribution
        self.seed = seed
        self.connections = connections
        self.rate = rate
        self.schedule = rate.map { RateSchedule(constant: $0) }
        self.duration = duration
        self.requests = requests
        self.timeout = timeout
        self.warmup = warmup
        self.threads = max(1, min(threads, connections))
    }
}

extension LoadPlan {
    /// Requests in flight at once in closed loop: every connection's streams. The schedule's
    /// requests are dealt over these, as they are over connections in HTTP/1.1.
    package var concurrency: Int { connections * streams }

    /// Whether connections may speak HTTP/2 (what they do speak, ALPN decides under `auto`):
    /// `--h2c`, or TLS unless `--http 1.1`.
    var mayUseHTTP2: Bool { http == .h2c || (tls != nil && http != .http1) }
}

/// Which HTTP a run speaks.
package enum HTTPChoice: String, Sendable, Equatable {
    /// HTTP/1.1 only (`--http 1.1`).
    case http1 = "1.1"
    /// HTTP/2 over TLS, agreed by ALPN; a server that does not agree fails the run (`--http 2`).
    case http2 = "2"
    /// ALPN over TLS (h2 when the server agrees, else HTTP/1.1); HTTP/1.1 in clear (the default).
    case auto
    /// HTTP/2 in clear with prior knowledge (`--h2c`).
    case h2c

    /// The protocols a TLS connection offers by ALPN, in order of preference.
    package var alpn: [String] {
        switch self {
        case .http1: ["http/1.1"]
        case .http2, .h2c: ["h2"]
        case .auto: ["h2", "http/1.1"]
        }
    }
}

extension Duration {
    /// Whole nanoseconds (saturating, as NIO's `TimeAmount` converts).
    var nanosecondCount: Int64 {
        TimeAmount(self).nanoseconds
    }
}

extension LoadPlan {
    /// What a split or scheduled run says before it starts: its segment, its plan, when it
    /// starts and how far this machine's clock can be trusted; `nil` for a plain run.
    package var startBanner: String? {
        guard segment != nil || startAt != nil else { return nil }
        var parts: [String] = []
        if let segment { parts.append("segment \(segment) of plan \(planID ?? "?"): \(connections) connection\(connections == 1 ? "" : "s")\(requests.map { ", \($0) requests" } ?? "")") }
        if let startAt {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            parts.append(String(format: "starting at %@ (in %.1f s)", formatter.string(from: startAt), startAt.timeIntervalSinceNow))
        }
        return "cacheload load: " + parts.joined(separator: "; ") + "\n" + StartTime.clockReport()
    }
}
