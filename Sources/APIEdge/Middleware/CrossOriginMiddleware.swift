import HTTPTypes
import Hummingbird

/// CORS for the browser frontend on its own origin: Hummingbird's `CORSMiddleware` answers for
/// origins on the `CORS_ALLOWED_ORIGINS` allowlist (preflights included); a request from any other
/// origin passes through without CORS headers, so the browser refuses it. `CORSMiddleware` names
/// the exposed headers on preflights only; browsers read them from the actual response, so they
/// are added there too.
struct CrossOriginMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    /// One configured `CORSMiddleware` per allowed origin (its `Access-Control-Allow-Origin` names that origin).
    private let byOrigin: [String: CORSMiddleware<Context>]

    static let exposed = ["X-Request-Id", "Retry-After"]

    init(allowedOrigins: [String]) {
        var byOrigin: [String: CORSMiddleware<Context>] = [:]
        for origin in allowedOrigins {
            byOrigin[origin] = CORSMiddleware(
                allowOrigin: .custom(origin),
                allowHeaders: [.authorization, .contentType, .accept, HTTPField.Name("Idempotency-Key")!, .requestId],
                allowMethods: [.get, .post, .put, .patch, .delete, .head, .options],
                allowCredentials: false,
                exposedHeaders: Self.exposed,
                maxAge: .seconds(3600)
            )
        }
        self.byOrigin = byOrigin
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin], let cors = byOrigin[origin] else {
            return try await next(request, context)
        }
        var response = try await cors.handle(request, context: context, next: next)
        if request.method != .options { response.headers[.accessControlExposeHeaders] = Self.exposed.joined(separator: ", ") }
        return response
    }
}
