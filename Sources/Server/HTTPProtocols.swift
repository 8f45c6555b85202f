import Foundation
import NIOCore
import NIOSSL

/// Which HTTP versions `serve` speaks on its listener.
package enum HTTPProtocols: Sendable, Equatable {
    /// HTTP/1.1 (and 1.0) in clear: the default.
    case http1
    /// HTTPS from a PEM certificate chain and key; ALPN offers `h2` and `http/1.1`, so a client
    /// that speaks HTTP/2 gets it and any other gets HTTP/1.1 (`--tls-cert`, `--tls-key`).
    case tls(certificateChain: String, privateKey: String)
    /// HTTP/2 in clear with prior knowledge (h2c; `--h2c`): every connection must open with the
    /// HTTP/2 preface — no HTTP/1.1, no `Upgrade: h2c`.
    case h2c

    /// `http` or `https`, for the banner and links.
    package var scheme: String {
        if case .tls = self { return "https" }
        return "http"
    }

    /// What the banner says is spoken.
    package var summary: String {
        switch self {
        case .http1: "HTTP/1.1"
        case .tls: "HTTP/2 and HTTP/1.1 over TLS (ALPN)"
        case .h2c: "HTTP/2 with prior knowledge (h2c)"
        }
    }

    /// The TLS configuration for ``tls(certificateChain:privateKey:)``, read from its files.
    /// - Throws: ``HTTPProtocolsError`` naming the file and what is wrong with it.
    package func serverTLSConfiguration() throws -> TLSConfiguration? {
        guard case .tls(let chainPath, let keyPath) = self else { return nil }
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(chainPath)
        } catch {
            throw HTTPProtocolsError("--tls-cert \(chainPath): \(Self.reason(error, path: chainPath)) (expected a PEM certificate chain)")
        }
        guard !chain.isEmpty else { throw HTTPProtocolsError("--tls-cert \(chainPath): no certificate in the file (expected PEM)") }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        } catch {
            throw HTTPProtocolsError("--tls-key \(keyPath): \(Self.reason(error, path: keyPath)) (expected a PEM private key)")
        }
        return TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
    }

    private static func reason(_ error: any Error, path: String) -> String {
        FileManager.default.isReadableFile(atPath: path) ? "cannot be read as PEM (\(error))" : "no such file, or not readable"
    }
}

/// A certificate or key `serve` cannot use: the flag, the file and why.
package struct HTTPProtocolsError: Error, CustomStringConvertible, Sendable {
    package let description: String
    init(_ description: String) { self.description = description }
}
