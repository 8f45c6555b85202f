import Logging
import NIOCore
import Redis
import Synchronization

/// The cache-aside pattern over Redis, independent of HTTP: look up, on a miss load from the
/// origin once (single-flight) and fill with a jittered TTL; remember "not found" briefly;
/// write through and invalidate on change; and when Redis is down or slow, answer from the
/// origin (`BYPASS`) rather than fail.
package final class CacheAside: Sendable {
    /// Settings of the pattern.
    package struct Configuration: Sendable {
        /// `false` sends every lookup to the origin (the "before" of a before/after comparison).
        package var enabled: Bool
        /// TTL of filled entries.
        package var ttl: TTLPolicy
        /// TTL of the "not found" marker that shields the origin from floods of unknown keys.
        package var negativeTTLSeconds: Int
        /// Longest wait for another request's load of the same key.
        package var singleFlightTimeout: Duration

        package init(enabled: Bool = true, ttl: TTLPolicy = TTLPolicy(seconds: 3600),
                    negativeTTLSeconds: Int = 30, singleFlightTimeout: Duration = .seconds(5)) {
            self.enabled = enabled
            self.ttl = ttl
            self.negativeTTLSeconds = max(1, negativeTTLSeconds)
            self.singleFlightTimeout = singleFlightTimeout
        }
    }

    /// What a cached "not found" looks like in Redis: one NUL byte, which no JSON value starts with.
    static let notFoundMarker: [UInt8] = [0]

    package let configuration: Configuration
    package let metrics: CacheMetrics
    private let redis: RedisClient
    private let singleFlight: SingleFlight<[UInt8]?>
    private let logger: Logger
    /// Whether the last Redis lookup worked: outages are logged when they start and end, once
    /// each, not once per request (an atomic, not a lock, on the hit path).
    private let redisAnswering = Atomic<Bool>(true)

    package init(redis: RedisClient, configuration: Configuration, metrics: CacheMetrics,
                logger: Logger = Logger(label: "cacheload.cache")) {
        self.redis = redis
        self.configuration = configuration
        self.metrics = metrics
        self.singleFlight = SingleFlight(timeout: configuration.singleFlightTimeout)
        self.logger = logger
    }

    /// The value for `key`: from Redis when there, else from `load` (once for all concurrent
    /// callers), stored for next time. `load` returns `nil` when the origin has no such item.
    /// - Throws: what `load` throws when the cache cannot answer either, or
    ///   ``CacheAsideError`` when waiting for another caller's load timed out.
    /// - Parameter ttl: overrides the configured TTL for this key (a short-lived page, say).
    package func fetch(
        _ key: String,
        ttl: TTLPolicy? = nil,
        load: @escaping @Sendable () async throws -> [UInt8]?
    ) async throws -> CacheResult {
        guard configuration.enabled else {
            metrics.bypass()
            return CacheResult(value: try await load().map(ByteBuffer.init(bytes:)), status: .bypass)
        }
        let lookedAt = ContinuousClock.now
        let cached: ByteBuffer?
        do {
            cached = try await redis.get(key)
            if !redisAnswering.load(ordering: .relaxed) { redisStateChanged(answering: true, error: nil) }
        } catch {
            metrics.error()
            metrics.bypass()
            if redisAnswering.load(ordering: .relaxed) { redisStateChanged(answering: false, error: error) }
            logger.debug("cache lookup failed; answering from the origin", metadata: ["key": "\(key)", "error": "\(error)"])
            // Still one origin query per key at a time: a Redis outage must not become a stampede.
            let value = try await singleFlight.run(key, load).value
            return CacheResult(value: value.map(ByteBuffer.init(bytes:)), status: .bypass)
        }
        if let cached {
            let isNotFound = Self.isNotFoundMarker(cached)
            metrics.hit(negative: isNotFound)
            return CacheResult(value: isNotFound ? nil : cached, status: .hit)
        }
        metrics.miss()
        let (value, shared) = try await singleFlight.run(key, startedAt: lookedAt) { [self] in
            let value = try await load()
            await fill(key, value, ttl: ttl)
            return value
        }
        if shared { metrics.singleFlightWait() }
        return CacheResult(value: value.map(ByteBuffer.init(bytes:)), status: .miss)
    }

    /// Writes a new value through to the cache (after the origin accepted it).
    /// - Returns: whether Redis stored it (`false` when it is unreachable; the next lookup misses).
    @discardableResult
    package func store(_ key: String, _ value: [UInt8]) async -> Bool {
        guard configuration.enabled else { return false }
        return await fill(key, value)
    }

    /// Removes `key` from the cache so the next lookup reloads it.
    /// - Returns: whether Redis confirmed the removal (`false` when it is unreachable).
    @discardableResult
    package func invalidate(_ key: String) async -> Bool {
        guard configuration.enabled else { return true }
        do {
            try await redis.del(key)
            return true
        } catch {
            metrics.error()
            logger.warning("cache invalidation failed; the entry expires with its TTL", metadata: ["key": "\(key)", "error": "\(error)"])
            return false
        }
    }

    /// Removes every cached entry whose key starts with `prefix` (a `SCAN` — of every primary
    /// in a cluster — never `KEYS` or `FLUSHALL`: other data in the same Redis stays).
    /// - Returns: how many entries Redis removed.
    /// - Throws: ``RedisError`` when Redis cannot be reached; entries removed before that stay removed.
    package func invalidate(prefix: String) async throws -> Int {
        var removed = 0
        try await redis.scanKeys(matching: Self.globEscaped(prefix) + "*") { keys in
            removed += try await redis.del(keys)
        }
        return removed
    }

    /// `prefix` with Redis glob characters escaped, so it matches literally.
    private static func globEscaped(_ prefix: String) -> String {
        var escaped = ""
        for character in prefix {
            if "*?[]\\".contains(character) { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }

    /// Logs an outage's start (with its cause: refused, timeout, wrong password) and its end, once
    /// each even when many requests notice at the same moment.
    private func redisStateChanged(answering: Bool, error: (any Error)?) {
        guard redisAnswering.compareExchange(expected: !answering, desired: answering, ordering: .relaxed).exchanged else { return }
        if let error {
            logger.warning("Redis is unavailable; answering from the origin (X-Cache: BYPASS) until it is back",
                           metadata: ["redis": "\(redis.configuration)", "error": "\(error)"])
        } else {
            logger.notice("Redis answers again; caching resumed", metadata: ["redis": "\(redis.configuration)"])
        }
    }

    private static func isNotFoundMarker(_ buffer: ByteBuffer) -> Bool {
        buffer.readableBytes == 1 && buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) == 0
    }

    @discardableResult
    private func fill(_ key: String, _ value: [UInt8]?, ttl: TTLPolicy? = nil) async -> Bool {
        do {
            if let value {
                try await redis.set(key, value, expireSeconds: (ttl ?? configuration.ttl).next())
            } else {
                try await redis.set(key, Self.notFoundMarker, expireSeconds: configuration.negativeTTLSeconds)
            }
            metrics.fill()
            return true
        } catch {
            metrics.error()
            logger.debug("cache fill failed", metadata: ["key": "\(key)", "error": "\(error)"])
            return false
        }
    }
}
