@testable import CacheAside
import Logging
import Redis
import Testing
import TestSupport

/// The lease scripts against a real Redis, one instance standing for several.
@Suite("LeaseStore: one refresh per expiry, fleet-wide")
struct LeaseStoreTests {
    @Test("a refresh that filled leaves the lease marked: a request that read the old value before asks in vain; a miss is told it is filled")
    func refreshedMarker() async throws {
        let server = try RedisServerProcess()
        let redis = RedisClient(configuration: try RedisConfiguration(url: server.url, poolSize: 1))
        let leases = LeaseStore(redis: redis, duration: .seconds(2), logger: Logger(label: "test"))
        try await redis.set("k", Array("old".utf8), expireSeconds: 60)
        let first = await leases.acquire("k", unlessFilled: false)
        guard case .granted(let lease) = first else {
            Issue.record("the first refresh got no lease: \(first)")
            await redis.shutdown()
            return
        }
        #expect(try await leases.fill(lease, Array("new".utf8), expireSeconds: 60, mayOutliveLease: true) == .stored)
        // Another instance's request read "old" just before the fill and now asks to refresh.
        let again = await leases.acquire("k", unlessFilled: false)
        guard case .held = again else {
            Issue.record("a second refresh of the same expiry was granted: \(again)")
            await redis.shutdown()
            return
        }
        let miss = await leases.acquire("k")
        guard case .filled = miss else {
            Issue.record("a miss after the refresh was not told the key is filled: \(miss)")
            await redis.shutdown()
            return
        }
        await redis.shutdown()
    }
}
