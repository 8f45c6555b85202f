import Foundation
import Histogram
import Telemetry

/// HdrHistogram's V2 binary encoding: a 40-byte big-endian header, then the counts array as
/// ZigZag LEB128 numbers with runs of empty buckets written as one negative run length — and
/// its compressed form (a second cookie and length, then zlib deflate of the first).
package enum HdrEncoding {
    static let encodingCookie: UInt32 = 0x1c84_9303 | 0x10
    static let compressedCookie: UInt32 = 0x1c84_9304 | 0x10

    /// The compressed V2 encoding.
    package static func compressed(_ histogram: Histogram<UInt64>) -> [UInt8] {
        let deflated = Zlib.compress(encoded(histogram), format: .zlib)
        var bytes: [UInt8] = []
        append(compressedCookie, to: &bytes)
        append(UInt32(deflated.count), to: &bytes)
        return bytes + deflated
    }

    /// The uncompressed V2 encoding.
    package static func encoded(_ histogram: Histogram<UInt64>) -> [UInt8] {
        let layout = Layout(histogram)
        var counts: [UInt64] = []
        for step in histogram.recordedValues() {
            let index = layout.index(of: step.value)
            if counts.count <= index { counts += repeatElement(0, count: index + 1 - counts.count) }
            counts[index] += step.count
        }
        var payload: [UInt8] = []
        var index = 0
        while index < counts.count {
            if counts[index] == 0 {
                var run = 0
                while index < counts.count, counts[index] == 0 { run += 1; index += 1 }
                appendZigZag(run > 1 ? -Int64(run) : 0, to: &payload)
            } else {
                appendZigZag(Int64(counts[index]), to: &payload)
                index += 1
            }
        }
        var bytes: [UInt8] = []
        append(encodingCookie, to: &bytes)
        append(UInt32(payload.count), to: &bytes)
        append(UInt32(0), to: &bytes)  // normalizing index offset
        append(UInt32(layout.significantDigits), to: &bytes)
        append(histogram.lowestDiscernibleValue, to: &bytes)
        append(layout.highestTrackableValue, to: &bytes)
        append(Double(1).bitPattern, to: &bytes)  // integer-to-double conversion ratio
        return bytes + payload
    }

    /// Where a value's count sits in HdrHistogram's counts array (the same arithmetic in every
    /// implementation, which is what makes the encoding portable).
    struct Layout {
        let significantDigits: Int
        let highestTrackableValue: UInt64
        let unitMagnitude: Int
        let subBucketHalfCountMagnitude: Int

        init(_ histogram: Histogram<UInt64>) {
            significantDigits = Int(histogram.numberOfSignificantValueDigits.rawValue)
            highestTrackableValue = histogram.highestTrackableValue
            unitMagnitude = 63 - histogram.lowestDiscernibleValue.leadingZeroBitCount
            var largestSingleUnit: UInt64 = 2
            for _ in 0..<significantDigits { largestSingleUnit *= 10 }
            let subBucketCountMagnitude = Int(ceil(log2(Double(largestSingleUnit))))
            subBucketHalfCountMagnitude = max(subBucketCountMagnitude, 1) - 1
        }

        func index(of value: UInt64) -> Int {
            let subBucketCount = UInt64(1) << (subBucketHalfCountMagnitude + 1)
            let mask = (subBucketCount - 1) << unitMagnitude
            let leadingZeroCountBase = 64 - unitMagnitude - subBucketHalfCountMagnitude - 1
            let bucket = leadingZeroCountBase - (value | mask).leadingZeroBitCount
            let subBucket = Int(value >> UInt64(bucket + unitMagnitude))
            return ((bucket + 1) << subBucketHalfCountMagnitude) + (subBucket - (1 << subBucketHalfCountMagnitude))
        }
    }

    private static func append<Word: FixedWidthInteger>(_ word: Word, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: word.bigEndian) { bytes.append(contentsOf: $0) }
    }

    /// ZigZag then LEB128 (the counts and run lengths here stay far below the 9-byte form's range).
    private static func appendZigZag(_ value: Int64, to bytes: inout [UInt8]) {
        var remaining = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        while remaining >= 0x80 {
            bytes.append(UInt8(remaining & 0x7f) | 0x80)
            remaining >>= 7
        }
        bytes.append(UInt8(remaining))
    }
}
