import CacheAside
import HTTPTypes
import Hummingbird
import Origins

/// Guards the routes that change data: `Authorization: Bearer <token>` must match the
/// configured admin token, compared in constant time. Without a configured token the routes
/// are refused, never open.
struct AdminAuthorization<Context: RequestContext>: RouterMiddleware {
    let token: [UInt8]?

    init(token: String?) {
        self.token = token.map { Array($0.utf8) }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token else {
            return JSONResponse.error(.forbidden, "admin endpoints are disabled: start the server with --admin-token to enable them")
        }
        let challenge: HTTPFields = [.wwwAuthenticate: "Bearer"]
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            return JSONResponse.error(.unauthorized, "missing admin token: send Authorization: Bearer <token>", headers: challenge)
        }
        guard Self.constantTimeEqual(Array(header.utf8.dropFirst(7)), token) else {
            return JSONResponse.error(.unauthorized, "wrong admin token", headers: challenge)
        }
        return try await next(request, context)
    }

    /// Compares without stopping at the first difference, so timing does not reveal the prefix.
    static func constantTimeEqual(_ given: [UInt8], _ expected: [UInt8]) -> Bool {
        var difference = UInt8(given.count == expected.count ? 0 : 1)
        for index in expected.indices {
            difference |= expected[index] ^ (index < given.count ? given[index] : 0)
        }
        return difference == 0
    }
}

/// `POST /admin/warm?top=N`: fills the cache with the N most viewed products.
struct WarmRoute: Sendable {
    let cache: CacheAside
    let catalog: ProductCatalog

    func warm(_ request: Request, context: some RequestContext) async -> Response {
        let text = request.uri.queryParameters["top"].map(String.init)
        guard let top = text.map({ Int($0) }) ?? 100, (1...100_000).contains(top) else {
            return JSONResponse.error(.badRequest, "invalid top \"\(text ?? "")\": expected an integer from 1 to 100000")
        }
        do {
            let outcome = try await ProductWarmer(cache: cache, catalog: catalog).warm(top: top)
            // Stored is what Redis confirmed: with Redis down the answer says so instead of "warmed 100".
            let status: HTTPResponse.Status = outcome.stored == outcome.selected ? .ok : .serviceUnavailable
            return JSONResponse.object(status, ["warmed": outcome.stored, "selected": outcome.selected, "top": top])
        } catch {
            return ProductRoutes.originFailure(error).jsonResponse
        }
    }
}

/// Fills the cache with the most viewed products — shared by the admin route and `cacheload warm`.
package struct ProductWarmer: Sendable {
    let cache: CacheAside
    let catalog: ProductCatalog

    package init(cache: CacheAside, catalog: ProductCatalog) {
        self.cache = cache
        self.catalog = catalog
    }

    /// - Returns: how many products were selected, and how many of them Redis stored.
    package func warm(top: Int) async throws -> (selected: Int, stored: Int) {
        let products = try await catalog.mostViewed(limit: top)
        var stored = 0
        for product in products where await cache.store(CacheKey.product(product.id), product.json) {
            stored += 1
        }
        return (products.count, stored)
    }
}
