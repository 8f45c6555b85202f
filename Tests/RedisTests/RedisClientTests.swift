import Foundation
import NIOCore
@testable import Redis
import Testing
import TestSupport

@Suite("Redis client against a real server")
struct RedisClientTests {
    /// Keys unique to one test, so tests share the server without seeing each other.
    private let prefix = "test:\(UUID().uuidString.prefix(8)):"

    private func makeClient(_ url: String = TestServices.redisURL, poolSize: Int = 4,
                            commandTimeout: Duration = .seconds(1)) throws -> RedisClient {
        var configuration = try RedisConfiguration(url: url, poolSize: poolSize)
        configuration.commandTimeout = commandTimeout
        return RedisClient(configuration: configuration)
    }

    @Test("GET, SET with EX, DEL, MGET, PING, INFO")
    func commands() async throws {
        let redis = try makeClient()
        try await redis.ping()
        #expect(try await redis.get(prefix + "missing") == nil)
        try await redis.set(prefix + "a", Array("alpha".utf8), expireSeconds: 60)
        try await redis.set(prefix + "b", Array("beta".utf8))
        #expect(try await redis.get(prefix + "a").map { String(buffer: $0) } == "alpha")
        let ttl = try await redis.send(RedisCommand("TTL", prefix + "a"))
        guard case .integer(let seconds) = ttl else { Issue.record("TTL returned \(ttl)"); return }
        #expect((55...60).contains(seconds))
        #expect(try await redis.send(RedisCommand("TTL", prefix + "b")) == .integer(-1))

        let values = try await redis.mget([prefix + "a", prefix + "missing", prefix + "b"])
        #expect(values.map { $0.map { String(buffer: $0) } } == ["alpha", nil, "beta"])
        #expect(try await redis.del(prefix + "a", prefix + "b", prefix + "missing") == 2)
        #expect(try await redis.get(prefix + "a") == nil)

        let info = try await redis.info("stats")
        #expect(info["keyspace_hits"].flatMap(Int.init) != nil)
        #expect(info["keyspace_misses"].flatMap(Int.init) != nil)
        await redis.shutdown()
    }

    @Test("SET EX expires the key")
    func expiry() async throws {
        let redis = try makeClient()
        try await redis.set(prefix + "short", Array("x".utf8), expireSeconds: 1)
        #expect(try await redis.get(prefix + "short") != nil)
        // Wait for the server-side expiry by asking PTTL for the remaining time.
        if case .integer(let millis) = try await redis.send(RedisCommand("PTTL", prefix + "short")), millis > 0 {
            try await Task.sleep(for: .milliseconds(millis + 50))
        }
        #expect(try await redis.get(prefix + "short") == nil)
        await redis.shutdown()
    }

    @Test("FLUSHDB empties only the selected database (SELECT from the URL)")
    func flushdbAndSelect() async throws {
        let server = try RedisServerProcess()
        let db0 = try makeClient(server.url)
        let db3 = try makeClient("redis://127.0.0.1:\(server.port)/3")
        try await db0.set("kept", Array("0".utf8))
        try await db3.set("flushed", Array("3".utf8))
        #expect(try await db0.get("flushed") == nil)
        try await db3.flushdb()
        #expect(try await db3.get("flushed") == nil)
        #expect(try await db0.get("kept") != nil)
        await db0.shutdown()
        await db3.shutdown()
    }

    @Test("generic commands return typed replies: integer, array, nil, status, error")
    func genericReplies() async throws {
        let redis = try makeClient()
        let key = prefix + "list"
        #expect(try await redis.send(RedisCommand("RPUSH", key, "x", "y")) == .integer(2))
        let range = try await redis.send(RedisCommand("LRANGE", key, "0", "-1"))
        guard case .array(let items) = range else { Issue.record("LRANGE returned \(range)"); return }
        #expect(items.compactMap(\.text) == ["x", "y"])
        #expect(try await redis.send(.get(prefix + "none")) == .null)
        #expect(try await redis.send(.ping) == .status("PONG"))
        let wrongType = try await redis.send(.get(key))
        guard case .error(let message) = wrongType else { Issue.record("GET on a list returned \(wrongType)"); return }
        #expect(message.hasPrefix("WRONGTYPE"))
        await #expect(throws: RedisError.self) { try await redis.get(key) }
        try await redis.del(key)
        await redis.shutdown()
    }

    @Test("values are binary-safe: NUL bytes and 1 MB")
    func binarySafe() async throws {
        let redis = try makeClient()
        let withNul: [UInt8] = [0, 1, 0, 255, 13, 10, 36, 42, 0]
        try await redis.set(prefix + "nul", withNul)
        #expect(try await redis.get(prefix + "nul").map { Array($0.readableBytesView) } == withNul)
        let big = (0..<1_048_576).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try await redis.set(prefix + "big", big)
        #expect(try await redis.get(prefix + "big").map { Array($0.readableBytesView) } == big)
        try await redis.del(prefix + "nul", prefix + "big")
        await redis.shutdown()
    }

    @Test("1000 concurrent GETs complete correctly over at most 4 connections")
    func concurrentGets() async throws {
        let server = try RedisServerProcess()
        let redis = try makeClient(server.url, poolSize: 4)
        for index in 0..<1000 { try await redis.set("k\(index)", Array("v\(index)".utf8)) }
        let mismatches = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<1000 {
                group.addTask { try await redis.get("k\(index)").map { String(buffer: $0) } != "v\(index)" }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(mismatches == 0)
        let clients = try await redis.info("clients")["connected_clients"].flatMap(Int.init)
        #expect(clients != nil && clients! <= 4)
        await redis.shutdown()
    }

    @Test("a wrong password is a typed authentication error")
    func wrongPassword() async throws {
        let server = try RedisServerProcess(password: "right-password")
        let good = try makeClient(server.url)
        try await good.ping()
        await good.shutdown()
        let bad = try makeClient("redis://:wrong-password@127.0.0.1:\(server.port)/0")
        do {
            try await bad.ping()
            Issue.record("a wrong password was accepted")
        } catch let error as RedisError {
            #expect(error.code == .authenticationFailed)
            #expect(!error.description.contains("wrong-password"))
        }
        await bad.shutdown()
    }

    @Test("server killed mid-use: error within the timeout, reconnect after restart")
    func serverRestart() async throws {
        let server = try RedisServerProcess()
        let redis = try makeClient(server.url, poolSize: 2)
        try await redis.set("before", Array("1".utf8))

        server.stop()
        let clock = ContinuousClock()
        let start = clock.now
        await #expect(throws: RedisError.self) { try await redis.get("before") }
        #expect(clock.now - start < .seconds(2))

        try server.start()
        // The client reconnects by itself (backoff ≤ 2 s); poll with a deadline.
        let deadline = clock.now + .seconds(10)
        var recovered = false
        while clock.now < deadline {
            if (try? await redis.set("after", Array("2".utf8))) != nil { recovered = true; break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(recovered)
        #expect(try await redis.get("after").map { String(buffer: $0) } == "2")
        await redis.shutdown()
    }

    @Test("a frozen server makes commands fail with timeout, not hang")
    func commandTimeout() async throws {
        let server = try RedisServerProcess()
        let redis = try makeClient(server.url, poolSize: 1, commandTimeout: .milliseconds(300))
        try await redis.ping()
        server.pause()
        let clock = ContinuousClock()
        let start = clock.now
        do {
            _ = try await redis.get("anything")
            Issue.record("a command succeeded against a frozen server")
        } catch let error as RedisError {
            #expect(error.code == .timeout)
        }
        #expect(clock.now - start < .seconds(1))
        server.resume()
        // The late reply to the timed-out GET is discarded; the next command gets its own reply.
        #expect(try await redis.send(.ping) == .status("PONG"))
        await redis.shutdown()
    }
    @Test("a script runs by its SHA1 after one SCRIPT LOAD; a server that lost it (SCRIPT FLUSH) gets the source once, then the SHA1 again")
    func scriptsRunBySHA() async throws {
        let server = try RedisServerProcess()
        let redis = try makeClient(server.url)
        let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
        func calls(_ command: String) async throws -> Int {
            let stats = try await redis.info("commandstats")["cmdstat_\(command)"] ?? ""
            return stats.split(separator: ",").first { $0.hasPrefix("calls=") }.flatMap { Int($0.dropFirst(6)) } ?? 0
        }
        for _ in 0..<10 { _ = try await script.run(on: redis, keys: ["counter"], arguments: [Array("2".utf8)]) }
        #expect(try await redis.get("counter").map { String(buffer: $0) } == "20")
        #expect(script.sha?.count == 40)
        let (evalsha, eval, load) = (try await calls("evalsha"), try await calls("eval"), try await calls("script|load"))
        #expect(evalsha == 10 && eval == 0 && load == 1, "the source was sent once: \(evalsha) \(eval) \(load)")

        _ = try await redis.send(RedisCommand("SCRIPT", "FLUSH"))
        for _ in 0..<3 { _ = try await script.run(on: redis, keys: ["counter"], arguments: [Array("1".utf8)]) }
        #expect(try await redis.get("counter").map { String(buffer: $0) } == "23", "NOSCRIPT: run again with the source, once")
        let (evalAfter, evalshaAfter) = (try await calls("eval"), try await calls("evalsha"))
        #expect(evalAfter == 1 && evalshaAfter == 13, "\(evalAfter) \(evalshaAfter)")
        await redis.shutdown()
        server.stop()
    }

    @Test("typed commands say where their key is and whether they only read; commands built from words are looked up by name")
    func commandShapes() {
        #expect(RedisCommand.get("k").routingKey.map { Array($0) } == Array("k".utf8) && RedisCommand.get("k").isRead)
        #expect(RedisCommand.set("k", [1]).routingKey != nil && !RedisCommand.set("k", [1]).isRead)
        let eval = RedisCommand.eval("return 1", keys: ["a", "b"], arguments: [])
        #expect(eval.routingKey.map { Array($0) } == Array("a".utf8) && !eval.isRead)
        #expect(RedisCommand.eval("return 1", keys: [], arguments: []).routingKey == nil)
        #expect(RedisCommand("TTL", "k").routingKey.map { Array($0) } == Array("k".utf8) && RedisCommand("TTL", "k").isRead)
        #expect(RedisCommand("EVALSHA", "abc", "1", "key").routingKey.map { Array($0) } == Array("key".utf8))
        #expect(RedisCommand("CONFIG", "GET", "maxmemory").routingKey == nil && RedisCommand.ping.routingKey == nil)
        #expect(RedisCommand("GET").routingKey == nil, "a key-taking command without its key routes nowhere")
    }
}

@Suite("Redis URLs")
struct RedisConfigurationTests {
    @Test("user, password, host, port and database are parsed; the password is masked")
    func parse() throws {
        let configuration = try RedisConfiguration(url: "redis://app:p%40ss@cache.internal:6380/2")
        #expect(configuration.user == "app")
        #expect(configuration.password == "p@ss")
        #expect(configuration.host == "cache.internal")
        #expect(configuration.port == 6380)
        #expect(configuration.database == 2)
        #expect(configuration.description == "redis://app:***@cache.internal:6380/2")
        let passwordOnly = try RedisConfiguration(url: "redis://:secret@127.0.0.1")
        #expect(passwordOnly.user == nil && passwordOnly.password == "secret" && passwordOnly.port == 6379)
    }

    @Test("bad URLs are refused with the expected form in the message", arguments: [
        "http://127.0.0.1:6379", "redis://", "redis://host/notanumber", "not a url", "redis://host:6379?ssl_cert_reqs=none",
        "rediss://host:6379?timeout=3", "memcached://host",
    ])
    func invalid(url: String) {
        do {
            _ = try RedisConfiguration(url: url)
            Issue.record("accepted \(url)")
        } catch let error as RedisError {
            #expect(error.code == .invalidURL)
            #expect(error.message.contains("redis://"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}

@Suite("RESP parsing (hiredis reader)")
struct RESPReaderTests {
    private let stream = Array("+OK\r\n:42\r\n$5\r\nhe\0lo\r\n$-1\r\n*2\r\n$1\r\na\r\n:7\r\n-ERR bad\r\n".utf8)
    private let expected: [RedisReply] = [
        .status("OK"), .integer(42), .string(ByteBuffer(bytes: Array("he\0lo".utf8))), .null,
        .array([.string(ByteBuffer(string: "a")), .integer(7)]), .error("ERR bad"),
    ]

    @Test("replies split at every byte boundary decode the same")
    func splitAnywhere() throws {
        for cut in 0...stream.count {
            let reader = RESPReader()
            var replies: [RedisReply] = []
            for part in [stream[..<cut], stream[cut...]] {
                try Array(part).withUnsafeBytes { try reader.feed($0) }
                while let reply = try reader.next() { replies.append(reply) }
            }
            #expect(replies == expected, "cut at \(cut)")
        }
    }

    @Test("bytes that are not RESP are a protocol error")
    func garbage() throws {
        let reader = RESPReader()
        try Array("?what\r\n".utf8).withUnsafeBytes { try reader.feed($0) }
        #expect(throws: RedisError.self) { try reader.next() }
    }

    @Test("an array header announcing half a billion elements is refused at once, not allocated (found by make fuzz)")
    func hugeArrayHeader() throws {
        for header in ["*555555552\r\n", "*2\r\n*1048577\r\n", "*-7\r\n"] {
            let reader = RESPReader()
            try Array(header.utf8).withUnsafeBytes { try reader.feed($0) }
            #expect(throws: RedisError.self, "\(header)") { try reader.next() }
        }
        // The bound itself is an array a reply may have.
        let reader = RESPReader()
        try Array("*1048576\r\n".utf8).withUnsafeBytes { try reader.feed($0) }
        #expect(try reader.next() == nil)
    }

    @Test("seeded random input never crashes the reader")
    func randomInput() throws {
        var generator = SeededGenerator(seed: 0xC0FFEE)
        let alphabet = Array("+-:$*\r\n0123456789-abc".utf8) + [0, 255]
        for _ in 0..<2000 {
            let reader = RESPReader()
            let bytes = (0..<Int.random(in: 1...64, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            do {
                try bytes.withUnsafeBytes { try reader.feed($0) }
                while try reader.next() != nil {}
            } catch let error as RedisError {
                #expect(error.code == .protocolError)
            }
        }
    }

}
