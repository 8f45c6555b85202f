import Foundation
import NIOCore

/// Nothing can listen on the address a subcommand was given: in use, not an address of this
/// machine, or a port below 1024 without the right. The message names the address, in the form
/// `cannot listen on 127.0.0.1:8080: address already in use`.
package struct ListenError: Error, CustomStringConvertible {
    package let description: String

    init(host: String, port: Int, reason: String) {
        let shown = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        description = "cannot listen on \(shown): \(reason)"
    }

    /// Binds `host:port` for a moment, the way the server will (`SO_REUSEADDR`), so a busy port
    /// is reported before anything starts or prints. Port 0 (any free port) always passes.
    /// - Throws: ``ListenError`` naming the address and the reason.
    package static func checkAvailable(host: String, port: Int) throws {
        guard port != 0 else { return }
        let address: SocketAddress
        do {
            address = try SocketAddress.makeAddressResolvingHost(host, port: port)
        } catch {
            throw ListenError(host: host, port: port, reason: "no such address on this machine")
        }
        let descriptor = socket(Int32(address.protocol.rawValue), Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ListenError(host: host, port: port, reason: Self.reason(errno)) }
        defer { close(descriptor) }
        var one: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let result = address.withSockAddr { pointer, size in bind(descriptor, pointer, socklen_t(size)) }
        guard result == 0 else { throw ListenError(host: host, port: port, reason: Self.reason(errno)) }
    }

    /// The error a server's run threw, as a ``ListenError`` when it was a failed bind.
    static func from(_ error: any Error, host: String, port: Int) -> any Error {
        guard let io = error as? IOError, io.errnoCode != 0 else { return error }
        return ListenError(host: host, port: port, reason: reason(io.errnoCode))
    }

    private static func reason(_ code: Int32) -> String {
        String(cString: strerror(code)).lowercased()
    }
}

/// Where a server listens: `host:port`, `[::1]:port`, or `:port` (every address).
package struct ListenAddress: Sendable, Equatable {
    package var host: String
    package var port: Int

    /// - Parameter option: the flag the text came from, for the message.
    /// - Throws: ``ListenAddressError`` saying what form is expected.
    package init(parsing text: String, option: String) throws(ListenAddressError) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ListenAddressError(description: "\(option) \"\(text)\": expected host:port, e.g. 127.0.0.1:8080")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.host = host.isEmpty ? "0.0.0.0" : host
        self.port = port
    }

    /// ``ListenError/checkAvailable(host:port:)`` for this address.
    package func checkAvailable() throws {
        try ListenError.checkAvailable(host: host, port: port)
    }
}

/// Text that is not a listen address.
package struct ListenAddressError: Error, Sendable, CustomStringConvertible {
    package let description: String
}
