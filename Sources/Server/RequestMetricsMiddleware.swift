import HTTPTypes
import Hummingbird
import Origins
import Telemetry

/// Records every request's duration by route, status and `X-Cache` result, and the protocol
/// that carried it.
struct RequestMetricsMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext
    let metrics: ServerMetrics
    let cloudWatch: CloudWatchPusher?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        metrics.recordProtocol(context.httpProtocol)
        do {
            let response = try await next(request, context)
            let duration = ContinuousClock.now - start
            let xCache = response.headers[JSONResponse.xCache]
            metrics.recordRequest(route: context.endpointPath ?? "unmatched", status: response.status.code, xCache: xCache, duration: duration)
            if let cloudWatch, xCache != nil {
                cloudWatch.observe(CloudWatchPusher.Name.latency, milliseconds: duration / .milliseconds(1))
            }
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.recordRequest(route: context.endpointPath ?? "unmatched", status: status, xCache: nil, duration: ContinuousClock.now - start)
            throw error
        }
    }
}
