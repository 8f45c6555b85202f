import Foundation
import NIOCore

/// What one cache value in Redis holds, in an explicit, versioned format.
///
/// - A JSON document (first byte `{` or `[`) without freshness is stored as it is, so other
///   tools — the labs' apps, `redis-cli` — read a cached product as they would their own.
/// - Everything else is framed: `0xCA`, the format version (`1`), a kind byte — `0` a cached
///   "not found", `1` a value, `2` a value with its freshness (fresh-until in Unix milliseconds,
///   8 bytes big-endian, then the load time in milliseconds, 4 bytes) — then the value's bytes.
///
/// Bytes that are neither (another version, another program's data, a truncated frame) are
/// ``unreadable``: the cache treats them as a miss and overwrites them, never as an answer. An
/// S3 object whose content type starts with byte 1 or a value that begins with NUL are framed,
/// so no value can be mistaken for a marker or a header.
package enum CacheEntry: Equatable {
    case notFound
    case value(ByteBuffer, freshness: Freshness?)
    /// Not an entry this version wrote: a miss, to be reloaded and overwritten.
    case unreadable

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

    static let magic = CacheEntryFrame.magic
    static let version = CacheEntryFrame.version
    private enum Kind: UInt8 {
        case notFound = 0, value = 1, valueWithFreshness = 2
    }
    static let frameSize = CacheEntryFrame.frameSize
    static let freshnessSize = CacheEntryFrame.freshnessSize

    /// Reads what Redis returned (the layout is ``CacheEntryFrame``'s).
    package init(_ buffer: ByteBuffer) {
        let frame = buffer.withUnsafeReadableBytes { CacheEntryFrame($0) }
        switch frame?.kind {
        case nil:
            self = .unreadable
        case .notFound?:
            self = .notFound
        case .value(let offset, let freshUntil, let load)?:
            let value = buffer.getSlice(at: buffer.readerIndex + offset, length: buffer.readableBytes - offset)!
            self = .value(value, freshness: freshUntil.map { Freshness(freshUntil: $0, loadMilliseconds: load ?? 0) })
        }
    }

    /// Reads bytes (a test's, a tool's).
    package init(bytes: [UInt8]) {
        self.init(ByteBuffer(bytes: bytes))
    }

    /// The bytes to store for `value` (`nil`: not found), with a freshness header when given.
    package static func encode(_ value: [UInt8]?, freshness: Freshness?) -> [UInt8] {
        guard let value else { return [magic, version, Kind.notFound.rawValue] }
        guard let freshness else {
            if let first = value.first, first == UInt8(ascii: "{") || first == UInt8(ascii: "[") { return value }
            return [magic, version, Kind.value.rawValue] + value
        }
        var bytes: [UInt8] = [magic, version, Kind.valueWithFreshness.rawValue]
        bytes.reserveCapacity(frameSize + freshnessSize + value.count)
        withUnsafeBytes(of: freshness.freshUntil.bigEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(clamping: freshness.loadMilliseconds).bigEndian) { bytes.append(contentsOf: $0) }
        return bytes + value
    }

    /// Unix milliseconds now.
    static func nowMilliseconds() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}
