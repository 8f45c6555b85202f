#if canImport(Glibc)
import CEpoll  // the socket types, through its <netinet/tcp.h>
import Glibc
#else
import Darwin
#endif
import Foundation

/// The targets' addresses, looked up once before a run starts (as wrk does): a host that does
/// not resolve stops the run with one line naming it, instead of counting every attempt as a
/// connect error.
package enum TargetAddresses {
    /// Each target's TCP addresses in the resolver's order, looked up on a thread of its own (a
    /// lookup may wait on DNS; Swift's cooperative threads are not for waiting).
    /// - Throws: ``LoadRunError`` naming the first host that does not resolve.
    static func resolve(_ targets: [RequestTemplate]) async throws(LoadRunError) -> [[SocketAddressBytes]] {
        let results = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(returning: targets.map { SocketAddressBytes.resolve(host: $0.host, port: $0.port) })
            }
        }
        var addresses: [[SocketAddressBytes]] = []
        for (target, result) in zip(targets, results) {
            switch result {
            case .success(let found): addresses.append(found)
            case .failure(let reason):
                throw LoadRunError("cannot resolve \(target.host) (\(reason.message)): check the host in \(target.url)")
            }
        }
        return addresses
    }
}

/// A resolved socket address, as `connect` takes it.
struct SocketAddressBytes: Sendable {
    let family: Int32
    private let storage: [UInt8]

    /// Why a host did not resolve (`getaddrinfo`'s own words).
    struct LookupFailure: Error {
        let message: String
    }

    /// The host's TCP addresses in the resolver's order (IPv6 first for `localhost` on most
    /// systems).
    static func resolve(host: String, port: Int) -> Result<[SocketAddressBytes], LookupFailure> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0 else { return .failure(LookupFailure(message: String(cString: gai_strerror(status)))) }
        defer { freeaddrinfo(list) }
        var found: [SocketAddressBytes] = []
        var entry = list
        while let current = entry {
            let info = current.pointee
            if let address = info.ai_addr {
                let bytes = UnsafeRawBufferPointer(start: address, count: Int(info.ai_addrlen))
                found.append(SocketAddressBytes(family: info.ai_family, storage: Array(bytes)))
            }
            entry = info.ai_next
        }
        return found.isEmpty ? .failure(LookupFailure(message: "no TCP address")) : .success(found)
    }

    func withSockAddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        storage.withUnsafeBytes { body($0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t($0.count)) }
    }
}
