import AWS
import CacheAside
import Foundation
import HTTPTypes
import Hummingbird
import Origins
import Redis
import Telemetry

/// `GET /object/{key}`: cache-aside over S3 (the "Caching Amazon S3 with ElastiCache for Redis"
/// sample). `PUT /object/{key}` (admin) overwrites the object and invalidates the cached copy.
/// Objects above `maxCacheBytes` are served from S3 and never cached (counted).
struct ObjectRoutes: Sendable {
    let cache: CacheAside
    let store: S3ObjectStore?
    let maxCacheBytes: Int
    let maxObjectBytes: Int
    let notCached: Counter

    /// Thrown by the load to keep a large object out of the cache; the route streams it instead.
    private struct TooLargeToCache: Error {
        let size: Int
    }


    static func validKey(_ key: String?) -> String? {
        guard let key, (1...512).contains(key.utf8.count),
              !key.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else { return nil }
        return key
    }

    func get(_ request: Request, context: some RequestContext) async -> Response {
        guard let store else { return Self.notConfigured }
        guard let key = Self.validKey(context.parameters.get("key")) else { return Self.invalidKey }
        let result: CacheResult
        do {
            result = try await cache.fetch(CacheKey.object(key)) { [maxCacheBytes] in
                // The size decides before any byte is read: large objects are never buffered.
                guard let head = try await store.head(key) else { return nil }
                if head.size > maxCacheBytes { throw TooLargeToCache(size: head.size) }
                guard let object = try await store.object(key) else { return nil }
                return object.cacheValue
            }
        } catch is TooLargeToCache {
            notCached.increment()
            do {
                let (contentType, chunks) = try await store.stream(key)
                return Response(status: .ok, headers: [.contentType: contentType, JSONResponse.xCache: CacheStatus.bypass.rawValue],
                                body: ResponseBody(asyncSequence: chunks.map { ByteBuffer(bytes: $0) }))
            } catch {
                return JSONResponse.error(.badGateway, "S3 is unavailable or refused the request: \(error)")
            }
        } catch {
            return JSONResponse.error(.badGateway, "S3 is unavailable or refused the request and the object is not cached: \(error)")
        }
        guard let value = result.value, let object = S3Object(cacheValue: Array(value.readableBytesView)) else {
            return JSONResponse.error(.notFound, "object \"\(key)\" not found", headers: JSONResponse.cacheHeaders(result))
        }
        return Self.respond(object, headers: JSONResponse.cacheHeaders(result, [.contentType: object.contentType]))
    }

    func put(_ request: Request, context: some RequestContext) async -> Response {
        guard let store else { return Self.notConfigured }
        guard let key = Self.validKey(context.parameters.get("key")) else { return Self.invalidKey }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxObjectBytes)
        } catch {
            return JSONResponse.error(.contentTooLarge, "the object is larger than \(maxObjectBytes) bytes")
        }
        let contentType = request.headers[.contentType] ?? "application/octet-stream"
        do {
            try await store.put(key, S3Object(body: Array(body.readableBytesView), contentType: contentType))
        } catch {
            return JSONResponse.error(.badGateway, "S3 refused the object: \(error)")
        }
        let invalidated = await cache.invalidate(CacheKey.object(key))
        return JSONResponse.object(.ok, ["key": key, "bytes": body.readableBytes, "cache_invalidated": invalidated])
    }

    private static let notConfigured = JSONResponse.error(.notFound, "the S3 origin is not configured: start the server with --s3-bucket")
    private static let invalidKey = JSONResponse.error(.badRequest, "invalid object key: expected 1 to 512 bytes without control characters")

    private static func respond(_ object: S3Object, headers: HTTPFields) -> Response {
        Response(status: .ok, headers: headers,
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: object.body)))
    }
}

/// `cacheload s3 load-data` and `delete-data`: the sample objects written to S3, then cached as
/// the server fills them — through ``CacheAside`` (its entry format, the TTL with its jitter,
/// lease fencing, near caches told), never a raw `SET` beside it — and deleted with their copies.
package struct ObjectWarmer: Sendable {
    let samples: S3SampleObjects
    /// `nil`: S3 only (`--no-cache`).
    let cache: CacheAside?

    /// - Parameters:
    ///   - redis: where the copies go; `nil` for S3 only (`--no-cache`).
    ///   - ttl: the copies' TTL and jitter (give the server's `--ttl`).
    package init(samples: S3SampleObjects, redis: RedisClient?, ttl: TTLPolicy = TTLPolicy(seconds: 3600)) {
        self.samples = samples
        cache = redis.map { CacheAside(redis: $0, configuration: .init(ttl: ttl), metrics: CacheMetrics(registry: MetricsRegistry())) }
    }

    /// Writes samples 1…`count` of `size` bytes to S3, then each into the cache.
    /// - Returns: how many objects were written, and how many of them Redis stored.
    /// - Throws: ``S3Error`` when S3 refuses; what Redis refuses is counted, not thrown.
    package func load(count: Int, size: Int) async throws -> (written: Int, cached: Int) {
        let written = try await samples.put(count: count, size: size)
        guard let cache else { return (written.count, 0) }
        var cached = 0
        for (key, object) in written where await cache.store(CacheKey.object(key), object.cacheValue) {
            cached += 1
        }
        return (written.count, cached)
    }

    /// Deletes what S3 has of samples 1…`count` (only what existed is counted), then their
    /// cached copies, which the server would otherwise keep serving until their TTL.
    /// - Returns: how many objects were deleted, and how many cached copies Redis removed.
    /// - Throws: ``S3Error``, or ``S3SampleError`` when the bucket does not exist.
    package func unload(count: Int) async throws -> (deleted: Int, invalidated: Int) {
        let deleted = try await samples.deleteExisting(count: count)
        guard let cache else { return (deleted.count, 0) }
        var invalidated = 0
        for key in deleted where await cache.invalidate(CacheKey.object(key)) { invalidated += 1 }
        return (deleted.count, invalidated)
    }
}
