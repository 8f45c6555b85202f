import Foundation
import Histogram

// libFuzzer target: the HdrHistogram log's histogram encoding, round trip. The input is a list
// of latencies (5 bytes each) and a precision; they are recorded in a real Histogram, encoded
// as `--hdr-log` writes it (V2, zlib, the compressed cookie), and decoded here from the
// format's description: every bucket's count must come back, and nothing else.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let first = bytes.first else { return 0 }
    let digits: SignificantDigits = [.one, .two, .three][Int(first) % 3]
    var histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: digits)
    var index = 1
    while index + 5 <= bytes.count {
        let value = bytes[index..<index + 5].reduce(UInt64(0)) { $0 << 8 | UInt64($1) } % 3_600_000_000
        _ = histogram.record(max(1, value))
        index += 5
    }
    let layout = HdrEncoding.Layout(histogram)
    var expected: [Int: UInt64] = [:]
    for step in histogram.recordedValues() where step.count > 0 { expected[layout.index(of: step.value), default: 0] += step.count }

    let decoded = decode(HdrEncoding.compressed(histogram))
    precondition(decoded.digits == Int(digits.rawValue), "significant digits \(decoded.digits)")
    precondition(decoded.lowest == 1 && decoded.highest == 3_600_000_000, "range \(decoded.lowest)…\(decoded.highest)")
    precondition(decoded.counts == expected, "counts differ: \(decoded.counts.count) buckets decoded, \(expected.count) recorded")
    return 0
}

/// The compressed V2 form: cookie, length, zlib(cookie, payload length, offset, digits, lowest,
/// highest, ratio, ZigZag LEB128 counts with negative zero-runs).
private func decode(_ compressed: [UInt8]) -> (digits: Int, lowest: UInt64, highest: UInt64, counts: [Int: UInt64]) {
    precondition(word(compressed, 0) == 0x1c84_9314, "compressed cookie")
    precondition(Int(word(compressed, 4)) == compressed.count - 8, "compressed length")
    let plain = try! Zlib.decompress(Array(compressed[8...]), format: .zlib)
    precondition(word(plain, 0) == 0x1c84_9313, "encoding cookie")
    let payloadLength = Int(word(plain, 4))
    precondition(payloadLength == plain.count - 40, "payload length \(payloadLength) of \(plain.count - 40)")
    let lowest = UInt64(word(plain, 16)) << 32 | UInt64(word(plain, 20))
    let highest = UInt64(word(plain, 24)) << 32 | UInt64(word(plain, 28))
    var counts: [Int: UInt64] = [:]
    var position = 40, bucket = 0
    while position < plain.count {
        var raw: UInt64 = 0, shift: UInt64 = 0
        while true {
            let byte = plain[position]
            position += 1
            raw |= UInt64(byte & 0x7f) << shift
            shift += 7
            if byte & 0x80 == 0 { break }
        }
        let value = Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
        if value < 0 {
            bucket += Int(-value)
        } else {
            if value > 0 { counts[bucket] = UInt64(value) }
            bucket += 1
        }
    }
    return (Int(word(plain, 12)), lowest, highest, counts)
}

private func word(_ bytes: [UInt8], _ at: Int) -> UInt32 {
    bytes[at..<at + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
}
