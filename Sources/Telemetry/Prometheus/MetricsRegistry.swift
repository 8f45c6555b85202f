import Prometheus
import Synchronization

/// The Prometheus registry one process exposes on `/metrics`, with the naming rules of the
/// suite: the `cacheload_` prefix, base units, `_total` on counters and HELP on every family.
///
/// Modules register their own families through it; the registry only renders the text.
package final class MetricsRegistry: Sendable {
    /// `Content-Type` of the Prometheus text exposition format 0.0.4.
    package static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// Bucket bounds in seconds for request latency: fine below a millisecond, where cache hits
    /// land, and coarse up to the multi-second origin misses of the slow page.
    package static let latencyBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
        .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
        .seconds(5), .seconds(10), .seconds(30),
    ]

    /// The underlying swift-prometheus registry.
    package let prometheus = PrometheusCollectorRegistry()

    /// Families whose series record without a lock, rendered after swift-prometheus' own.
    private let lockFreeFamilies = Mutex<[LockFreeHistogramFamily]>([])

    package init() {}

    /// A latency histogram `cacheload_<name>_seconds` whose series record without a lock (for
    /// the request path); same text as ``durationHistogram(_:help:labels:buckets:)``.
    package func lockFreeDurationHistogram(_ name: String, help: String, buckets: [Duration] = latencyBuckets) -> LockFreeHistogramFamily {
        let family = LockFreeHistogramFamily(name: "cacheload_\(name)_seconds", help: help, bounds: buckets)
        lockFreeFamilies.withLock { $0.append(family) }
        return family
    }

    /// A counter `cacheload_<name>_total`.
    package func counter(_ name: String, help: String, labels: [(String, String)] = []) -> Counter {
        prometheus.makeCounter(descriptor: descriptor(name, unit: "total", help: help), labels: labels)
    }

    /// A gauge `cacheload_<name>[_<unit>]`.
    package func gauge(_ name: String, unit: String = "", help: String, labels: [(String, String)] = []) -> Gauge {
        prometheus.makeGauge(descriptor: descriptor(name, unit: unit, help: help), labels: labels)
    }

    /// Takes a gauge out of the exposition: a value that is not known is no sample, not a 0.
    package func remove(_ gauge: Gauge) {
        prometheus.unregisterGauge(gauge)
    }

    /// A latency histogram `cacheload_<name>_seconds` with ``latencyBuckets``.
    package func durationHistogram(
        _ name: String, help: String, labels: [(String, String)] = [], buckets: [Duration] = latencyBuckets
    ) -> DurationHistogram {
        prometheus.makeDurationHistogram(descriptor: descriptor(name, unit: "seconds", help: help), labels: labels, buckets: buckets)
    }

    /// The text exposition of every registered family.
    package func exposition() -> [UInt8] {
        var text = ""
        for family in lockFreeFamilies.withLock({ $0 }) { family.render(into: &text) }
        return prometheus.emitToBuffer() + Array(text.utf8)
    }

    private func descriptor(_ name: String, unit: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "cacheload", metricName: name, unitName: unit, helpText: help)
    }
}

@_exported import struct Prometheus.MetricNameDescriptor
@_exported import class Prometheus.Counter
@_exported import class Prometheus.Gauge
@_exported import typealias Prometheus.DurationHistogram
