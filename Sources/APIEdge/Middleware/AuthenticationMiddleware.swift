import Foundation
import Hummingbird
import Telemetry

/// Reads the bearer token into the task-local `RequestState` (and the log context), then checks
/// the token's kind before anything else, so a wrong or missing token is never answered with a
/// body-validation error: `/api/v1/internal/*` takes staff tokens only, every other `/api/v1`
/// route campaign tokens only. Roles are checked by the handlers.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let tokens: AccessTokens

    static let publicPaths: Set<String> = ["/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/internal/auth/login"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var caller = Caller.anonymous
        if let token = Self.bearer(request) { caller = await tokens.caller(fromBearer: token) }
        var log = LogContext.current
        switch caller {
        case .member(let user, let org):
            log.userId = user.uuidString.lowercased()
            log.orgId = org.uuidString.lowercased()
        case .staff(let email): log.userId = "staff:\(email)"
        case .anonymous, .invalid: break
        }
        context.identity.record(userId: log.userId, orgId: log.orgId)
        let state = RequestState(requestId: log.requestId ?? "-", clientIP: context.remoteAddress?.ipAddress ?? "unknown", caller: caller)
        return try await LogContext.$current.withValue(log) {
            try Self.checkTokenKind(caller, path: request.uri.path)
            return try await RequestState.$current.withValue(state) { try await next(request, context) }
        }
    }

    static func checkTokenKind(_ caller: Caller, path: String) throws {
        guard path.hasPrefix("/api/v1/"), !publicPaths.contains(path) else { return }
        if path.hasPrefix("/api/v1/internal/") {
            _ = try caller.staffToken()
        } else {
            _ = try caller.memberToken()
        }
    }

    /// The token of an `Authorization: Bearer …` header; "" for another scheme (an invalid token).
    static func bearer(_ request: Request) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return "" }
        return String(parts[1]).trimmingCharacters(in: .whitespaces)
    }
}
