import Foundation
import NIOCore

/// What one cache value in Redis holds. Plain values are stored as they are (the JSON of a
/// product, an object's bytes), so other tools read them; a cached "not found" is one NUL byte.
/// With stale-while-revalidate or early refresh on, a value also carries when it stops being
/// fresh and how long its origin load took, in a 13-byte header no JSON or marker starts with:
/// `0x01`, fresh-until (Unix milliseconds, 8 bytes big-endian), load time (milliseconds, 4 bytes).
package enum CacheEntry: Equatable {
    case notFound
    case value(ByteBuffer, freshness: Freshness?)

    /// When a value stops being fresh, and what its load cost (XFetch's delta).
    package struct Freshness: Equatable, Sendable {
        /// Unix milliseconds.
        package var freshUntil: Int64
        package var loadMilliseconds: Int

        package init(freshUntil: Int64, loadMilliseconds: Int) {
            self.freshUntil = freshUntil
            self.loadMilliseconds = loadMilliseconds
        }
    }

    static let notFoundMarker: [UInt8] = [0]
    static let headerTag: UInt8 = 1
    static let headerSize = 13

    /// Reads what Redis returned.
    package init(_ buffer: ByteBuffer) {
        let start = buffer.readerIndex
        guard let first = buffer.getInteger(at: start, as: UInt8.self) else {
            self = .value(buffer, freshness: nil)
            return
        }
        if first == 0, buffer.readableBytes == 1 {
            self = .notFound
        } else if first == Self.headerTag, buffer.readableBytes >= Self.headerSize,
                  let freshUntil = buffer.getInteger(at: start + 1, as: Int64.self),
                  let load = buffer.getInteger(at: start + 9, as: UInt32.self) {
            self = .value(buffer.getSlice(at: start + Self.headerSize, length: buffer.readableBytes - Self.headerSize)!,
                          freshness: Freshness(freshUntil: freshUntil, loadMilliseconds: Int(load)))
        } else {
            self = .value(buffer, freshness: nil)
        }
    }

    /// The bytes to store for `value` (`nil`: not found), with a freshness header when given.
    package static func encode(_ value: [UInt8]?, freshness: Freshness?) -> [UInt8] {
        guard let value else { return notFoundMarker }
        guard let freshness else { return value }
        var bytes: [UInt8] = [headerTag]
        bytes.reserveCapacity(headerSize + value.count)
        withUnsafeBytes(of: freshness.freshUntil.bigEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(clamping: freshness.loadMilliseconds).bigEndian) { bytes.append(contentsOf: $0) }
        return bytes + value
    }

    /// Unix milliseconds now.
    static func nowMilliseconds() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}
