import CacheAside
import NIOCore
import Redis
import Telemetry
import Testing

/// The near cache's own rules, without Redis: it serves nothing until coherent, refuses a copy
/// read before an invalidation of its key, and stays within its entry and byte bounds.
@Suite("Near cache: bounds and refused stores")
struct NearCacheBoundsTests {
    private func coherentCache(entries: Int = 100, bytes: Int = 1 << 20, maximumAge: Duration = .seconds(60)) -> NearCache {
        let near = NearCache(limits: .init(entries: entries, bytes: bytes), maximumAge: maximumAge)
        near.resume()
        return near
    }

    private func value(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    @Test("nothing is taken or served before invalidations are received, nor after they stop")
    func coherentOnly() throws {
        let near = NearCache(limits: .init(entries: 10, bytes: 1000), maximumAge: .seconds(60))
        #expect(near.ticket() == nil)
        near.resume()
        let ticket = try #require(near.ticket())
        #expect(near.store("k", value("v"), ticket: ticket))
        #expect(near.value("k") == value("v"))
        #expect(near.flush(coherent: false))
        #expect(near.value("k") == nil)
        #expect(near.ticket() == nil)
        #expect(!near.store("k", value("v"), ticket: ticket))
    }

    @Test("a copy read before its key's invalidation arrived is refused; other keys are not")
    func invalidatedSinceTicket() throws {
        let near = coherentCache()
        let ticket = try #require(near.ticket())
        near.invalidate(["changed"])
        #expect(!near.store("changed", value("old"), ticket: ticket))
        #expect(near.value("changed") == nil)
        // Another key (in another of the 1024 buckets, found by trying) still stores.
        let other = try #require((0..<100).map { "other\($0)" }.first { key in
            let probe = NearCache(limits: .init(entries: 10, bytes: 1000), maximumAge: .seconds(60))
            probe.resume()
            let before = probe.ticket()!
            probe.invalidate(["changed"])
            return probe.store(key, ByteBuffer(string: "v"), ticket: before)
        })
        #expect(near.store(other, value("v"), ticket: ticket))
        // A flush refuses every store read before it.
        let beforeFlush = try #require(near.ticket())
        near.flush(coherent: true)
        #expect(!near.store(other, value("v"), ticket: beforeFlush))
        #expect(near.store(other, value("v"), ticket: try #require(near.ticket())))
    }

    @Test("bounded by entries and by bytes; a copy read since the hand passed stays (CLOCK)")
    func bounds() throws {
        let near = coherentCache(entries: 3, bytes: 10)
        for key in ["a", "b", "c"] { #expect(near.store(key, value("xx"), ticket: try #require(near.ticket()))) }
        #expect(near.usage.entries == 3)
        _ = near.value("a")  // referenced: passed over once
        #expect(near.store("d", value("xx"), ticket: try #require(near.ticket())))
        #expect(near.usage.entries == 3)
        #expect(near.value("a") != nil)
        #expect(near.value("b") == nil)
        // Bytes: 3 × 2 held; an 8-byte value fits the 10-byte bound only with one 2-byte copy left.
        #expect(near.store("e", value("xxxxxxxx"), ticket: try #require(near.ticket())))
        #expect(near.usage.bytes == 10)
        #expect(near.usage.entries == 2)
        #expect(near.value("e") == value("xxxxxxxx"))
        // Larger than the whole bound: not kept at all.
        #expect(!near.store("f", value(String(repeating: "x", count: 11)), ticket: try #require(near.ticket())))
    }

    @Test("a copy is not served past its maximum age, nor past a shorter one given with it")
    func maximumAge() async throws {
        let near = coherentCache(maximumAge: .milliseconds(50))
        #expect(near.store("k", value("v"), ticket: try #require(near.ticket())))
        #expect(near.value("k") != nil)
        let stored = ContinuousClock.now
        while ContinuousClock.now - stored < .milliseconds(60) { await Task.yield() }
        #expect(near.value("k") == nil)
        #expect(near.usage.entries == 0)
        // A key with its own, shorter TTL: its copy lives no longer than that.
        let long = coherentCache(maximumAge: .seconds(60))
        #expect(long.store("page", value("v"), ticket: try #require(long.ticket()), maximumAge: .milliseconds(50)))
        #expect(long.store("product", value("v"), ticket: try #require(long.ticket())))
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .milliseconds(60) { await Task.yield() }
        #expect(long.value("page") == nil)
        #expect(long.value("product") != nil)
    }

    @Test("a key stored again and again does not grow the cache's bookkeeping without bound")
    func restoredKey() throws {
        let near = coherentCache(entries: 10)
        for round in 0..<10_000 {
            near.invalidate(["hot"])
            #expect(near.store("hot", value("\(round)"), ticket: try #require(near.ticket())))
        }
        #expect(near.usage.entries == 1)
        #expect(near.clockLength <= 2 * 64 + 1)
        #expect(near.value("hot") == value("9999"))
    }

    @Test("--near-cache with --cache off keeps no near cache (and so opens no invalidation connection)")
    func offWithTheCache() async throws {
        let redis = RedisClient(configuration: try RedisConfiguration(url: "redis://127.0.0.1:1/0"))
        var configuration = CacheAside.Configuration()
        configuration.nearCache = .init(entries: 10, bytes: 1000)
        #expect(CacheAside(redis: redis, configuration: configuration, metrics: CacheMetrics(registry: MetricsRegistry())).near != nil)
        configuration.enabled = false
        #expect(CacheAside(redis: redis, configuration: configuration, metrics: CacheMetrics(registry: MetricsRegistry())).near == nil)
        await redis.shutdown()
    }
}
