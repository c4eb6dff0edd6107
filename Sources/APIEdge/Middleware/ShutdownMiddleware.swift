import Hummingbird
import Synchronization
import Telemetry

/// Whether this process has begun to stop (SIGTERM or SIGINT arrived).
public final class ShutdownState: Sendable {
    private let draining = Mutex(false)

    /// The process's one state, set by the orchestrator's signal watcher.
    public static let process = ShutdownState()

    /// True from the first stop signal on.
    public var isDraining: Bool { draining.withLock { $0 } }

    /// Marks the process as stopping.
    public func beginDraining() { draining.withLock { $0 = true } }
}

/// While the process stops, the listener stays up (the server is the last service to stop) and
/// every request but the liveness probe and the metrics answers 503 `UNAVAILABLE`: a load balancer
/// or client retries elsewhere instead of meeting a closed port or a half-stopped process.
struct ShutdownMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let state: ShutdownState

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard state.isDraining, !["/health", "/metrics"].contains(request.uri.path) else { return try await next(request, context) }
        var response = APIError.unavailable("the server is shutting down; retry on another instance")
            .response(requestId: LogContext.current.requestId ?? "-")
        response.headers[.connection] = "close"
        return response
    }
}
