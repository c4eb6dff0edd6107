import Hummingbird
import Store

/// While the database probe sees Postgres down, API requests answer 503 at once instead of waiting
/// in the pool's queue for its circuit breaker; a request already running when the database goes is
/// cut short the same way. Health, readiness, metrics and the spec (outside `/api/`) pass through.
struct DatabaseOutageMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let probe: DatabaseProbe

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path.hasPrefix("/api/") else { return try await next(request, context) }
        guard !probe.isDown else { throw APIError.unavailable("the database is unavailable") }
        let probe = probe
        // The handler runs as a child task so that the watcher can cancel it; the group ends before
        // `next` returns, so the closure does not really escape.
        return try await withoutActuallyEscaping(next) { next in
            nonisolated(unsafe) let next = next
            return try await withThrowingTaskGroup(of: Response?.self) { group in
                group.addTask { try await next(request, context) }
                group.addTask {
                    await probe.waitUntilDown()
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let response = first else {
                    throw APIError.unavailable("the database became unavailable during the request")
                }
                return response
            }
        }
    }
}
