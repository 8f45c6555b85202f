import HTTPTypes
import Hummingbird

/// Records every request's duration by route, status and `X-Cache` result.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            metrics.recordRequest(
                route: context.endpointPath ?? "unmatched", status: response.status.code,
                cache: response.headers[JSONResponse.xCache]?.lowercased() ?? "none",
                duration: ContinuousClock.now - start)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.recordRequest(route: context.endpointPath ?? "unmatched", status: status, cache: "none", duration: ContinuousClock.now - start)
            throw error
        }
    }
}
