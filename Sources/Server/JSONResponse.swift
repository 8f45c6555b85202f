import CacheAside
import Foundation
import HTTPTypes
import Hummingbird

/// Small builders for the JSON answers of the API, so every error has the same shape:
/// `{"error":"what went wrong and what to do"}`.
enum JSONResponse {
    static let xCache = HTTPField.Name("X-Cache")!
    static let xCacheTier = HTTPField.Name("X-Cache-Tier")!

    /// `Content-Type: application/json`, `X-Cache` and `X-Cache-Tier` of a JSON answer, made
    /// once for every combination: the hit path copies a prebuilt value instead of building one.
    static func jsonCacheHeaders(_ result: CacheResult) -> HTTPFields {
        let row = cacheStatuses.firstIndex(of: result.status) ?? 0
        let column = cacheTiers.firstIndex(of: result.tier) ?? 0
        return prebuiltJSONCacheHeaders[row * cacheTiers.count + column]
    }

    private static let cacheStatuses: [CacheStatus] = [.hit, .miss, .bypass, .stale]
    private static let cacheTiers: [CacheTier?] = [nil, .near, .redis]
    private static let prebuiltJSONCacheHeaders: [HTTPFields] = cacheStatuses.flatMap { status in
        cacheTiers.map { tier in
            cacheHeaders(CacheResult(value: nil, status: status, tier: tier), [.contentType: "application/json"])
        }
    }

    /// `X-Cache`, and for an answer a cache held `X-Cache-Tier` (`near` or `redis`).
    static func cacheHeaders(_ result: CacheResult, _ more: HTTPFields = [:]) -> HTTPFields {
        var fields = more
        fields[xCache] = result.status.rawValue
        if let tier = result.tier { fields[xCacheTier] = tier.rawValue }
        return fields
    }

    static func error(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) -> Response {
        object(status, ["error": message], headers: headers)
    }

    static func object(_ status: HTTPResponse.Status, _ value: [String: any Sendable], headers: HTTPFields = [:]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return raw(status, ByteBuffer(bytes: data), headers: headers)
    }

    static func raw(_ status: HTTPResponse.Status, _ body: ByteBuffer, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: body))
    }
}

/// An answer that is an error, thrown by a route and rendered by Hummingbird as
/// `{"error": "what went wrong and what to do"}` with its status (the metrics middleware records
/// the status of thrown errors too).
struct APIError: HTTPResponseError {
    let status: HTTPResponse.Status
    let message: String
    let headers: HTTPFields

    init(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.message = message
        self.headers = headers
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        jsonResponse
    }

    var jsonResponse: Response {
        JSONResponse.error(status, message, headers: headers)
    }
}
