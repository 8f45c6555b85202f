import Foundation
import LoadGen

/// What the demo claims, checked against what its phases measured: a phase that contradicts
/// the story (the slow page not cached, a warm cache missing, "after" no faster than "before")
/// fails the demo instead of being printed as if it were the story.
struct DemoStory {
    /// One claim the run did not bear out, in words a reader acts on.
    struct Contradiction: Equatable, CustomStringConvertible {
        var phase: String
        var claim: String
        var measured: String
        var description: String { "\(phase): \(claim), but \(measured)" }
    }

    /// The least share of hits a phase over a warm cache must show.
    static let warmHitRatio = 0.95

    let phases: [(name: String, result: LoadResult)]
    /// Seconds `slow_version()` sleeps: a cached slow page answers in a small part of that.
    let slowSeconds: Double

    /// Every claim the phases contradict; empty when the story holds.
    var contradictions: [Contradiction] {
        var found: [Contradiction] = []
        for phase in phases where phase.result.counts.completed == 0 {
            found.append(Contradiction(phase: phase.name, claim: "every phase is answered", measured: "no request got an answer"))
        }
        found += warm("warm", "a warm cache answers from Redis")
        found += loadedOnce("slow-page", "the slow page is loaded once and then served from the cache", keys: 1)
        found += warm("s3-cache-on", "S3 objects read once are served from Redis")
        if let slow = result("slow-page"), slow.counts.completed > 0 {
            let p50 = slow.latencyMilliseconds(atPercentile: 50)
            if p50 >= slowSeconds * 1000 / 10 {
                found.append(Contradiction(phase: "slow-page", claim: "a cached slow page answers in well under slow_version()'s \(slowSeconds) s",
                                           measured: String(format: "its p50 is %.1f ms", p50)))
            }
        }
        if let before = result("before"), let after = result("warm"), before.counts.completed > 0, after.counts.completed > 0,
           after.achievedRate <= before.achievedRate {
            found.append(Contradiction(phase: "warm", claim: "the cache makes the service faster than without it (before)",
                                       measured: String(format: "%.0f req/s with it against %.0f req/s without", after.achievedRate, before.achievedRate)))
        }
        return found
    }

    private func result(_ name: String) -> LoadResult? { phases.first { $0.name == name }?.result }

    /// Every key was loaded before the phase: hits, at least ``warmHitRatio`` of them.
    private func warm(_ name: String, _ claim: String) -> [Contradiction] {
        guard let result = result(name), result.counts.completed > 0 else { return [] }
        let ratio = result.hitRatio ?? 0
        guard ratio < Self.warmHitRatio else { return [] }
        return [Contradiction(phase: name, claim: claim + String(format: " (≥ %.0f%% hits)", Self.warmHitRatio * 100),
                              measured: Self.counts(result))]
    }

    /// A phase that starts cold on `keys` keys: each misses at most once, and the rest are hits.
    private func loadedOnce(_ name: String, _ claim: String, keys: Int) -> [Contradiction] {
        guard let result = result(name), result.counts.completed > 0 else { return [] }
        let counts = result.counts
        guard counts.misses > keys || counts.hits <= counts.misses else { return [] }
        return [Contradiction(phase: name, claim: claim + " (at most \(keys) miss\(keys == 1 ? "" : "es"), more hits than misses)",
                              measured: Self.counts(result))]
    }

    private static func counts(_ result: LoadResult) -> String {
        String(format: "it measured a hit ratio of %.1f%% (%d hits, %d misses, %d bypassed, %d without a cache status)",
               (result.hitRatio ?? 0) * 100, result.counts.hits, result.counts.misses, result.counts.bypasses, result.counts.noCacheHeader)
    }
}
