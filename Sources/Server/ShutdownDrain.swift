import HTTPTypes
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

/// The drain before a graceful stop, for a server behind a load balancer that learns of a
/// stopping instance only from its health checks.
///
/// A `Service` placed after the server in the `ServiceGroup`, so that it is the first to hear
/// of a graceful shutdown (SIGTERM, Ctrl-C): for ``duration`` it turns `/health` to 503
/// `{"status":"draining"}` and marks every response `Connection: close`, while requests are
/// still served, so the balancer takes the instance out and opens no connection that would then
/// be cut. Only then does the group stop the server, which finishes what is in flight.
///
/// The drain must outlast the balancer's verdict: its health-check interval × unhealthy
/// threshold (HAProxy's `inter` × `fall`, a target group's interval × unhealthy threshold).
package final class ShutdownDrain: Service, Sendable {
    /// How long requests are still served after the shutdown begins; zero stops at once.
    package let duration: Duration
    private let logger: Logger
    private let draining = Atomic<Bool>(false)

    package init(duration: Duration, logger: Logger = Logger(label: "cacheload.serve")) {
        self.duration = duration
        self.logger = logger
    }

    /// Whether the drain has begun: `/health` answers 503 and connections close after each answer.
    package var isDraining: Bool { draining.load(ordering: .relaxed) }

    /// Waits for the graceful shutdown, then drains for ``duration`` (cut short by cancellation).
    package func run() async throws {
        // Returns when the group begins its graceful shutdown; throws when it is cancelled instead.
        do { try await gracefulShutdown() } catch { return }
        guard duration > .zero else { return }
        draining.store(true, ordering: .relaxed)
        logger.notice("draining: /health answers 503 and requests are still served for \(duration), then the server stops")
        try? await Task.sleep(for: duration)
    }
}

/// While the server drains, every answer says `Connection: close`: a balancer or client closes
/// its connection after it instead of reusing one the server will soon stop reading.
struct DrainMiddleware<Context: RequestContext>: RouterMiddleware {
    let drain: ShutdownDrain

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        if drain.isDraining { response.headers[.connection] = "close" }
        return response
    }
}
