import Foundation
import Synchronization

/// Datums that could not be delivered yet, kept on disk (one JSON document per line) so an
/// outage or a restart loses nothing. Bounded: past `capacity` the oldest are dropped — and
/// counted. Datums older than CloudWatch's two-week window are dropped when read back.
package final class MetricSpool: Sendable {
    package let path: String
    package let capacity: Int
    private let lock = Mutex(0)  // dropped so far

    /// - Parameters:
    ///   - path: the spool file (its directory is created).
    ///   - capacity: most datums kept.
    package init(path: String, capacity: Int = 100_000) {
        self.path = path
        self.capacity = max(1, capacity)
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    }

    /// Datums dropped because the spool was full or they grew too old.
    package var dropped: Int { lock.withLock { $0 } }

    /// Datums waiting in the spool.
    package var count: Int { lock.withLock { _ in readAll().count } }

    /// Appends datums, dropping the oldest beyond capacity.
    package func append(_ datums: [MetricDatum]) {
        guard !datums.isEmpty else { return }
        lock.withLock { dropped in
            var all = readAll()
            all.append(contentsOf: datums)
            if all.count > capacity {
                dropped += all.count - capacity
                all.removeFirst(all.count - capacity)
            }
            write(all)
        }
    }

    /// The oldest `limit` spooled datums, left in the spool: the caller removes them with
    /// ``removeFirst(_:)`` once CloudWatch took them, so a crash mid-delivery loses nothing
    /// (it sends them again). Datums past CloudWatch's two-week window are dropped here.
    package func oldest(_ limit: Int) -> [MetricDatum] {
        lock.withLock { dropped in
            let all = readAll()
            let horizon = Date().addingTimeInterval(-14 * 24 * 3600 + 600)
            let fresh = all.filter { $0.timestamp > horizon }
            if fresh.count < all.count {
                dropped += all.count - fresh.count
                write(fresh)
            }
            return Array(fresh.prefix(limit))
        }
    }

    /// Removes the oldest `count` datums (delivered, or refused for good).
    package func removeFirst(_ count: Int) {
        guard count > 0 else { return }
        lock.withLock { _ in
            let all = readAll()
            write(Array(all.dropFirst(count)))
        }
    }

    private func readAll() -> [MetricDatum] {
        guard let data = FileManager.default.contents(atPath: path), !data.isEmpty else { return [] }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return data.split(separator: UInt8(ascii: "\n")).compactMap { try? decoder.decode(MetricDatum.self, from: Data($0)) }
    }

    private func write(_ datums: [MetricDatum]) {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        var data = Data()
        for datum in datums {
            if let line = try? encoder.encode(datum) {
                data.append(line)
                data.append(UInt8(ascii: "\n"))
            }
        }
        // Write then rename: a crash mid-write leaves the previous spool intact.
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data) else { return }
        _ = rename(temporary, path)
    }
}
