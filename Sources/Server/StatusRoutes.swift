import CacheAside
import Foundation
import HTTPTypes
import Hummingbird
import Origins
import Postgres
import Redis
import Telemetry

/// `GET /stats`, `GET /health`, `GET /metrics`: what the server and Redis have seen.
struct StatusRoutes: Sendable {
    let cache: CacheAside
    let catalog: ProductCatalog
    let redis: RedisClient
    let registry: MetricsRegistry
    let metrics: ServerMetrics
    let redisMetrics: RedisClientMetrics
    let drain: ShutdownDrain

    func stats(_ request: Request, context: some RequestContext) async -> Response {
        let snapshot = cache.metrics.snapshot
        var server: [String: any Sendable] = [
            "hits": snapshot.hits, "misses": snapshot.misses, "bypasses": snapshot.bypasses,
            "errors": snapshot.errors, "negative_hits": snapshot.negativeHits,
            "single_flight_waits": snapshot.singleFlightWaits, "fills": snapshot.fills, "stale": snapshot.stale,
            "early_refreshes": snapshot.earlyRefreshes, "lease_waits": snapshot.leaseWaits,
            "lease_timeouts": snapshot.leaseTimeouts, "fills_dropped": snapshot.fillsDropped, "write_races": snapshot.writesRaced,
            "origin_queries": catalog.queryCount, "cache_enabled": cache.configuration.enabled,
        ]
        server["hit_ratio"] = snapshot.hitRatio ?? NSNull()
        // Near-cache hits never reached Redis: its keyspace_hits match redis_hits.
        server["near_hits"] = snapshot.nearHits
        server["redis_hits"] = snapshot.redisHits
        if let near = cache.near {
            let usage = near.usage
            server["near_cache"] = ["entries": usage.entries, "bytes": usage.bytes, "coherent": usage.coherent,
                                    "max_entries": near.limits.entries, "max_bytes": near.limits.bytes,
                                    "invalidations": snapshot.nearInvalidations, "flushes": snapshot.nearFlushes] as [String: any Sendable]
        }
        var redisStats: [String: any Sendable]
        do {
            // In a cluster: summed over the primaries (the cluster's ratio), and each node's own.
            let nodes = try await redis.infoByNode("stats")
            let info = RedisInfo.summed(nodes.map(\.fields))
            redisStats = Self.keyspace(info)
            if try await redis.isCluster() {
                redisStats["mode"] = "cluster"
                redisStats["nodes"] = Dictionary(uniqueKeysWithValues: nodes.map { ($0.node, Self.keyspace($0.fields)) })
            } else {
                redisStats["mode"] = "standalone"
            }
        } catch {
            redisStats = ["error": "Redis unavailable: \(error)"]
        }
        return JSONResponse.object(.ok, ["server": server, "redis": redisStats])
    }

    private static func keyspace(_ info: [String: String]) -> [String: any Sendable] {
        let hits = Int(info["keyspace_hits"] ?? "") ?? 0
        let misses = Int(info["keyspace_misses"] ?? "") ?? 0
        var stats: [String: any Sendable] = ["keyspace_hits": hits, "keyspace_misses": misses]
        stats["hit_ratio"] = hits + misses == 0 ? NSNull() : Double(hits) / Double(hits + misses)
        return stats
    }

    /// 200 `healthy` or `degraded` (Redis down: answers come from the origin), 503 `unhealthy`
    /// (the origin database down or not seeded) or `draining` (stopping: a balancer takes the
    /// instance out). The origin is reported under its engine's name (`postgres`, `mysql`).
    func health(_ request: Request, context: some RequestContext) async -> Response {
        if drain.isDraining {
            return JSONResponse.object(.serviceUnavailable, ["status": "draining", "cache_enabled": cache.configuration.enabled])
        }
        async let redisCheck = Self.failure { try await redis.ping() }
        async let originCheck = Self.failure { try await catalog.ping() }
        async let schemaCheck = try? await catalog.schemaProblem()
        let (redisFailure, originFailure, schemaProblem) = await (redisCheck, originCheck, schemaCheck)
        let originOK = originFailure == nil && schemaProblem == nil
        let status = !originOK ? "unhealthy" : (redisFailure == nil ? "healthy" : "degraded")
        // Reasons come from the clients' errors, which never carry a password.
        var redisStatus: [String: any Sendable] = ["status": redisFailure == nil ? "up" : "down", "url": redis.configuration.description]
        redisStatus["reason"] = redisFailure
        var originStatus: [String: any Sendable] = ["status": originFailure == nil ? "up" : "down"]
        originStatus["reason"] = originFailure ?? schemaProblem
        let body: [String: any Sendable] = [
            "status": status, "redis": redisStatus, catalog.store.engine: originStatus, "cache_enabled": cache.configuration.enabled,
        ]
        return JSONResponse.object(originOK ? .ok : .serviceUnavailable, body)
    }

    /// What `check` threw, as text; `nil` when it succeeded.
    private static func failure(_ check: () async throws -> Void) async -> String? {
        do {
            try await check()
            return nil
        } catch {
            return "\(error)"
        }
    }

    func metricsText(_ request: Request, context: some RequestContext) async -> Response {
        let pool = await catalog.poolStatistics()
        metrics.originPoolOpen.set(Double(pool.open))
        metrics.originPoolInUse.set(Double(pool.inUse))
        metrics.originPoolWaiting.set(Double(pool.waiting))
        metrics.redisPoolSize.set(Double(redis.configuration.poolSize))
        redisMetrics.update()
        return Response(
            status: .ok,
            headers: [.contentType: MetricsRegistry.contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.exposition())))
    }
}
