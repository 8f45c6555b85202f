import ArgumentParser
import Foundation
import Server

// Usage mistakes caught before any work is done, as ValidationError (exit 64): output files
// and listen addresses.

/// Files a subcommand writes at the end of a run (`--json`, `--html`): checked before the first
/// request, so a typo in a directory costs a usage error (exit 64), not a whole run.
enum OutputFile {
    /// - Throws: `ValidationError` naming the flag and what is wrong with the path.
    static func checkWritable(_ path: String, flag: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard !isDirectory.boolValue else { throw ValidationError("\(flag) \(path): is a directory; give a file name") }
            guard access(path, W_OK) == 0 else { throw ValidationError("\(flag) \(path): the file exists and cannot be written") }
            return
        }
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("\(flag) \(path): directory \(directory) does not exist (create it first)")
        }
        guard access(directory, W_OK) == 0 else { throw ValidationError("\(flag) \(path): directory \(directory) is not writable") }
    }
}

extension ListenAddress {
    /// `--listen`-style text as an address; a usage error (exit 64) when it is not one.
    static func parse(_ text: String, option: String) throws -> ListenAddress {
        do {
            return try ListenAddress(parsing: text, option: option)
        } catch {
            throw ValidationError(error.description)
        }
    }
}
