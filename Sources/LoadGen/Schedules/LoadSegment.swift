import Foundation
import Telemetry

/// One machine's part of a run split across several (`--segment 2/3`), k6's execution-segment
/// idea with striping: item *k* of the whole plan (a scheduled request, a connection, a request
/// of `--requests`) belongs to segment `k mod count + 1`. The segments are disjoint, their union
/// is exactly the one-machine plan, and every segment sees the whole run's shape (a ramp of
/// `--stages` is a ramp in each), so merged percentiles describe the run.
package struct LoadSegment: Sendable, Hashable, Codable, CustomStringConvertible {
    /// 1-based.
    package let index: Int
    package let count: Int

    package init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// Parses `I/N` with 1 ≤ I ≤ N.
    package init(parsing text: String) throws(LoadOptionError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count >= 1 else {
            throw LoadOptionError("--segment \"\(text)\": expected I/N, e.g. 2/3 for the second of three machines")
        }
        guard (1...count).contains(index) else {
            throw LoadOptionError("--segment \(text): I must be between 1 and \(count)")
        }
        self.init(index: index, count: count)
    }

    package var description: String { "\(index)/\(count)" }

    /// Whether item `k` (0-based) of the whole plan is this segment's.
    package func owns(_ k: Int) -> Bool { k % count == index - 1 }

    /// How many of items `0..<total` are this segment's.
    package func share(of total: Int) -> Int { total >= index ? (total - index) / count + 1 : 0 }

    /// The whole plan's index of this segment's `m`-th item (0-based).
    package func globalIndex(_ m: Int) -> Int { m * count + index - 1 }
}

/// `--start-at`: when a run begins on the wall clock, so that the machines of a split run start
/// together and their latencies count from one intended schedule.
package enum StartTime {
    /// The furthest ahead a start may be set.
    package static let maximumLead: TimeInterval = 3600

    /// `2026-11-24T10:00:00Z` (ISO 8601, fractional seconds allowed) or `+30s` from `now`.
    /// - Throws: ``LoadOptionError`` for another form, a time in the past, or more than an hour ahead.
    package static func parse(_ text: String, now: Date = Date()) throws(LoadOptionError) -> Date {
        let date: Date
        if text.hasPrefix("+") {
            let lead = try DurationText.parse(String(text.dropFirst()), option: "--start-at")
            date = now.addingTimeInterval(lead / .seconds(1))
        } else {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let plain = ISO8601DateFormatter()
            guard let parsed = formatter.date(from: text) ?? plain.date(from: text) else {
                throw LoadOptionError("--start-at \"\(text)\": expected a UTC time such as 2026-11-24T10:00:00Z, or +30s")
            }
            date = parsed
        }
        guard date > now else {
            throw LoadOptionError("--start-at \(text) is in the past (it is \(plain(now)) here); give a time ahead, or +30s")
        }
        guard date.timeIntervalSince(now) <= maximumLead else {
            throw LoadOptionError("--start-at \(text) is more than an hour ahead (it is \(plain(now)) here)")
        }
        return date
    }

    private static func plain(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    /// Waits until `date` on the wall clock: long sleeps first, then short ones, so the wake-up
    /// is within about a millisecond of it. Returns early when the task is cancelled.
    package static func wait(until date: Date) async {
        while !Task.isCancelled {
            let left = date.timeIntervalSinceNow
            if left <= 0 { return }
            let step = left > 0.05 ? left - 0.02 : min(left, 0.0005)
            try? await Task.sleep(for: .microseconds(Int64(step * 1_000_000)))
        }
    }

    /// What this machine's clock says of its own accuracy (the kernel's NTP state, `adjtimex`):
    /// one line for the log of a split run, whose machines must agree on the time.
    package static func clockReport() -> String {
        // struct timex (sys/timex.h, which Glibc's module map leaves out), LP64 layout: an int
        // `modes` padded to 8, then longs offset, freq, maxerror (24), esterror (32), in µs.
        // A zeroed buffer larger than the struct; modes 0 only reads.
        var buffer = [UInt8](repeating: 0, count: 512)
        let (state, maxError, estimatedError) = buffer.withUnsafeMutableBytes { bytes in
            (kernelAdjtimex(bytes.baseAddress!), bytes.load(fromByteOffset: 24, as: Int.self), bytes.load(fromByteOffset: 32, as: Int.self))
        }
        // TIME_ERROR (5): the kernel's clock is not synchronised to any source.
        guard state >= 0, state != 5 else {
            return "clock: not synchronised (no NTP source: run chrony or systemd-timesyncd); machines may start apart by their clocks' offsets"
        }
        return String(format: "clock: synchronised (kernel NTP state: estimated error ±%.1f ms, maximum ±%.1f ms)",
                      Double(estimatedError) / 1000, Double(maxError) / 1000)
    }
}

/// glibc's `adjtimex(struct timex *)`.
@_silgen_name("adjtimex")
private func kernelAdjtimex(_ state: UnsafeMutableRawPointer) -> Int32
