import NIOSSL
import Telemetry

/// How `https://` targets are spoken to: TLS 1.2 or newer, with SNI, verified against the
/// system's trust store or a CA file — or, for self-signed test targets only, not verified.
package struct LoadTLS: Sendable {
    let context: NIOSSLContext
    /// SNI and the name checked against the certificate; `nil` for an IP address.
    let serverName: String?

    /// - Parameters:
    ///   - caFile: PEM CA certificates to trust (`--cacert`); `nil` trusts the system's store.
    ///   - verify: `false` accepts any certificate (`--insecure`).
    ///   - alpn: the protocols offered by ALPN, preferred first (``HTTPChoice/alpn``).
    /// - Throws: ``LoadOptionError`` when the CA file is missing or holds no certificate.
    package init(host: String, caFile: String?, verify: Bool, alpn: [String] = []) throws(LoadOptionError) {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.applicationProtocols = alpn
        configuration.minimumTLSVersion = .tlsv12
        configuration.certificateVerification = verify ? .fullVerification : .none
        if let caFile {
            let certificates: [NIOSSLCertificate]
            do {
                certificates = try NIOSSLCertificate.fromPEMFile(caFile)
            } catch {
                throw LoadOptionError("--cacert \(caFile): not a readable PEM certificate file (\(error))")
            }
            guard !certificates.isEmpty else { throw LoadOptionError("--cacert \(caFile): no certificate in the file") }
            configuration.trustRoots = .certificates(certificates)
        }
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw LoadOptionError("TLS setup failed: \(error)")
        }
        serverName = Self.serverName(for: host)
    }

    /// SNI and the name checked against the certificate for `host`; `nil` for an IP address.
    static func serverName(for host: String) -> String? {
        isIPAddress(host) ? nil : host
    }

    private static func isIPAddress(_ host: String) -> Bool {
        host.contains(":") || host.split(separator: ".").count == 4 && host.split(separator: ".").allSatisfy { UInt8($0) != nil }
    }
}
