import Hummingbird
import ServiceLifecycle
import Synchronization
import Telemetry

/// Whether this process has begun to stop (SIGTERM or SIGINT arrived), and the requests still
/// being served.
public final class ShutdownState: Sendable {
    private struct State {
        var drainingSince: ContinuousClock.Instant?
        var inFlight = 0
    }

    private let state = Mutex(State())

    /// The process's one state, set by the orchestrator's signal watcher.
    public static let process = ShutdownState()

    /// True from the first stop signal on.
    public var isDraining: Bool { state.withLock { $0.drainingSince != nil } }

    /// Marks the process as stopping (the first call counts).
    public func beginDraining() { state.withLock { $0.drainingSince = $0.drainingSince ?? .now } }

    /// Counts a request in, unless the process is stopping.
    func admit() -> Bool {
        state.withLock { state in
            guard state.drainingSince == nil else { return false }
            state.inFlight += 1
            return true
        }
    }

    func finished() { state.withLock { $0.inFlight -= 1 } }

    /// Waits until no admitted request is left, or until `grace` after the stop began.
    public func waitForRequests(grace: Duration) async {
        beginDraining()
        while true {
            let (left, since) = state.withLock { ($0.inFlight, $0.drainingSince ?? .now) }
            if left == 0 || ContinuousClock.now >= since + grace { return }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// While the process stops, the listener stays up and every request but the liveness probe and
/// the metrics answers 503 `UNAVAILABLE`: a load balancer or client retries elsewhere instead of
/// meeting a closed port or a half-stopped process. The server stops last (`HTTPDrainService`).
struct ShutdownMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let state: ShutdownState

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if ["/health", "/metrics"].contains(request.uri.path) { return try await next(request, context) }
        guard state.admit() else {
            var response = APIError.unavailable("the server is shutting down; retry on another instance")
                .response(requestId: LogContext.current.requestId ?? "-")
            response.headers[.connection] = "close"
            return response
        }
        defer { state.finished() }
        return try await next(request, context)
    }
}

/// Stands between the API's listener and what its requests use, in the service group's stop order
/// (`apiServices`): when the process stops, it marks it draining (new requests answer 503) and
/// waits for the requests already admitted (within the grace period) before the database client
/// stops; the listener closes after that, as the process ends.
public struct HTTPDrainService: Service {
    let state: ShutdownState
    let grace: Duration

    public init(state: ShutdownState = .process, grace: Duration) {
        self.state = state
        self.grace = grace
    }

    public func run() async throws {
        try? await gracefulShutdown()
        await state.waitForRequests(grace: grace)
    }
}
