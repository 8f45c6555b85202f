import Foundation
import Histogram
import Logging
import ServiceLifecycle
import Synchronization

/// Aggregates what the process measures into one datum per metric per flush interval and
/// delivers it with PutMetricData — retried, spooled to disk while CloudWatch is unreachable,
/// and delivered later with the original timestamps. A `Service`: flushes once more on shutdown.
///
/// Metrics: `CacheHits`, `CacheMisses`, `Errors` (Count), `CacheHitRatio` (Percent, from the
/// period's hits and misses), `RequestLatency` (Milliseconds, Values/Counts from an HDR
/// histogram, so that CloudWatch can compute percentiles and a p99 alarm can watch them).
package final class CloudWatchPusher: Service, Sendable {
    package struct Configuration: Sendable {
        package var namespace: String
        /// `Service` and `Environment` first, then any others.
        package var dimensions: [Dimension]
        package var flushInterval: Duration
        /// Store at 1-second resolution (high-resolution custom metrics).
        package var highResolution: Bool
        /// Whether latency samples are kept and sent (as values/counts).
        package var sendsLatency = true
        /// This instance's id: hits and misses are also sent as `…ByInstance` metrics with an
        /// `InstanceId` dimension. The fleet metrics never carry it, so every instance's datums
        /// add up in the one alarm.
        package var instanceID: String?

        package init(namespace: String = "CacheLoad", service: String = "cacheload", environment: String = "dev",
                    extraDimensions: [Dimension] = [], instanceID: String? = nil, flushInterval: Duration = .seconds(60),
                    highResolution: Bool = false) {
            self.namespace = namespace
            self.instanceID = instanceID
            self.dimensions = [Dimension("Service", service), Dimension("Environment", environment)] + extraDimensions
            self.flushInterval = flushInterval
            self.highResolution = highResolution
        }
    }

    /// What one flush did.
    package struct FlushOutcome: Sendable, Equatable {
        package var delivered = 0
        package var spooled = 0
        package var rejected = 0
        package var requests = 0
    }

    /// Names of the metrics, as the alarm and dashboards refer to them.
    package enum Name {
        package static let hits = "CacheHits"
        package static let misses = "CacheMisses"
        package static let hitRatio = "CacheHitRatio"
        package static let latency = "RequestLatency"
        package static let errors = "Errors"
        /// Per-instance copies (with `InstanceId`) of the fleet's counts, sent with an instance id.
        package static let hitsByInstance = "CacheHitsByInstance"
        package static let missesByInstance = "CacheMissesByInstance"
    }

    private struct Period {
        var start = Date()
        var counts: [String: Double] = [:]
        var distributions: [String: Histogram<UInt64>] = [:]
    }

    package let configuration: Configuration
    private let client: CloudWatchClient
    private let spool: MetricSpool
    private let period = Mutex(Period())
    private let sources = Mutex<[@Sendable () -> [String: Double]]>([])
    private let reportedRejections = Mutex<Set<String>>([])
    private let reportedDrops = Mutex(0)
    private let logger: Logger
    private let sent, failed, spooledCounter, dropped, putRequests: Counter?
    private let spoolSize: Gauge?

    package init(configuration: Configuration, client: CloudWatchClient, spool: MetricSpool, registry: MetricsRegistry? = nil,
                logger: Logger = Logger(label: "cacheload.cloudwatch")) {
        self.configuration = configuration
        self.client = client
        self.spool = spool
        self.logger = logger
        sent = registry?.counter("cloudwatch_datums_sent", help: "CloudWatch datums delivered (PutMetricData accepted them).")
        failed = registry?.counter("cloudwatch_datums_failed", help: "CloudWatch datums rejected by CloudWatch (bad credentials or parameters); not retried.")
        spooledCounter = registry?.counter("cloudwatch_datums_spooled", help: "CloudWatch datums written to the on-disk spool while CloudWatch was unreachable.")
        dropped = registry?.counter("cloudwatch_datums_dropped", help: "CloudWatch datums dropped from a full spool or past CloudWatch's two-week window.")
        putRequests = registry?.counter("cloudwatch_put_requests", help: "PutMetricData requests made (each carries up to 1000 datums).")
        spoolSize = registry?.gauge("cloudwatch_spool_datums", help: "CloudWatch datums waiting in the on-disk spool.")
    }

    /// Adds to a Count metric of the current period.
    package func count(_ name: String, _ amount: Double = 1) {
        period.withLock { $0.counts[name, default: 0] += amount }
    }

    /// Adds one sample to a latency metric of the current period (sent as Values/Counts).
    package func observe(_ name: String, milliseconds: Double) {
        guard configuration.sendsLatency else { return }
        let microseconds = UInt64(max(1, min(3_600_000_000, (milliseconds * 1000).rounded())))
        period.withLock { period in
            _ = period.distributions[name, default: CloudWatchDistribution.makeHistogram()].record(microseconds)
        }
    }

    /// Adds a whole histogram of microseconds (a load run's latency) to a latency metric of the current period.
    package func observe(_ name: String, microseconds histogram: Histogram<UInt64>) {
        guard configuration.sendsLatency, histogram.totalCount > 0 else { return }
        period.withLock { period in
            CloudWatchDistribution.add(histogram, to: &period.distributions[name, default: CloudWatchDistribution.makeHistogram()])
        }
    }

    /// Registers a function read at every flush whose result is added to the Count metrics
    /// (for counters kept elsewhere, such as the cache's).
    package func addSource(_ source: @escaping @Sendable () -> [String: Double]) {
        sources.withLock { $0.append(source) }
    }

    /// Flushes every interval until the service group shuts down, then flushes once more.
    package func run() async throws {
        let interval = configuration.flushInterval
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            _ = await flush()
        }
        _ = await flush()
    }

    /// Closes the current period and delivers its datums and any spooled ones.
    @discardableResult
    package func flush() async -> FlushOutcome {
        for source in sources.withLock({ $0 }) {
            for (name, amount) in source() { count(name, amount) }
        }
        let closed = period.withLock { period -> Period in
            defer { period = Period() }
            return period
        }
        return await deliver(makeDatums(closed))
    }

    /// Delivers any spooled datums, oldest first, then `datums` (stamped by the caller); what
    /// cannot be delivered now is spooled. Spooled datums leave the spool file only once
    /// CloudWatch took them (or refused them for good): a crash mid-flush loses none.
    package func deliver(_ datums: [MetricDatum]) async -> FlushOutcome {
        var outcome = FlushOutcome()
        var reachable = true
        while reachable {
            let spooled = spool.oldest(Self.spoolChunk)
            if spooled.isEmpty { break }
            if await send(spooled, into: &outcome) {
                spool.removeFirst(spooled.count)
            } else {
                reachable = false
            }
        }
        if reachable {
            if !(await send(datums, into: &outcome)) { spoolNew(datums, into: &outcome) }
        } else {
            // CloudWatch did not take what was waiting: the new datums wait behind it.
            spoolNew(datums, into: &outcome)
        }
        let droppedSoFar = spool.dropped
        let newlyDropped = reportedDrops.withLock { reported -> Int in
            defer { reported = droppedSoFar }
            return droppedSoFar - reported
        }
        if newlyDropped > 0 { dropped?.increment(by: Int64(newlyDropped)) }
        spoolSize?.set(Double(spool.count))
        return outcome
    }

    /// Spooled datums are delivered this many at a time (one request, as a rule), each chunk
    /// removed from the spool once delivered.
    static let spoolChunk = 500

    /// Sends `datums`, batch by batch. - Returns: `false` when CloudWatch could not be reached
    /// (or throttled, or failed) for a batch: that batch and the rest are not delivered.
    private func send(_ datums: [MetricDatum], into outcome: inout FlushOutcome) async -> Bool {
        for (body, batch) in PutMetricData.bodies(namespace: configuration.namespace, datums: datums) {
            outcome.requests += 1
            putRequests?.increment()
            do {
                try await client.call(body)
                outcome.delivered += batch.count
                sent?.increment(by: Int64(batch.count))
            } catch let error as CloudWatchError where error.isRetryable {
                logger.warning("CloudWatch unavailable; datums kept in the spool for later delivery",
                               metadata: ["datums": "\(datums.count)", "error": "\(error)", "spool": "\(spool.path)"])
                return false
            } catch {
                outcome.rejected += batch.count
                failed?.increment(by: Int64(batch.count))
                let message = "\(error)"
                if reportedRejections.withLock({ $0.insert(message).inserted }) {
                    logger.error("CloudWatch rejected metrics; not retrying (fix the cause, then restart)", metadata: ["error": "\(message)"])
                }
            }
        }
        return true
    }

    private func spoolNew(_ datums: [MetricDatum], into outcome: inout FlushOutcome) {
        guard !datums.isEmpty else { return }
        spool.append(datums)
        outcome.spooled += datums.count
        spooledCounter?.increment(by: Int64(datums.count))
    }

    private func makeDatums(_ period: Period) -> [MetricDatum] {
        let resolution = configuration.highResolution ? 1 : 60
        var datums: [MetricDatum] = []
        for (name, amount) in period.counts.sorted(by: { $0.key < $1.key }) {
            datums.append(MetricDatum(name: name, unit: .count, dimensions: configuration.dimensions, timestamp: period.start,
                                      value: .statistics(.init(amount)), storageResolution: resolution))
        }
        let hits = period.counts[Name.hits] ?? 0
        let misses = period.counts[Name.misses] ?? 0
        if let instanceID = configuration.instanceID {
            for (name, amount) in [(Name.hitsByInstance, hits), (Name.missesByInstance, misses)] {
                datums.append(MetricDatum(name: name, unit: .count, dimensions: configuration.dimensions + [Dimension("InstanceId", instanceID)],
                                          timestamp: period.start, value: .statistics(.init(amount)), storageResolution: resolution))
            }
        }
        if hits + misses > 0 {
            datums.append(MetricDatum(name: Name.hitRatio, unit: .percent, dimensions: configuration.dimensions, timestamp: period.start,
                                      value: .single(100 * hits / (hits + misses)), storageResolution: resolution))
        }
        for (name, histogram) in period.distributions.sorted(by: { $0.key < $1.key }) {
            let distribution = CloudWatchDistribution.values(of: histogram)
            datums.append(MetricDatum(name: name, unit: .milliseconds, dimensions: configuration.dimensions, timestamp: period.start,
                                      value: .distribution(values: distribution.values, counts: distribution.counts),
                                      storageResolution: resolution))
        }
        return datums
    }
}
