#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The open-file limit a run needs: one descriptor per connection, plus the process's own.
///
/// Debian's default soft limit is 1024, so `-c 1000` used to fail part of its connections with
/// `EMFILE` (counted as connect errors). A run raises its soft limit as far as it needs, up to
/// the hard limit, and refuses to start, saying why, when even the hard limit is too low.
package enum OpenFileLimit {
    /// Descriptors beyond the connections: standard streams, event loops, the metrics listener,
    /// result uploads, the target's name lookups.
    static let headroom = 128

    /// Raises the soft limit on open files to what `connections` need, if it is lower.
    /// - Throws: ``LoadRunError`` when the hard limit is lower than that.
    package static func ensure(forConnections connections: Int) throws(LoadRunError) {
        let needed = rlim_t(connections + headroom)
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0, limit.rlim_cur != unlimited, limit.rlim_cur < needed else { return }
        guard limit.rlim_max == unlimited || limit.rlim_max >= needed else {
            throw LoadRunError(
                "\(connections) connections need about \(needed) open files, and this process may open at most \(limit.rlim_max) "
                    + "(the hard limit): raise it (ulimit -Hn \(needed) as root, LimitNOFILE= in a systemd unit, nofile in "
                    + "/etc/security/limits.conf) or use fewer connections")
        }
        limit.rlim_cur = needed
        guard setrlimit(resource, &limit) == 0 else {
            throw LoadRunError("could not raise the open-file limit to \(needed) (errno \(errno)): raise it with ulimit -n \(needed) first")
        }
    }

    /// `RLIM_INFINITY`, which Swift imports as a signed -1.
    private static let unlimited = rlim_t.max

    #if os(Linux)
    private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let resource = RLIMIT_NOFILE
    #endif
}
