import AWS
import Foundation
import HTTPCurl
import LoadGen
import Telemetry
import Testing
import TestSupport

/// Long-running promises: nothing leaks under 1000 connections, and a CloudWatch outage loses
/// no datum. `make test` runs them for a few seconds; `make soak` sets CACHELOAD_SOAK_SECONDS=60.
@Suite("Soak: 1000 connections, and CloudWatch away for the whole run", .serialized)
struct SoakTests {
    static let seconds = Int(ProcessInfo.processInfo.environment["CACHELOAD_SOAK_SECONDS"] ?? "") ?? 5
    static let binary = TestServices.cacheloadBinary

    /// A `cacheload serve` process on its own Redis and a fresh database.
    final class ServeProcess: Sendable {
        let pid: pid_t
        let port: Int
        let log: String
        let redis: RedisServerProcess
        let database: (name: String, url: String)

        init(extraEnvironment: [String] = [], arguments: [String] = []) async throws {
            redis = try RedisServerProcess()
            database = try await TestDatabase.create(products: 1005)
            port = freeLoopbackPort()
            log = FileManager.default.temporaryDirectory.appendingPathComponent("soak-serve-\(UUID()).log").path
            pid = try spawn("/usr/bin/env", ["REDIS_URL=\(redis.url)", "DATABASE_URL=\(database.url)"] + extraEnvironment
                + [SoakTests.binary, "serve", "--listen", "127.0.0.1:\(port)", "--log-level", "warning"] + arguments, outputPath: log)
            try waitUntilAccepting(port: port, seconds: 20)
        }

        var baseURL: String { "http://127.0.0.1:\(port)" }

        /// Stops with SIGTERM; returns the exit status.
        func stop() async -> Int32 {
            kill(pid, SIGTERM)
            let status = waitForExit(pid)
            await TestDatabase.drop(database.name)
            redis.stop()
            try? FileManager.default.removeItem(atPath: log)
            return status
        }
    }

    /// Resident memory of a process in MB, from /proc.
    static func residentMB(_ pid: pid_t) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") else { return 0 }
        return kilobytes / 1024
    }

    static func openFiles(_ pid: pid_t) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
    }

    /// Established TCP connections whose local end is `port` (IPv4), from /proc/net/tcp.
    static func establishedConnections(toPort port: Int) -> Int {
        guard let table = try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8) else { return -1 }
        let local = String(format: ":%04X", port)
        return table.split(separator: "\n").dropFirst().filter { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            return fields.count > 3 && fields[1].hasSuffix(local) && fields[3] == "01"
        }.count
    }

    @Test("1000 connections at a constant rate: 0 errors, both processes' memory flat, descriptors released")
    func thousandConnections() async throws {
        let server = try await ServeProcess()
        let json = FileManager.default.temporaryDirectory.appendingPathComponent("soak-\(UUID()).json").path
        let filesBefore = Self.openFiles(server.pid)
        let load = try spawn(Self.binary, ["load", server.baseURL + "/product/{key}", "--keys", "1-1005", "--distribution", "zipf:1.1",
                                           "-c", "1000", "--rate", "2000", "-d", "\(Self.seconds)s", "--timeout", "5s",
                                           "--json", json, "--quiet"])
        // Memory sampled once per second of the run (the measurement's cadence, not a wait for an
        // event); the server's descriptors every 50 ms until they reach the 1000 connections, since
        // connections come and go (a moment's count once a second can miss the peak).
        var serverRSS: [Double] = []
        var loadRSS: [Double] = []
        var peakFiles = 0
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(Self.seconds + 30)
        var nextMemorySample = clock.now
        while clock.now < deadline, kill(load, 0) == 0, Self.residentMB(load) > 0 {
            if clock.now >= nextMemorySample {
                serverRSS.append(Self.residentMB(server.pid))
                loadRSS.append(Self.residentMB(load))
                nextMemorySample += .seconds(1)
            }
            if peakFiles < 1000 { peakFiles = max(peakFiles, Self.openFiles(server.pid)) }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(waitForExit(load) == 0)
        let result = try LoadResult.fromJSON(Data(contentsOf: URL(fileURLWithPath: json)))
        try? FileManager.default.removeItem(atPath: json)

        let counts = result.counts
        #expect(counts.errors == 0 && counts.status5xx == 0, "errors \(counts.errors), 5xx \(counts.status5xx)")
        #expect(counts.sent == counts.completed && counts.inFlightAtStop == 0)
        // The schedule is accounted for whatever the machine's speed (the rate itself is make bench's).
        let scheduled = Int(RateSchedule(constant: 2000).expectedCount(within: Double(Self.seconds)).rounded())
        #expect(counts.sent + counts.unsent == scheduled, "sent \(counts.sent) + unsent \(counts.unsent) of \(scheduled)")
        #expect(peakFiles >= 1000, "the server never held the 1000 connections (peak \(peakFiles) descriptors)")
        // Flat: after the first second (connections opening), memory grows by no more than a quarter.
        let settled = serverRSS.dropFirst(2)
        if let first = settled.first, let peak = settled.max() {
            #expect(peak <= first * 1.25 + 8, "server RSS grew from \(first) to \(peak) MB: \(serverRSS)")
        }
        let loadPeak = loadRSS.max() ?? 0
        #expect(loadPeak < 200, "load generator peak RSS \(loadPeak) MB at 1000 connections")
        // The load generator exited: every connection it held must be gone from the server too.
        // What may remain are the pools the load opened (16 PostgreSQL + 4 Redis by default).
        var open = Self.establishedConnections(toPort: server.port)
        let settleDeadline = clock.now + .seconds(5)
        while open > 0, clock.now < settleDeadline {
            try await Task.sleep(for: .milliseconds(50))
            open = Self.establishedConnections(toPort: server.port)
        }
        let filesAfter = Self.openFiles(server.pid)
        #expect(open == 0, "\(open) client connections still established on the server")
        #expect(filesAfter <= filesBefore + 16 + 4 + 4, "descriptors: \(filesBefore) before, \(peakFiles) peak, \(filesAfter) after")
        #expect(await server.stop() == 0)
        print("soak \(Self.seconds) s: \(counts.completed) requests at \(Int(result.achievedRate)) req/s over 1000 connections, 0 errors; "
              + "server RSS \(serverRSS.map { Int($0) }) MB; load peak RSS \(Int(loadPeak)) MB; server descriptors \(filesBefore) → \(peakFiles) → \(filesAfter)")
    }

    @Test("S3 misses for the whole run with credentials from the environment: threads and memory stay flat")
    func s3Misses() async throws {
        let bucket = try await TestBuckets.create("cacheload-soak")
        let server = try await ServeProcess(
            extraEnvironment: TestServices.awsEnvironment,
            arguments: ["--s3-bucket", bucket])
        // Keys from a range far wider than the run can cover: nearly every request is a miss that asks S3.
        let load = try spawn(Self.binary, ["load", server.baseURL + "/object/soak-{key}", "--keys", "1-10000000",
                                           "-c", "4", "--rate", "150", "-d", "\(Self.seconds)s", "--quiet"])
        var threads: [Int] = []
        var rss: [Double] = []
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(Self.seconds + 30)
        while clock.now < deadline, kill(load, 0) == 0, Self.residentMB(load) > 0 {
            threads.append(threadCount(server.pid))
            rss.append(Self.residentMB(server.pid))
            try await Task.sleep(for: .seconds(1))  // the sampling cadence, not a wait for an event
        }
        #expect(waitForExit(load) == 0)
        let misses = threadCount(server.pid)
        // After the first second (pools and the S3 client starting), at most two more threads.
        if let settled = threads.dropFirst().first, let peak = threads.max() {
            #expect(peak <= settled + 2 && misses <= settled + 2, "threads \(threads), after the run \(misses)")
        }
        if let first = rss.dropFirst(2).first, let peak = rss.dropFirst(2).max() {
            #expect(peak <= first * 1.25 + 8, "server RSS grew from \(first) to \(peak) MB: \(rss)")
        }
        #expect(await server.stop() == 0)
        print("soak \(Self.seconds) s of S3 misses: server threads \(threads), RSS \(rss.map { Int($0) }) MB")
    }

    @Test("CloudWatch unreachable for the whole run: every datum is delivered once it is back, none lost or doubled")
    func cloudWatchOutage() async throws {
        let cloudWatchPort = freeLoopbackPort()
        let namespace = "CacheLoadSoak\(UUID().uuidString.prefix(6))"
        let spool = FileManager.default.temporaryDirectory.appendingPathComponent("soak-spool-\(UUID()).jsonl").path
        let server = try await ServeProcess(
            extraEnvironment: ["AWS_ENDPOINT_URL=http://127.0.0.1:\(cloudWatchPort)", "AWS_REGION=us-east-1",
                               "AWS_ACCESS_KEY_ID=soak", "AWS_SECRET_ACCESS_KEY=soak"],
            arguments: ["--cloudwatch", "--flush-interval", "1", "--resolution", "1", "--namespace", namespace, "--spool", spool])
        let plan = LoadPlan(template: try RequestTemplate(url: server.baseURL + "/product/{key}"), keys: 1...1005,
                            distribution: .zipf(1.1), connections: 8, rate: 500, duration: .seconds(Self.seconds))
        let result = try await LoadEngine(plan: plan).run()
        #expect(result.counts.errors == 0)

        // CloudWatch comes back: a fresh moto_server on the dead port.
        let moto = try spawn("/bin/sh", ["-c", "exec moto_server -H 127.0.0.1 -p \(cloudWatchPort)"])
        defer { kill(moto, SIGTERM); waitForExit(moto) }
        try waitUntilAccepting(port: cloudWatchPort, seconds: 30)
        let client = CurlClient(concurrency: 1)
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(30)
        var metrics = ""
        while clock.now < deadline {
            metrics = try await client.execute(CurlRequest(url: server.baseURL + "/metrics")).text
            if metrics.contains("cacheload_cloudwatch_spool_datums 0"), metrics.contains("cacheload_cloudwatch_datums_spooled_total") { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(metrics.contains("cacheload_cloudwatch_spool_datums 0"), "the spool did not drain")
        #expect(await server.stop() == 0)  // the last period is flushed on SIGTERM

        let reader = CloudWatchClient(endpoint: "http://127.0.0.1:\(cloudWatchPort)", region: "us-east-1",
                                      credentials: AWSCredentialChain(environment: ["AWS_ACCESS_KEY_ID": "soak", "AWS_SECRET_ACCESS_KEY": "soak"]))
        func sum(_ metric: String) async throws -> Double {
            try await reader.statistics(namespace: namespace, metric: metric, dimensions: CloudWatchPusher.Configuration().dimensions,
                                        statistic: "Sum", from: Date(timeIntervalSinceNow: -3600), to: Date(timeIntervalSinceNow: 600)).reduce(0, +)
        }
        let hits = try await sum(CloudWatchPusher.Name.hits)
        let misses = try await sum(CloudWatchPusher.Name.misses)
        #expect(Int(hits) == result.counts.hits, "CloudWatch has \(hits) hits, the load saw \(result.counts.hits)")
        #expect(Int(misses) == result.counts.misses, "CloudWatch has \(misses) misses, the load saw \(result.counts.misses)")
        print("cloudwatch away \(Self.seconds) s: \(result.counts.hits) hits and \(result.counts.misses) misses spooled, all delivered after it returned")
        try? FileManager.default.removeItem(atPath: spool)
        await client.shutdown()
    }
}
