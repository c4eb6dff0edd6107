import HTTPTypes
import Hummingbird

/// CORS for the browser frontend on its own origin: Hummingbird's `CORSMiddleware` answers for
/// origins on the `CORS_ALLOWED_ORIGINS` allowlist (preflights included); a request from any other
/// origin passes through without CORS headers, so the browser refuses it.
struct CrossOriginMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    /// One configured `CORSMiddleware` per allowed origin (its `Access-Control-Allow-Origin` names that origin).
    private let byOrigin: [String: CORSMiddleware<Context>]

    init(allowedOrigins: [String]) {
        var byOrigin: [String: CORSMiddleware<Context>] = [:]
        for origin in allowedOrigins {
            byOrigin[origin] = CORSMiddleware(
                allowOrigin: .custom(origin),
                allowHeaders: [.authorization, .contentType, .accept, HTTPField.Name("Idempotency-Key")!, .requestId],
                allowMethods: [.get, .post, .put, .patch, .delete, .head, .options],
                allowCredentials: false,
                exposedHeaders: ["X-Request-Id", "Retry-After"],
                maxAge: .seconds(3600))
        }
        self.byOrigin = byOrigin
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin], let cors = byOrigin[origin] else {
            return try await next(request, context)
        }
        return try await cors.handle(request, context: context, next: next)
    }
}
