import CZlib

/// zlib's deflate and inflate in the two framings this suite writes: gzip (request bodies sent
/// with `Content-Encoding: gzip`) and zlib (HdrHistogram's compressed histograms, as Java's
/// `Deflater` writes them).
package enum Zlib {
    package enum Format: Sendable {
        case zlib, gzip

        /// zlib's `windowBits`: 15 for a zlib header, +16 for a gzip one.
        var windowBits: Int32 { self == .zlib ? 15 : 31 }
    }

    /// Inflate found data it cannot read.
    package struct Failure: Error, CustomStringConvertible {
        package let description: String
    }

    /// Compresses `input` in one pass (the inputs here are kilobytes to a megabyte).
    package static func compress(_ input: [UInt8], format: Format, level: Int32 = 6) -> [UInt8] {
        var stream = z_stream()
        guard deflateInit2_(&stream, level, Z_DEFLATED, format.windowBits, 8, Z_DEFAULT_STRATEGY,
                            zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            preconditionFailure("deflateInit2 refused constant parameters")
        }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))))
        var input = input
        let written = input.withUnsafeMutableBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                stream.next_in = source.baseAddress
                stream.avail_in = uInt(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = uInt(target.count)
                // deflateBound is enough for Z_FINISH to complete in one call.
                let status = deflate(&stream, Z_FINISH)
                precondition(status == Z_STREAM_END, "deflate did not finish within deflateBound")
                return target.count - Int(stream.avail_out)
            }
        }
        return Array(output.prefix(written))
    }

    /// Decompresses one complete stream.
    /// - Throws: ``Failure`` when the data is not a complete stream of `format`.
    package static func decompress(_ input: [UInt8], format: Format) throws -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, format.windowBits, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw Failure(description: "inflateInit2 failed")
        }
        defer { inflateEnd(&stream) }
        var input = input
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        let status: Int32 = input.withUnsafeMutableBufferPointer { source in
            stream.next_in = source.baseAddress
            stream.avail_in = uInt(source.count)
            var status = Z_OK
            while status == Z_OK {
                status = chunk.withUnsafeMutableBufferPointer { target in
                    stream.next_out = target.baseAddress
                    stream.avail_out = uInt(target.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                output.append(contentsOf: chunk.prefix(chunk.count - Int(stream.avail_out)))
            }
            return status
        }
        guard status == Z_STREAM_END else {
            throw Failure(description: "not a complete \(format) stream (inflate status \(status))")
        }
        return output
    }
}
