import Hummingbird
import Logging

/// Writes one JSON line per request (method, route template, status, duration), with the
/// caller's user and org as authentication found them.
struct AccessLogMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var status = "500"
        defer {
            let elapsed = ContinuousClock.now - start
            let millis = Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
            var metadata: Logger.Metadata = [
                "method": .string(request.method.rawValue),
                "route": .string(context.endpointPath ?? "unmatched"),
                "status": .string(status),
                "duration_ms": .string(String(format: "%.2f", millis)),
            ]
            let identity = context.identity.current
            if let userId = identity.userId { metadata["user_id"] = .string(userId) }
            if let orgId = identity.orgId { metadata["org_id"] = .string(orgId) }
            logger.info("request", metadata: metadata)
        }
        let response = try await next(request, context)
        status = String(response.status.code)
        return response
    }
}
