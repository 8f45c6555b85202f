import CommandOptions
import ArgumentParser
import CacheAside
import Server
import Testing

@Suite("serve's cache flags: one duration and one size grammar")
struct CacheOptionsTests {
    @Test("seconds options take a unit like every duration option; sizes take MB as well as MiB")
    func unitsTaken() throws {
        let options = try CacheOptions.parse(["--stale-while-revalidate", "30s", "--ttl", "1h", "--negative-ttl", "45",
                                              "--lease-time", "2s", "--near-cache", "10", "--near-cache-bytes", "64MB"])
        let configuration = try options.configuration()
        #expect(configuration.staleWhileRevalidateSeconds == 30)
        #expect(configuration.ttl.seconds == 3600)
        #expect(configuration.negativeTTLSeconds == 45)
        #expect(configuration.nearCache?.bytes == 64 << 20)
    }

    @Test("a seconds option given a fraction of a second is refused", arguments: ["1500ms", "soon", "-5"])
    func badSeconds(_ text: String) {
        #expect(throws: (any Error).self) { try CacheOptions.parse(["--stale-while-revalidate", text]) }
    }
}
