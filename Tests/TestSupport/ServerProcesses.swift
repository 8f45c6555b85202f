import Foundation

/// Runs a command to completion and returns its output; throws when it exits non-zero.
///
/// posix_spawn and waitpid rather than Foundation's Process: its `waitUntilExit` was seen to
/// miss the exit of a short-lived child here and wait forever.
@discardableResult
package func run(_ executable: String, _ arguments: [String]) throws -> String {
    // Output goes to a file, not a pipe: a daemon started by the command (pg_ctl start) would
    // inherit the pipe and keep it open, and reading it to the end would never return.
    let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("cacheload-run-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: outputPath) }
    let pid = try spawn(executable, arguments, outputPath: outputPath)
    let status = waitForExit(pid)
    let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    guard status == 0 else {
        throw ProcessFailure(command: ([executable] + arguments).joined(separator: " "), output: text)
    }
    return text
}

/// Starts a command with stdin from /dev/null and stdout/stderr appended to `outputPath`.
package func spawn(_ executable: String, _ arguments: [String], outputPath: String = "/dev/null") throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    // The child starts with no signals blocked and default handlers: a thread of this process
    // may block SIGTERM, and a child inheriting that mask could never be stopped.
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var empty = sigset_t()
    sigemptyset(&empty)
    posix_spawnattr_setsigmask(&attributes, &empty)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE] { sigaddset(&defaults, signal) }
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
    guard result == 0 else {
        throw ProcessFailure(command: executable, output: "posix_spawn failed: \(String(cString: strerror(result)))")
    }
    return pid
}

/// Waits for a child to exit and returns its exit status (128 + signal when killed).
@discardableResult
package func waitForExit(_ pid: pid_t) -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    return exitCode(fromWaitStatus: status)
}

/// Waits up to `seconds` for a child to exit; `nil` when it is still running then (it is then
/// killed with SIGKILL and reaped, so a hung child never outlives the test).
package func waitForExit(_ pid: pid_t, within seconds: Double) -> Int32? {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        switch poll(pid) {
        case .exited(let code): return code
        case .gone: return nil
        case .running: usleep(10_000)
        }
    }
    return killAndReap(pid)
}

/// ``waitForExit(_:within:)`` for async tests: polls with `Task.sleep`, so a test waiting for a
/// child never holds a thread of the cooperative pool that an in-process server needs.
package func exitStatus(of pid: pid_t, within seconds: Double) async -> Int32? {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        switch poll(pid) {
        case .exited(let code): return code
        case .gone: return nil
        case .running: try? await Task.sleep(for: .milliseconds(10))
        }
    }
    return killAndReap(pid)
}

private enum ChildState { case exited(Int32), running, gone }

/// One non-blocking look at a child.
private func poll(_ pid: pid_t) -> ChildState {
    var status: Int32 = 0
    let result = waitpid(pid, &status, WNOHANG)
    if result == pid { return .exited(exitCode(fromWaitStatus: status)) }
    return result == -1 && errno != EINTR ? .gone : .running
}

/// A child past its time: killed (SIGKILL) and reaped; `nil` for "did not exit by itself".
private func killAndReap(_ pid: pid_t) -> Int32? {
    kill(pid, SIGKILL)
    waitForExit(pid)
    return nil
}

/// The exit status, or 128 + the signal that ended the child.
private func exitCode(fromWaitStatus status: Int32) -> Int32 {
    let signal = status & 0x7f
    return signal == 0 ? (status >> 8) & 0xff : 128 + signal
}

/// Runs this build's `cacheload` with `arguments` (and `environment` additions, `NAME=value`) to
/// its end, at most `seconds`; its exit status (`nil` when it had to be killed) and its output.
/// Waits without holding a thread of the cooperative pool: an in-process server the command
/// talks to needs those threads (two on two cores) to answer it. `wrapper` runs it under another
/// command (`prlimit --nofile=…`).
package func runCacheload(_ arguments: [String], environment: [String] = [], wrapper: [String] = [], within seconds: Double = 60) async throws
    -> (status: Int32?, output: String) {
    let log = FileManager.default.temporaryDirectory.appendingPathComponent("cacheload-\(UUID()).log").path
    defer { try? FileManager.default.removeItem(atPath: log) }
    let pid = try spawn("/usr/bin/env", environment + wrapper + [TestServices.cacheloadBinary] + arguments, outputPath: log)
    let status = await exitStatus(of: pid, within: seconds)
    return (status, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
}

/// Kills a child that is still running and reaps it: for `defer` after a spawn, so a test that
/// stops early (a failed `#require`, a thrown error) leaves no process behind. A child already
/// reaped is left alone (`waitpid` answers only for this process's own children).
package func stopIfRunning(_ pid: pid_t) {
    var status: Int32 = 0
    guard waitpid(pid, &status, WNOHANG) == 0 else { return }
    kill(pid, SIGKILL)
    waitForExit(pid)
}

/// The number of threads of a process, from /proc.
package func threadCount(_ pid: pid_t) -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task").count) ?? 0
}

/// Whether `body` finishes within `seconds`, judged by a thread outside Swift's cooperative pool,
/// so the verdict arrives even when `body` is stuck on a lock that blocks pool threads.
package func finishes(within seconds: Double, _ body: @escaping @Sendable () async -> Void) async -> Bool {
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        await body()
        done.signal()
    }
    return await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: done.wait(timeout: .now() + seconds) == .success) }
    }
}

/// A command that exited non-zero.
package struct ProcessFailure: Error, CustomStringConvertible {
    package let command: String
    package let output: String
    package var description: String { "`\(command)` failed: \(output)" }

    package init(command: String, output: String) {
        self.command = command
        self.output = output
    }
}

/// A private redis-server for tests that stop and restart Redis, so the shared one is untouched.
package final class RedisServerProcess: @unchecked Sendable {
    package let port: Int
    package let password: String?
    /// With certificates the server speaks TLS only (as ElastiCache with transit encryption).
    package let tls: TestCertificates?
    /// ACL rules, one `user` directive each (`app on >secret ~* +@all`).
    package let aclUsers: [String]
    private let directory: URL
    private var pid: pid_t?

    /// Starts redis-server on a free port; with `password`, `requirepass` is set.
    package init(password: String? = nil, tls: TestCertificates? = nil, aclUsers: [String] = []) throws {
        port = freeLoopbackPort()
        self.password = password
        self.tls = tls
        self.aclUsers = aclUsers
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cacheload-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try start()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    package var url: String {
        if let tls {
            return "rediss://\(password.map { ":\($0)@" } ?? "")localhost:\(port)/0?ssl_ca_certs=\(tls.caFile)"
        }
        return "redis://\(password.map { ":\($0)@" } ?? "")127.0.0.1:\(port)/0"
    }

    /// Starts (again) on the same port and waits until it answers PING.
    package func start() throws {
        var arguments = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory.path]
        if let tls {
            arguments += ["--port", "0", "--tls-port", "\(port)", "--tls-cert-file", tls.serverCertificateFile,
                          "--tls-key-file", tls.serverKeyFile, "--tls-ca-cert-file", tls.caFile, "--tls-auth-clients", "no"]
        } else {
            arguments += ["--port", "\(port)"]
        }
        if let password { arguments += ["--requirepass", password] }
        // redis-server joins the words after --user back into one directive; one argument would be one word.
        for user in aclUsers { arguments += ["--user"] + user.split(separator: " ").map(String.init) }
        pid = try spawn("/usr/bin/redis-server", arguments)
        try waitUntilAccepting(port: port, seconds: 10)
    }

    /// Freezes the server (SIGSTOP): connections stay open but nothing is answered.
    package func pause() {
        if let pid { kill(pid, SIGSTOP) }
    }

    /// Lets a paused server run again (SIGCONT).
    package func resume() {
        if let pid { kill(pid, SIGCONT) }
    }

    /// Kills the server (SIGKILL: an abrupt outage, as a crash would be) and waits for it to exit.
    package func stop() {
        guard let pid else { return }
        kill(pid, SIGKILL)
        kill(pid, SIGCONT)
        waitForExit(pid)
        self.pid = nil
    }
}

/// A private PostgreSQL cluster for tests that stop and restart the database.
package final class PostgresClusterProcess: @unchecked Sendable {
    package let port: Int
    private let directory: URL
    private let binaries: String

    /// With certificates the server also accepts TLS (`ssl = on`), as RDS does.
    package let tls: TestCertificates?

    /// Creates a cluster with `initdb` (as user `postgres` when running as root) and starts it.
    /// - Parameter passwords: TCP connections must authenticate with a password (scram-sha-256),
    ///   as on RDS; the Unix socket (``socketURL``) stays trusted for setting things up.
    package init(tls: TestCertificates? = nil, passwords: Bool = false) throws {
        port = freeLoopbackPort()
        self.tls = tls
        binaries = TestServices.postgresBinaries
        directory = URL(fileURLWithPath: "/tmp/cacheload-pg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if getuid() == 0 {
            try run("/usr/bin/chown", ["postgres", directory.path])
        }
        let authentication = passwords ? ["--auth-local=trust", "--auth-host=scram-sha-256"] : ["-A", "trust"]
        try asPostgres("\(binaries)/initdb", ["-D", directory.path + "/data", "-U", "postgres", "--no-sync"] + authentication)
        if let tls {
            // PostgreSQL insists that its key belongs to it and is readable by it alone.
            for (source, name) in [(tls.serverCertificateFile, "server.crt"), (tls.serverKeyFile, "server.key")] {
                let owner = getuid() == 0 ? ["-o", "postgres"] : []
                try run("/usr/bin/install", owner + ["-m", "0600", source, directory.path + "/data/" + name])
            }
        }
        try start()
    }

    deinit {
        try? asPostgres("\(binaries)/pg_ctl", ["-D", directory.path + "/data", "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(at: directory)
    }

    package var url: String { "postgresql://postgres@127.0.0.1:\(port)/postgres" }

    /// The superuser over the Unix socket (trusted even when TCP needs passwords).
    package var socketURL: String { "host=\(directory.path) port=\(port) user=postgres dbname=postgres" }

    /// Starts the server and waits until it accepts connections.
    package func start() throws {
        do {
            try asPostgres("\(binaries)/pg_ctl", [
                "-D", directory.path + "/data", "-l", directory.path + "/log", "-w", "start", "-o",
                "-p \(port) -k \(directory.path) -c listen_addresses=127.0.0.1 -c fsync=off" + (tls == nil ? "" : " -c ssl=on"),
            ])
        } catch {
            let log = (try? String(contentsOfFile: directory.path + "/log", encoding: .utf8)) ?? ""
            throw ProcessFailure(command: "pg_ctl start", output: "\(error)\n\(log.suffix(1500))")
        }
    }

    /// Stops the server (fast shutdown: connections are terminated, as in a failover).
    package func stop() throws {
        try asPostgres("\(binaries)/pg_ctl", ["-D", directory.path + "/data", "-m", "fast", "-w", "stop"])
    }

    private func asPostgres(_ executable: String, _ arguments: [String]) throws {
        if getuid() == 0 {
            try run("/usr/sbin/runuser", ["-u", "postgres", "--", executable] + arguments)
        } else {
            try run(executable, arguments)
        }
    }
}

/// Polls until something accepts TCP connections on `port`, or throws after `seconds`.
package func waitUntilAccepting(port: Int, seconds: Double) throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if withLoopbackSocket(port: port, connect) == 0 { return }
        usleep(20_000)
    }
    throw ProcessFailure(command: "connect 127.0.0.1:\(port)", output: "nothing accepted within \(seconds) s")
}

/// A throwaway CA and a server certificate it signed for `localhost` and 127.0.0.1, made with
/// the openssl command line — what a managed service's CA bundle and endpoint certificate are.
package final class TestCertificates: Sendable {
    package let directory: String
    package var caFile: String { directory + "/ca.pem" }
    package var serverCertificateFile: String { directory + "/server.pem" }
    package var serverKeyFile: String { directory + "/server.key" }

    package init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cacheload-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let openssl = "/usr/bin/openssl"
        _ = try run(openssl, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=CacheLoad Test CA",
                              "-keyout", directory + "/ca.key", "-out", caFile])
        _ = try run(openssl, ["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
                              "-keyout", serverKeyFile, "-out", directory + "/server.csr"])
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(toFile: directory + "/san.ext", atomically: true, encoding: .utf8)
        _ = try run(openssl, ["x509", "-req", "-in", directory + "/server.csr", "-CA", caFile, "-CAkey", directory + "/ca.key",
                              "-CAcreateserial", "-days", "2", "-extfile", directory + "/san.ext", "-out", serverCertificateFile])
    }

    deinit {
        try? FileManager.default.removeItem(atPath: directory)
    }
}
