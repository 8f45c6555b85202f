/// The layout of a cache entry (see ``CacheEntry``), read from raw bytes without NIO: pure, so
/// it is fuzzed on its own (`Fuzz/cache-entry`).
package struct CacheEntryFrame: Equatable, Sendable {
    package enum Kind: Equatable, Sendable {
        case notFound
        /// A value starting at `offset`; `freshUntil`/`loadMilliseconds` when it carries them.
        case value(offset: Int, freshUntil: Int64?, loadMilliseconds: Int?)
    }

    package let kind: Kind

    static let magic: UInt8 = 0xCA
    static let version: UInt8 = 1
    /// Magic, version, kind.
    static let frameSize = 3
    static let freshnessSize = 12

    /// What `bytes` hold; `nil` when they are no entry this version writes.
    package init?(_ bytes: UnsafeRawBufferPointer) {
        guard let first = bytes.first else { return nil }
        if first == UInt8(ascii: "{") || first == UInt8(ascii: "[") {
            kind = .value(offset: 0, freshUntil: nil, loadMilliseconds: nil)
            return
        }
        guard first == Self.magic, bytes.count >= Self.frameSize, bytes[1] == Self.version else { return nil }
        switch bytes[2] {
        case 0 where bytes.count == Self.frameSize:
            kind = .notFound
        case 1:
            kind = .value(offset: Self.frameSize, freshUntil: nil, loadMilliseconds: nil)
        case 2 where bytes.count >= Self.frameSize + Self.freshnessSize:
            var freshUntil: UInt64 = 0
            for index in 0..<8 { freshUntil = freshUntil << 8 | UInt64(bytes[Self.frameSize + index]) }
            var load: UInt32 = 0
            for index in 8..<12 { load = load << 8 | UInt32(bytes[Self.frameSize + index]) }
            kind = .value(offset: Self.frameSize + Self.freshnessSize, freshUntil: Int64(bitPattern: freshUntil), loadMilliseconds: Int(load))
        default:
            return nil
        }
    }
}
