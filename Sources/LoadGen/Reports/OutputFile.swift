import Foundation

/// Files a run writes at its end (`--json`, `--html`): checked before the first request, so a
/// typo in a directory costs a usage error (exit 64), not a whole run.
package enum OutputFile {
    /// - Throws: ``LoadInputError`` naming the flag and what is wrong with the path (a usage error).
    package static func checkWritable(_ path: String, flag: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard !isDirectory.boolValue else { throw LoadInputError("\(flag) \(path): is a directory; give a file name") }
            guard access(path, W_OK) == 0 else { throw LoadInputError("\(flag) \(path): the file exists and cannot be written") }
            return
        }
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw LoadInputError("\(flag) \(path): directory \(directory) does not exist (create it first)")
        }
        guard access(directory, W_OK) == 0 else { throw LoadInputError("\(flag) \(path): directory \(directory) is not writable") }
        // access() says yes to root everywhere, /proc included: create the file for real (and
        // remove it again), so a path that cannot hold a file fails now, not after the run.
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard descriptor >= 0 else { throw LoadInputError("\(flag) \(path): cannot be created (\(String(cString: strerror(errno))))") }
        close(descriptor)
        unlink(path)
    }

    /// Writes `data` to `path`, or throws an error that names the path and the system's reason.
    package static func write(_ data: Data, to path: String, flag: String) throws(OutputFileError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw OutputFileError("\(flag) \(path): cannot be written (\(String(cString: strerror(errno))))") }
        defer { close(descriptor) }
        var written = 0
        while written < data.count {
            let result = data.withUnsafeBytes { bytes in Glibc.write(descriptor, bytes.baseAddress! + written, bytes.count - written) }
            guard result > 0 else { throw OutputFileError("\(flag) \(path): writing failed (\(String(cString: strerror(errno))))") }
            written += result
        }
    }

    /// Reads `path` whole, or throws an error that names it and the system's reason.
    package static func read(_ path: String) throws(OutputFileError) -> Data {
        guard let data = FileManager.default.contents(atPath: path) else {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            throw OutputFileError("\(path): " + (!exists ? "no such file" : isDirectory.boolValue ? "is a directory" : "cannot be read (permissions?)"))
        }
        return data
    }
}

/// A file that could not be written or read: the path and the reason, in one line.
package struct OutputFileError: Error, CustomStringConvertible, Sendable {
    package let description: String
    init(_ description: String) { self.description = description }
}

/// Input a user gave that cannot be used (a path, a result file): the command's usage error
/// (exit 64), in one line that says what is wrong.
package struct LoadInputError: Error, CustomStringConvertible, Sendable {
    package let description: String
    package init(_ description: String) { self.description = description }
}
