import Foundation

/// Sizes as the command line writes them, one grammar for every option: a number of bytes
/// (`1048576`), or with a binary unit, spelled either way as nginx and most tools read them —
/// `KB`/`KiB`/`K` = 1024 bytes, `MB`/`MiB`/`M`, `GB`/`GiB`/`G` — in any case.
package enum SizeText {
    /// - Throws: ``OptionValueError`` naming the option and what is expected.
    package static func parse(_ text: String, option: String, range: ClosedRange<Int> = 0...(1 << 40)) throws(OptionValueError) -> Int {
        let expected = "\(option) \"\(text)\": expected a size such as 64MiB, 64MB, 512KiB or 1048576 (units are binary: 1KB = 1KiB = 1024 bytes)"
        let upper = text.trimmingCharacters(in: .whitespaces).uppercased()
        let units: [(String, Int)] = [("GIB", 1 << 30), ("GB", 1 << 30), ("G", 1 << 30), ("MIB", 1 << 20), ("MB", 1 << 20), ("M", 1 << 20),
                                      ("KIB", 1 << 10), ("KB", 1 << 10), ("K", 1 << 10), ("B", 1), ("", 1)]
        for (suffix, scale) in units where upper.hasSuffix(suffix) {
            guard let number = Int(upper.dropLast(suffix.count)), number >= 0, number <= Int.max / scale else { break }
            let bytes = number * scale
            guard range.contains(bytes) else {
                throw OptionValueError("\(option) \"\(text)\": expected a size from \(range.lowerBound) to \(range.upperBound) bytes")
            }
            return bytes
        }
        throw OptionValueError(expected)
    }
}
