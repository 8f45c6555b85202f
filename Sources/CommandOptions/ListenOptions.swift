import ArgumentParser
import Server

/// `serve`'s listener: where, which HTTP versions, and how long an idle connection lives.
package struct ListenOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Address to listen on (host:port; port 0 picks a free one).", valueName: "host:port"))
    package var listen: String = "127.0.0.1:8080"

    @Option(help: ArgumentHelp("Serve HTTPS with this PEM certificate chain (needs --tls-key); ALPN offers h2 and http/1.1, so HTTP/2 clients get HTTP/2.", valueName: "file"))
    package var tlsCert: String?

    @Option(help: ArgumentHelp("The PEM private key of --tls-cert.", valueName: "file"))
    package var tlsKey: String?

    @Flag(help: "Serve HTTP/2 in clear with prior knowledge (h2c), instead of HTTP/1.1: clients must open with the HTTP/2 preface (curl --http2-prior-knowledge, cacheload load --h2c).")
    package var h2c = false

    @Option(help: "Seconds a connection may go without a complete request part before it is closed (bounds slowloris clients).")
    package var idleTimeout: Int = 30

    package init() {}

    package func validate() throws {
        guard idleTimeout >= 1 else { throw ValidationError("--idle-timeout must be at least 1 second") }
        _ = try ListenAddress.parse(listen, option: "--listen")
        if (tlsCert == nil) != (tlsKey == nil) {
            throw ValidationError(tlsCert == nil ? "--tls-key needs --tls-cert (the certificate chain it belongs to)" : "--tls-cert needs --tls-key (its private key)")
        }
        if h2c, tlsCert != nil {
            throw ValidationError("--h2c is HTTP/2 in clear; with --tls-cert HTTP/2 is offered over TLS already: give one or the other")
        }
        do {
            _ = try protocols.serverTLSConfiguration()
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// The address, already checked by ``validate()``.
    package var address: ListenAddress {
        get throws { try ListenAddress.parse(listen, option: "--listen") }
    }

    package var protocols: HTTPProtocols {
        if let tlsCert, let tlsKey { return .tls(certificateChain: tlsCert, privateKey: tlsKey) }
        return h2c ? .h2c : .http1
    }
}
