import HTTPTypes
import Hummingbird
import Origins
import Telemetry

/// Records every request's duration by route, status and `X-Cache` result.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics
    let cloudWatch: CloudWatchPusher?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            let duration = ContinuousClock.now - start
            metrics.recordRequest(
                route: context.endpointPath ?? "unmatched", status: response.status.code,
                cache: response.headers[JSONResponse.xCache]?.lowercased() ?? "none", duration: duration)
            if let cloudWatch, response.headers[JSONResponse.xCache] != nil {
                cloudWatch.observe(CloudWatchPusher.Name.latency, milliseconds: duration / .milliseconds(1))
            }
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.recordRequest(route: context.endpointPath ?? "unmatched", status: status, cache: "none", duration: ContinuousClock.now - start)
            throw error
        }
    }
}
