import CacheAside
import Foundation
import HTTPCurl
import Origins
import Redis
import Testing
import TestSupport

/// Every subcommand exits non-zero when it did not do its job, and says why in one place; usage
/// mistakes are caught before any work (exit 64). README, "Exit codes".
@Suite("Exit codes that tell the truth")
struct ExitCodeTests {
    /// Runs the binary to completion (at most 60 s) and returns its status and output.
    private var aws: [String] {
        TestServices.awsEnvironment
    }

    @Test("seed, warm, s3 load-data and alarm describe exit 1 when the store is down or the thing is missing")
    func failuresExitOne() async throws {
        let seeded = try await TestDatabase.create(products: 10)
        let empty = try await TestDatabase.createEmpty()
        let downPostgres = "postgresql://postgres@127.0.0.1:\(freeLoopbackPort())/postgres"
        let downRedis = "redis://127.0.0.1:\(freeLoopbackPort())/0"
        let cases: [([String], String)] = [
            (["seed", "--postgres", downPostgres], "Connection refused"),
            (["warm", "--redis", TestServices.redisURL, "--postgres", downPostgres], "Connection refused"),
            (["warm", "--redis", downRedis, "--postgres", seeded.url, "--top", "5"], "could not be written to Redis"),
            (["warm", "--redis", TestServices.redisURL, "--postgres", empty.url], "run `cacheload seed` first"),
            (["s3", "load-data", "--bucket", "cacheload-exit-\(UUID().uuidString.prefix(6).lowercased())", "--count", "2", "--redis", downRedis], "Redis"),
            (["alarm", "describe", "--name", "no-such-alarm-\(UUID().uuidString.prefix(6))"], "does not exist"),
        ]
        for (arguments, reason) in cases {
            let (status, output) = try await runCacheload(arguments, environment: aws)
            #expect(status == 1, "\(arguments.joined(separator: " ")): exit \(String(describing: status)): \(output)")
            #expect(output.contains("Error: ") && output.contains(reason), "\(arguments.joined(separator: " ")): \(output)")
        }
        await TestDatabase.drop(seeded.name)
        await TestDatabase.drop(empty.name)
    }

    @Test("s3 delete-data counts what S3 had, removes the cached copies, and fails on a missing bucket")
    func deleteDataTellsTheTruth() async throws {
        let bucket = "cacheload-delete-\(UUID().uuidString.prefix(8).lowercased())"
        let redis = try RedisServerProcess()
        let load = try await runCacheload(["s3", "load-data", "--bucket", bucket, "--count", "3", "--size", "16", "--redis", redis.url,
                                           "--ttl", "120", "--ttl-jitter", "0"], environment: aws)
        #expect(load.status == 0, "\(load.output)")
        let client = RedisClient(configuration: try RedisConfiguration(url: redis.url))
        // Cached through the cache's own write path: its TTL (it was a fixed 3600 s), its entry format.
        #expect(try await client.send(RedisCommand("TTL", "object:object-1")) == .integer(120))
        let cached = try await client.get("object:object-1").map { CacheEntry($0) }
        guard case .value? = cached else { Issue.record("object:object-1 is not a cache entry: \(String(describing: cached))"); return }

        let first = try await runCacheload(["s3", "delete-data", "--bucket", bucket, "--count", "5", "--redis", redis.url], environment: aws)
        #expect(first.status == 0)
        #expect(first.output.contains("deleted 3 objects"), "\(first.output)")
        #expect(try await client.get("object:object-1") == nil, "the cached copy outlived the object")
        let second = try await runCacheload(["s3", "delete-data", "--bucket", bucket, "--count", "5", "--redis", redis.url], environment: aws)
        #expect(second.output.contains("deleted 0 objects"), "\(second.output)")

        let missing = try await runCacheload(["s3", "delete-data", "--bucket", "no-such-bucket-\(UUID().uuidString.prefix(6).lowercased())",
                                     "--redis", redis.url], environment: aws)
        #expect(missing.status == 1)
        #expect(missing.output.contains("does not exist"), "\(missing.output)")
        await client.shutdown()
    }

    @Test("usage mistakes exit 64 before any request: output directory, log level, --port, --redis-url, postgressql://")
    func usageMistakes() async throws {
        let target = "http://127.0.0.1:\(freeLoopbackPort())/product/{key}"
        let cases: [([String], String)] = [
            (["load", target, "--json", "/nonexistent-\(UUID())/run.json"], "does not exist"),
            (["load", target, "--html", FileManager.default.temporaryDirectory.path], "is a directory"),
            (["serve", "--log-level", "verbose"], "expected trace, debug"),
            (["serve", "--port", "8080"], "--listen HOST:PORT"),
            (["serve", "--redis-url", "redis://x"], "--redis URL"),
            (["seed", "--postgres", "postgressql://postgres@127.0.0.1/postgres"], "unknown scheme \"postgressql://\""),
            (["alarm", "create", "--latency-p99", "fast"], "--latency-p99 \"fast\": expected a duration such as 500ms"),
            (["serve", "--stale-while-revalidate", "-1"], "--stale-while-revalidate -1: expected at least 1 second"),
            (["serve", "--early-refresh", "0"], "--early-refresh 0.0: expected a beta above 0"),
            (["serve", "--leases", "maybe"], "--leases must be on or off"),
            (["serve", "--lease-time", "10ms"], "--lease-time \"10ms\": expected a duration from 50ms to 60s"),
            (["serve", "--near-cache", "0"], "--near-cache 0: expected a number of entries ≥ 1"),
            (["serve", "--near-cache", "100", "--near-cache-bytes", "lots"], "--near-cache-bytes \"lots\": expected a size such as 64MiB"),
            (["serve", "--early-refresh", "2000000"], "at most 1000000"),
            (["serve", "--near-cache-bytes", "64MiB"], "--near-cache-bytes bounds the near cache, which is off"),
            (["serve", "--cloudwatch", "--flush-interval", "1"], "--flush-interval 1 needs --resolution 1"),
            (["alarm", "create", "--period", "45"], "--period 45: CloudWatch takes 10, 20 or 30"),
            (["alarm", "create", "--sns-topic", "alerts"], "--sns-topic \"alerts\": expected the topic's ARN"),
            (["load", target, "--timeout", "0s"], "--timeout 0s: every request would time out at once"),
            (["load", target, "-d", "0s"], "a run needs a duration above 0"),
            (["load", target, "--cache-status", "json:"], "--cache-status \"json:\": give the field's name"),
            (["load", target, "--cache-status", "header:X Cache"], "\"X Cache\" is not a header name"),
            (["load", target, "--cache-status", "xcache"], "expected auto, header:NAME"),
            (["demo", "--fleet-only", "--no-fleet"], "--fleet-only and --no-fleet contradict each other"),
        ]
        let clock = ContinuousClock()
        for (arguments, reason) in cases {
            let start = clock.now
            let (status, output) = try await runCacheload(arguments)
            #expect(status == 64, "\(arguments.joined(separator: " ")): exit \(String(describing: status)): \(output)")
            #expect(output.contains(reason), "\(arguments.joined(separator: " ")): \(output)")
            #expect(clock.now - start < .seconds(5), "\(arguments.first!) did work before refusing")
        }
    }

    @Test("a connection refused while parsing (URL, cluster database, --config): exit 64, the usage line names the subcommand")
    func connectionMistakesNameTheSubcommand() async throws {
        let cases: [([String], String, String)] = [
            (["serve", "--redis-mode", "cluster", "--redis", "redis://127.0.0.1:\(freeLoopbackPort())/1"], "only database 0", "cacheload serve"),
            (["warm", "--redis", "http://127.0.0.1:6379/0"], "unsupported scheme", "cacheload warm"),
            (["s3", "flush", "--config", "/nonexistent-\(UUID()).ini"], "cannot read --config", "cacheload s3 flush"),
            (["export", "--redis", "redis://127.0.0.1:6379/x"], "is not a number", "cacheload export"),
        ]
        for (arguments, reason, usage) in cases {
            let (status, output) = try await runCacheload(arguments)
            #expect(status == 64, "\(arguments.joined(separator: " ")): exit \(String(describing: status)): \(output)")
            #expect(output.contains(reason) && output.contains("Usage: \(usage)"), "\(arguments.joined(separator: " ")): \(output)")
        }
    }

    @Test("alarm create --latency-p99 50ms: both alarms exist; describe shows the p99 one on its extended statistic")
    func latencyAlarmFromTheCommandLine() async throws {
        let suffix = UUID().uuidString.prefix(6)
        let names = ["--name", "cl-ratio-\(suffix)", "--latency-name", "cl-p99-\(suffix)"]
        let created = try await runCacheload(["alarm", "create", "--latency-p99", "50ms"] + names, environment: aws)
        #expect(created.status == 0, "\(created.output)")
        #expect(created.output.contains("alarm cl-p99-\(suffix): fires when p99 RequestLatency > 50.0 ms for 3 of 5 periods"), "\(created.output)")
        let described = try await runCacheload(["alarm", "describe"] + names, environment: aws)
        #expect(described.status == 0, "\(described.output)")
        #expect(described.output.contains("cl-p99-\(suffix): ") && described.output.contains("RequestLatency p99 GreaterThanThreshold 50.0 ms"),
                "\(described.output)")
    }

    @Test("the README's alarm sequence keeps the prod alarm: names carry the environment, a create without --sns-topic keeps the actions, another environment's alarm is not replaced")
    func alarmsKeepTheirOwner() async throws {
        let environment = "prod\(UUID().uuidString.prefix(6).lowercased())"
        let topic = "arn:aws:sns:us-east-1:123456789012:alerts-\(environment)"
        let first = try await runCacheload(["alarm", "create", "--environment", environment, "--sns-topic", topic], environment: aws)
        #expect(first.status == 0, "\(first.output)")
        #expect(first.output.contains("alarm cacheload-\(environment)-hit-ratio-low"), "\(first.output)")
        // The README's next line once left out --environment and rewrote the prod alarm as dev's.
        #expect(try await runCacheload(["alarm", "create", "--latency-p99", "50ms"], environment: aws).status == 0)
        let again = try await runCacheload(["alarm", "create", "--environment", environment, "--latency-p99", "50ms"], environment: aws)
        #expect(again.status == 0 && again.output.contains("keeping its actions"), "\(again.output)")
        let described = try await runCacheload(["alarm", "describe", "--environment", environment], environment: aws)
        #expect(described.status == 0, "\(described.output)")
        #expect(described.output.contains("Environment=\(environment)") && described.output.contains("notifies \(topic)"), "\(described.output)")
        let stolen = try await runCacheload(["alarm", "create", "--name", "cacheload-\(environment)-hit-ratio-low", "--environment", "dev"],
                                            environment: aws)
        #expect(stolen.status == 1 && stolen.output.contains("would replace it"), "\(stolen.output)")
        let still = try await runCacheload(["alarm", "describe", "--environment", environment], environment: aws)
        #expect(still.output.contains("Environment=\(environment)") && still.output.contains("notifies \(topic)"), "\(still.output)")
    }

    @Test("units, one rule everywhere: bare durations refused (alarm, threshold), seconds options take units, sizes one grammar",
          arguments: [
            (["alarm", "create", "--latency-p99", "50"], "give a unit, such as 50ms or 50s"),
            (["load", "http://127.0.0.1:9/{key}", "--requests", "1", "--threshold", "p99<10"], "give \"10\" a unit"),
            (["serve", "--near-cache", "10", "--near-cache-bytes", "64 MB extra"], "--near-cache-bytes"),
          ])
    func unitsRefused(_ arguments: [String], _ message: String) async throws {
        let (status, output) = try await runCacheload(arguments, environment: aws)
        #expect(status == 64, "\(arguments): \(output)")
        #expect(output.contains(message), "\(arguments): \(output)")
    }

    @Test("errors say their cause: a wrong Redis password in warm, a missing merge input, an unwritable --json, TLS against a plain port")
    func errorsSayTheirCause() async throws {
        let database = try await TestDatabase.create(products: 20)
        let redis = URLComponents(string: TestServices.redisURL)!
        let wrongPassword = "redis://:wrong-password@\(redis.host!):\(redis.port!)/0"
        let warm = try await runCacheload(["warm", "--redis", wrongPassword, "--postgres", database.url, "--top", "5"])
        #expect(warm.status == 1, "\(warm.output)")
        #expect(warm.output.contains("could not be written") && warm.output.lowercased().contains("auth"), "\(warm.output)")

        let merge = try await runCacheload(["report", "merge", "/nonexistent/nosuchfile.json"])
        #expect(merge.status != 0 && merge.output.contains("/nonexistent/nosuchfile.json: no such file"), "\(merge.output)")
        #expect(!merge.output.contains("NSCocoaErrorDomain"), "\(merge.output)")

        let server = try await TestServer.start()
        let unwritable = try await runCacheload(["load", server.baseURL + "/product/{key}", "--requests", "5", "--json", "/proc/x.json"])
        #expect(unwritable.status == 64 && unwritable.output.contains("--json /proc/x.json: cannot be created"), "\(unwritable.output)")

        let plain = server.baseURL.replacingOccurrences(of: "http://", with: "https://")
        let tls = try await runCacheload(["load", plain + "/product/{key}", "--requests", "5", "-c", "1", "--insecure"])
        let last = tls.output.split(separator: "\n").last { $0.contains("the target failed") } ?? ""
        #expect(tls.status == 1 && last.contains("TLS errors") && !last.contains(" 0 TLS errors"), "\(tls.output.suffix(600))")
        await server.stop()
    }

    @Test("a listener that cannot bind fails at start with the address named: serve, export, load --metrics-listen")
    func busyPorts() async throws {
        let busy = freeLoopbackPort()
        let holder = try BusyPort(busy)
        let cases: [[String]] = [
            ["serve", "--listen", "127.0.0.1:\(busy)"],
            ["export", "--listen", "127.0.0.1:\(busy)"],
            ["load", "http://127.0.0.1:\(freeLoopbackPort())/", "--requests", "1", "--metrics-listen", "127.0.0.1:\(busy)"],
        ]
        for arguments in cases {
            let (status, output) = try await runCacheload(arguments)
            #expect(status == 1, "\(arguments[0]): exit \(String(describing: status)): \(output)")
            #expect(output.contains("cannot listen on 127.0.0.1:\(busy): address already in use"), "\(arguments[0]): \(output)")
            #expect(!output.contains("metrics at http"), "export announced a URL it could not serve: \(output)")
        }
        holder.close()
    }

    @Test("thresholds: a run with no answers fails every latency threshold ('no data'); values carry units")
    func thresholdsOnNoData() async throws {
        let (status, output) = try await runCacheload(["load", "http://127.0.0.1:\(freeLoopbackPort())/", "--requests", "3", "-c", "1",
                                              "--threshold", "p99<1s", "--threshold", "errors<100"])
        #expect(status == 99, "\(output)")
        #expect(output.contains("✗ p99<1s   (measured no data)"), "\(output)")
        #expect(output.contains("errors"), "\(output)")
    }

    @Test("a wrong key range: every answer a 404 — hits 0, negative hits counted apart, and the summary says to check the URL")
    func wrongKeysAreNotAHitRatio() async throws {
        let server = try await TestServer.start()
        // Fill the negative cache first, as a second run against a wrong range would find it.
        for id in 5000...5010 { _ = try await server.request(.GET, "/product/\(id)") }
        let (_, output) = try await runCacheload(["load", "\(server.baseURL)/product/{key}", "--keys", "5000-5010", "--requests", "200",
                                         "-c", "2", "--distribution", "sequential", "--quiet"])
        #expect(output.contains("hits 0 "), "\(output)")
        #expect(output.contains("negative hits 200"), "\(output)")
        #expect(output.contains("200 of 200 answers were 4xx: check the URL and --keys"), "\(output)")
        await server.stop()
    }

    @Test("--stages runs say staged rate, not constant rate")
    func stagesAreNamed() async throws {
        let server = try await TestServer.start()
        let (status, output) = try await runCacheload(["load", "\(server.baseURL)/product/{key}", "--stages", "1s:50", "-c", "2", "--quiet"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("staged rate, average"), "\(output)")
        #expect(!output.contains("constant rate"), "\(output)")
        await server.stop()
    }
}

extension ExitCodeTests {
    @Test("--help of every subcommand at 80 columns: no example broken across lines, no option that does nothing there")
    func helpTexts() async throws {
        let subcommands = [[], ["serve"], ["seed"], ["warm"], ["load"], ["report", "merge"], ["export"], ["alarm"],
                           ["alarm", "create"], ["alarm", "describe"], ["s3"], ["s3", "load-data"], ["s3", "flush"],
                           ["s3", "delete-data"], ["demo"]]
        for subcommand in subcommands {
            let (status, output) = try await runCacheload(subcommand + ["--help"], environment: ["COLUMNS=80"])
            #expect(status == 0)
            let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            for (previous, line) in zip(lines, lines.dropFirst()) {
                let inExample = previous.hasPrefix("  cacheload") || previous.hasPrefix("      ")
                #expect(!(inExample && !line.isEmpty && !line.hasPrefix(" ")), "\(subcommand): an example wraps: \(previous) / \(line)")
            }
            let usage = lines.first { $0.hasPrefix("USAGE:") } ?? ""
            if ["seed"] == subcommand { #expect(!usage.contains("--redis"), "seed --help offers --redis") }
            if ["s3", "flush"] == subcommand { #expect(!usage.contains("--postgres"), "s3 flush --help offers --postgres") }
            if ["alarm", "create"] == subcommand {
                #expect(!usage.contains("--spool") && !usage.contains("--flush-interval") && !usage.contains("[--cloudwatch]"), "\(usage)")
            }
            #expect(!output.contains("(default: one per core). (default:"), "\(subcommand): a default said twice")
        }
    }
}

/// A port held by a listening socket for the length of a test.
final class BusyPort {
    private let descriptor: Int32

    init(_ port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(descriptor, 1) == 0 else { throw ProcessFailure(command: "bind \(port)", output: String(cString: strerror(errno))) }
    }

    func close() {
        Foundation.close(descriptor)
    }
}
