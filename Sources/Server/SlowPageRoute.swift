import CacheAside
import Foundation
import HTTPTypes
import Hummingbird
import Origins
import Telemetry

/// `GET /`: the original challenge's slow page — `SELECT slow_version()` (seconds of
/// `pg_sleep`) behind the cache with a short TTL, rendered as a small HTML page.
struct SlowPageRoute: Sendable {
    let cache: CacheAside
    let catalog: ProductCatalog
    let ttl: TTLPolicy


    func page(_ request: Request, context: some RequestContext) async -> Response {
        let start = ContinuousClock.now
        let result: CacheResult
        do {
            result = try await cache.fetch(CacheKey.slowPage, ttl: ttl) { [catalog] in Array(try await catalog.slowVersion().utf8) }
        } catch {
            return JSONResponse.error(.serviceUnavailable, "the database is unavailable and the page is not cached; retry when the origin database is back")
        }
        let version = result.value.map { String(buffer: $0) } ?? "unknown"
        let elapsed = (ContinuousClock.now - start) / .milliseconds(1)
        let host = ProcessInfo.processInfo.hostName
        let html = """
            <!doctype html>
            <html><head><meta charset="utf-8"><title>CacheLoad — slow page</title>
            <style>body{font-family:system-ui,sans-serif;margin:3em;color:#222}td{padding:.3em 1em}.v{font-family:monospace}</style>
            </head><body>
            <h1>Database version</h1>
            <table>
            <tr><td>version</td><td class="v">\(version.htmlEscaped)</td></tr>
            <tr><td>host</td><td class="v">\(host.htmlEscaped)</td></tr>
            <tr><td>cache</td><td class="v" id="cache-status">\(result.status.rawValue)</td></tr>
            <tr><td>load time</td><td class="v" id="load-time">\(String(format: "%.3f", elapsed)) ms</td></tr>
            </table>
            <p>The query behind this page sleeps on purpose; the cache keeps its result for \(ttl.seconds) s.</p>
            </body></html>
            """
        return Response(
            status: .ok,
            headers: JSONResponse.cacheHeaders(result, [.contentType: "text/html; charset=utf-8"]),
            body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }
}
