/// The Redis Cluster hash slot of a key: CRC16 (XMODEM) of the key, or of its `{hash tag}`
/// when it has a non-empty one, modulo 16384 — so `{user:1}:cart` and `{user:1}:profile` land
/// on the same node and can be used together in one multi-key command.
package enum HashSlot {
    /// How many slots a cluster has.
    package static let count = 16384

    /// The slot of `key`.
    package static func of(_ key: some Collection<UInt8>) -> Int {
        let bytes = Array(key)
        return Int(crc16(hashed(bytes)) & 0x3FFF)
    }

    /// The slot of a text key.
    package static func of(_ key: String) -> Int { of(key.utf8) }

    /// The part of the key that is hashed: the bytes between the first `{` and the next `}`
    /// when that is not empty, else the whole key (the rule of the cluster specification).
    private static func hashed(_ key: [UInt8]) -> ArraySlice<UInt8> {
        guard let open = key.firstIndex(of: UInt8(ascii: "{")),
              let close = key[(open + 1)...].firstIndex(of: UInt8(ascii: "}")),
              close > open + 1 else { return key[...] }
        return key[(open + 1)..<close]
    }

    private static func crc16(_ bytes: ArraySlice<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc = (crc << 8) ^ table[Int(UInt8(crc >> 8) ^ byte)]
        }
        return crc
    }

    /// CRC16-CCITT (XMODEM, polynomial 0x1021), one entry per byte value.
    private static let table: [UInt16] = (0..<256).map { value in
        var crc = UInt16(value) << 8
        for _ in 0..<8 {
            crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
        }
        return crc
    }
}
