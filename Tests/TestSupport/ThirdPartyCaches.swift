import Foundation

/// Caches and apps none of this project's code wrote, run as the load generator's targets:
/// Debian's nginx (with `proxy_cache`) and Varnish, and a Flask + redis-py cache-aside app of the
/// labs' kind (`scripts/test-apps/labs-app.py`). Each keeps its own files in a private
/// directory and is stopped by its owner's deinit.

/// An nginx configuration whose files all stay in `path`, with `http` inside its `http` block.
private func nginxConfig(in path: String, http: String) -> String {
    """
    worker_processes 1;
    pid \(path)/nginx.pid;
    error_log \(path)/error.log;
    daemon off;
    events { worker_connections 1024; }
    http {
        client_body_temp_path \(path)/client; proxy_temp_path \(path)/proxy;
        fastcgi_temp_path \(path)/fastcgi; uwsgi_temp_path \(path)/uwsgi; scgi_temp_path \(path)/scgi;
    \(http)
    }
    """
}

/// nginx with a small origin (every answer `Cache-Control: max-age=1`) and, in front of it,
/// `proxy_cache` locations stating `$upstream_cache_status` two ways:
///
/// - `/plain/` — `X-Cache-Status` (HIT, MISS, EXPIRED; `/plain/1` is never cached: BYPASS);
/// - `/stale/` — the same with `proxy_cache_use_stale updating` and a background update
///   (STALE and UPDATING answers);
/// - `/rfc/`, `/rfc-stale/` — an RFC 9211 `Cache-Status` built from the same variable (served stale: `hit`
///   with a negative `ttl`; EXPIRED: `fwd=stale`, forwarded);
///
/// and its access log, one `$upstream_cache_status` per answer: what nginx itself counted.
package final class NginxCacheProcess: @unchecked Sendable {
    package let port: Int
    private let directory: URL
    private var pid: pid_t?

    package init() throws {
        port = freeLoopbackPort()
        let origin = freeLoopbackPort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cacheload-nginx-\(UUID().uuidString)")
        // Workers run as nobody: the cache and temporary files must be theirs to write.
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("cache"), withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o777])
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: directory.path)
        let path = directory.path
        let config = nginxConfig(in: path, http: """
                proxy_cache_path \(path)/cache levels=1:2 keys_zone=cacheload:4m inactive=60s;
                log_format outcome '$upstream_cache_status';
                map $upstream_cache_status $rfc_cache_status {
                    HIT "nginx; hit"; STALE "nginx; hit; ttl=-1"; UPDATING "nginx; hit; ttl=-1";
                    REVALIDATED "nginx; fwd=stale; fwd-status=304"; MISS "nginx; fwd=miss"; EXPIRED "nginx; fwd=stale";
                    BYPASS "nginx; fwd=bypass"; default "";
                }
                map $uri $never_cached { ~/1$ 1; default 0; }
                server {
                    listen 127.0.0.1:\(origin);
                    access_log off;
                    location / { add_header Cache-Control "max-age=1"; default_type application/json; return 200 '{"path":"$uri"}'; }
                }
                server {
                    listen 127.0.0.1:\(port);
                    access_log \(path)/access.log outcome;
                    proxy_cache cacheload;
                    proxy_cache_bypass $never_cached;
                    proxy_no_cache $never_cached;
                    location /plain/ { proxy_pass http://127.0.0.1:\(origin); add_header X-Cache-Status $upstream_cache_status always; }
                    location /stale/ {
                        proxy_pass http://127.0.0.1:\(origin);
                        proxy_cache_use_stale updating;
                        proxy_cache_background_update on;
                        add_header X-Cache-Status $upstream_cache_status always;
                    }
                    location /rfc/ { proxy_pass http://127.0.0.1:\(origin); add_header Cache-Status $rfc_cache_status always; }
                    location /rfc-stale/ {
                        proxy_pass http://127.0.0.1:\(origin);
                        proxy_cache_use_stale updating;
                        proxy_cache_background_update on;
                        add_header Cache-Status $rfc_cache_status always;
                    }
                }
            """)
        try config.write(toFile: "\(path)/nginx.conf", atomically: true, encoding: .utf8)
        pid = try spawn("/usr/sbin/nginx", ["-c", "\(path)/nginx.conf", "-p", path], outputPath: "\(path)/stderr.log")
        try waitUntilAccepting(port: port, seconds: 10)
        try waitUntilAccepting(port: origin, seconds: 10)
    }

    deinit {
        if let pid {
            kill(pid, SIGTERM)
            waitForExit(pid)
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// nginx's own count of each `$upstream_cache_status` in its access log so far.
    package func loggedOutcomes() throws -> [String: Int] {
        let log = (try? String(contentsOfFile: directory.appendingPathComponent("access.log").path, encoding: .utf8)) ?? ""
        return log.split(separator: "\n").reduce(into: [:]) { $0[String($1), default: 0] += 1 }
    }
}

/// Debian's Varnish in front of an nginx origin (answers cacheable for 60 s), with its own
/// counters read by `varnishstat`.
package final class VarnishProcess: @unchecked Sendable {
    package let port: Int
    private let origin: Int
    private let directory: URL
    private var varnish: pid_t?
    private var nginx: pid_t?

    package init() throws {
        port = freeLoopbackPort()
        origin = freeLoopbackPort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cacheload-varnish-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let path = directory.path
        let config = nginxConfig(in: path, http: """
                access_log off;
                server {
                    listen 127.0.0.1:\(origin);
                    location / { add_header Cache-Control "max-age=60"; default_type application/json; return 200 '{"path":"$uri"}'; }
                }
            """)
        try config.write(toFile: "\(path)/nginx.conf", atomically: true, encoding: .utf8)
        nginx = try spawn("/usr/sbin/nginx", ["-c", "\(path)/nginx.conf", "-p", path])
        try waitUntilAccepting(port: origin, seconds: 10)
        varnish = try spawn("/usr/sbin/varnishd", ["-F", "-n", "\(path)/varnish", "-a", "127.0.0.1:\(port)", "-b", "127.0.0.1:\(origin)",
                                                   "-s", "malloc,32m", "-p", "default_ttl=60"], outputPath: "\(path)/varnishd.log")
        do {
            try waitUntilAccepting(port: port, seconds: 30)
        } catch {
            throw ProcessFailure(command: "varnishd", output: (try? String(contentsOfFile: "\(path)/varnishd.log", encoding: .utf8)) ?? "")
        }
    }

    deinit {
        for pid in [varnish, nginx].compactMap({ $0 }) {
            kill(pid, SIGTERM)
            waitForExit(pid)
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// A counter of Varnish's main section (`MAIN.cache_hit`, `MAIN.cache_miss`).
    package func counter(_ name: String) throws -> Int {
        let output = try run("/usr/bin/varnishstat", ["-n", "\(directory.path)/varnish", "-1", "-f", name])
        let line = output.split(separator: "\n").first { $0.hasPrefix(name + " ") }
        return line.flatMap { $0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first }.flatMap { Int($0) } ?? 0
    }
}

/// The labs' kind of cache-aside app (`scripts/test-apps/labs-app.py`: Flask, redis-py,
/// psycopg2), answering `{"product": …, "cache_status": "HIT"|"MISS", …}` with no cache header.
package final class LabsAppProcess: @unchecked Sendable {
    package let port: Int
    private var pid: pid_t?
    private let log: String

    package init(redis: String, database: String) throws {
        port = freeLoopbackPort()
        log = FileManager.default.temporaryDirectory.appendingPathComponent("labs-app-\(UUID()).log").path
        let script = TestServices.repositoryRoot.appendingPathComponent("scripts/test-apps/labs-app.py").path
        pid = try spawn("/usr/bin/env", ["python3", script, "--port", "\(port)", "--redis", redis, "--database", database], outputPath: log)
        do {
            try waitUntilAccepting(port: port, seconds: 20)
        } catch {
            throw ProcessFailure(command: "labs-app.py", output: (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
        }
    }

    deinit {
        if let pid {
            kill(pid, SIGTERM)
            waitForExit(pid)
        }
        try? FileManager.default.removeItem(atPath: log)
    }
}

/// Debian's nginx speaking HTTP/2: over TLS (`ssl http2`, ALPN h2 and http/1.1) on ``port`` and
/// with prior knowledge (h2c) on ``clearPort``, each sending `GOAWAY` after `maxRequests`
/// streams on a connection (`keepalive_requests`). `/product/…` answers at once with
/// `X-Cache-Status: HIT`; `/slow/…` goes to a slow origin (`scripts/test-apps/slow-origin.py`)
/// that remembers how many requests it held at once. The access log says, per request, which
/// connection carried it and in which protocol.
package final class NginxHTTP2Process: @unchecked Sendable {
    package let port: Int
    package let clearPort: Int
    package let certificates: TestCertificates
    /// The slow origin (HTTP/1.1 only, no TLS).
    package let originPort: Int
    private let directory: URL
    private var pids: [pid_t] = []

    /// - Parameter bodyWindow: the stream window nginx gives request bodies
    ///   (`http2_body_preread_size`, its SETTINGS_INITIAL_WINDOW_SIZE); nginx's 64 KiB when `nil`.
    package init(maxRequests: Int = 1000, originDelay: Double = 0.2, bodyWindow: Int? = nil) throws {
        port = freeLoopbackPort()
        clearPort = freeLoopbackPort()
        originPort = freeLoopbackPort()
        certificates = try TestCertificates()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cacheload-nginx-h2-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
        let path = directory.path
        let locations = """
                    keepalive_requests \(maxRequests);
                    \(bodyWindow.map { "http2_body_preread_size \($0);" } ?? "")
                    location /product/ { add_header X-Cache-Status HIT; default_type application/json; return 200 '{"path":"$uri"}'; }
                    location /slow/ { proxy_pass http://slow; proxy_http_version 1.1; proxy_set_header Connection ""; }
            """
        let config = nginxConfig(in: path, http: """
                log_format streams '$connection $server_protocol $request_uri';
                access_log \(path)/access.log streams;
                upstream slow { server 127.0.0.1:\(originPort); keepalive 256; }
                server {
                    listen 127.0.0.1:\(port) ssl http2;
                    ssl_certificate \(certificates.serverCertificateFile);
                    ssl_certificate_key \(certificates.serverKeyFile);
            \(locations)
                }
                server {
                    listen 127.0.0.1:\(clearPort) http2;
            \(locations)
                }
            """)
        try config.write(toFile: "\(path)/nginx.conf", atomically: true, encoding: .utf8)
        let script = TestServices.repositoryRoot.appendingPathComponent("scripts/test-apps/slow-origin.py").path
        pids.append(try spawn("/usr/bin/env", ["python3", script, "\(originPort)", "\(originDelay)"], outputPath: "\(path)/origin.log"))
        pids.append(try spawn("/usr/sbin/nginx", ["-c", "\(path)/nginx.conf", "-p", path], outputPath: "\(path)/stderr.log"))
        try waitUntilAccepting(port: originPort, seconds: 10)
        try waitUntilAccepting(port: port, seconds: 10)
        try waitUntilAccepting(port: clearPort, seconds: 10)
    }

    deinit {
        for pid in pids.reversed() {
            kill(pid, SIGTERM)
            waitForExit(pid)
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// One access-log line per request nginx answered: its connection serial, protocol and URI.
    package func requests() -> [(connection: String, protocol: String, uri: String)] {
        let log = (try? String(contentsOfFile: directory.appendingPathComponent("access.log").path, encoding: .utf8)) ?? ""
        return log.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            return fields.count == 3 ? (String(fields[0]), String(fields[1]), String(fields[2])) : nil
        }
    }

    /// The most requests the slow origin held at once since the last call.
    package func originPeak() throws -> Int {
        Int(try run("/usr/bin/curl", ["-sS", "--max-time", "5", "http://127.0.0.1:\(originPort)/in-flight"])) ?? -1
    }
}
