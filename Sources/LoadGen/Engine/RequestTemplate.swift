import Foundation
import NIOCore
import Telemetry

/// A URL template such as `http://127.0.0.1:8080/product/{key}`, parsed once, and the HTTP/1.1
/// requests it produces, formatted ahead of time so the hot path only slices a buffer.
package struct RequestTemplate: Sendable {
    package let host: String
    package let port: Int
    /// `https://` targets: the connection speaks TLS (``LoadPlan/tls``).
    package let isTLS: Bool
    /// The path with `{key}` still in it.
    package let pathTemplate: String
    package let method: String
    package let headers: [(String, String)]
    package let body: [UInt8]?

    /// - Throws: ``LoadOptionError`` for anything but an `http://` or `https://` URL with a host.
    /// The target as a URL (`http://host:port/path/{key}`), as results and reports name it.
    package var url: String { "\(isTLS ? "https" : "http")://\(host):\(port)\(pathTemplate)" }

    package init(url: String, method: String = "GET", headers: [(String, String)] = [], body: [UInt8]? = nil) throws(LoadOptionError) {
        let expected = "expected http[s]://host[:port]/path, with {key} where the key goes (e.g. http://127.0.0.1:8080/product/{key})"
        let lowered = url.lowercased()
        guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://") else {
            throw LoadOptionError("URL \"\(url)\": \(expected)")
        }
        isTLS = lowered.hasPrefix("https://")
        let rest = url.dropFirst(isTLS ? "https://".count : "http://".count)
        let authority = rest.prefix { $0 != "/" }
        let path = rest.dropFirst(authority.count)
        var host = String(authority)
        var port = isTLS ? 443 : 80
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            guard let parsed = Int(authority[authority.index(after: colon)...]), (1...65535).contains(parsed) else {
                throw LoadOptionError("URL \"\(url)\": bad port; \(expected)")
            }
            port = parsed
            host = String(authority[..<colon])
        }
        host = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "@" }) else {
            throw LoadOptionError("URL \"\(url)\": no host; \(expected)")
        }
        guard !path.contains(where: { $0 == " " || $0 == "\r" || $0 == "\n" }) else {
            throw LoadOptionError("URL \"\(url)\": spaces or line breaks in the path; \(expected)")
        }
        guard ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"].contains(method.uppercased()) else {
            throw LoadOptionError("--method \"\(method)\": expected GET, HEAD, POST, PUT, DELETE, PATCH or OPTIONS")
        }
        self.host = host
        self.port = port
        self.pathTemplate = path.isEmpty ? "/" : String(path)
        self.method = method.uppercased()
        self.headers = headers
        self.body = body
    }

    /// Whether the template varies by key.
    package var usesKey: Bool { pathTemplate.contains("{key}") }

    /// The request for one key, as bytes on the wire.
    func format(key: Int, into buffer: inout ByteBuffer) {
        let path = usesKey ? pathTemplate.replacingOccurrences(of: "{key}", with: String(key)) : pathTemplate
        let defaultPort = isTLS ? 443 : 80
        let shownHost = host.contains(":") ? "[\(host)]" : host
        buffer.writeString("\(method) \(path) HTTP/1.1\r\nHost: \(port == defaultPort ? shownHost : "\(shownHost):\(port)")\r\n")
        for (name, value) in headers { buffer.writeString("\(name): \(value)\r\n") }
        if let body {
            buffer.writeString("Content-Length: \(body.count)\r\n\r\n")
            buffer.writeBytes(body)
        } else {
            buffer.writeString("\r\n")
        }
    }
}

/// `--mix get:95,put:5`: which methods, in which proportions.
package enum RequestMix {
    /// Parses `method:weight[,method:weight…]` into shares that sum to 1.
    package static func parse(_ text: String) throws(LoadOptionError) -> [(method: String, share: Double)] {
        let expected = "expected METHOD:WEIGHT[,METHOD:WEIGHT…] with GET, PUT, POST or DELETE, e.g. get:95,put:5"
        var parts: [(String, Double)] = []
        for item in text.split(separator: ",") {
            let pieces = item.split(separator: ":")
            guard pieces.count == 2, let weight = Double(pieces[1]), weight >= 0, weight.isFinite,
                  ["GET", "PUT", "POST", "DELETE"].contains(pieces[0].uppercased()) else {
                throw LoadOptionError("--mix \"\(text)\": \(expected)")
            }
            parts.append((pieces[0].uppercased(), weight))
        }
        let total = parts.reduce(0) { $0 + $1.1 }
        guard total > 0, Set(parts.map(\.0)).count == parts.count else { throw LoadOptionError("--mix \"\(text)\": \(expected)") }
        return parts.map { ($0.0, $0.1 / total) }
    }
}

/// All requests of a key range in one buffer; each request is a zero-copy slice of it.
struct PreformattedRequests {
    private let storage: ByteBuffer
    private let offsets: [Int]
    private let lowerKey: Int

    /// Formats every key of `keys` (the caller keeps the range small enough to hold in memory).
    init(template: RequestTemplate, keys: ClosedRange<Int>) {
        var buffer = ByteBufferAllocator().buffer(capacity: keys.count * 64)
        var offsets: [Int] = [0]
        offsets.reserveCapacity(keys.count + 1)
        for key in keys {
            template.format(key: key, into: &buffer)
            offsets.append(buffer.writerIndex)
        }
        storage = buffer
        self.offsets = offsets
        lowerKey = keys.lowerBound
    }

    func request(for key: Int) -> ByteBuffer {
        let index = key - lowerKey
        return storage.getSlice(at: offsets[index], length: offsets[index + 1] - offsets[index])!
    }
}
