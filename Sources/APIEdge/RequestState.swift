import Foundation
import Store

/// Who is calling, as far as the bearer token says (membership is checked by the handler).
enum Caller: Sendable {
    case anonymous
    /// A token was presented but is not acceptable; the reason goes into the 401.
    case invalid(String)
    case member(userId: UUID, orgId: UUID)
    case staff(email: String)
}

extension Caller {
    /// The member a campaign token names: 401 without a usable token, 403 for a staff token.
    func memberToken() throws -> (userId: UUID, orgId: UUID) {
        switch self {
        case .anonymous: throw APIError.unauthenticated("missing bearer token")
        case .invalid(let reason): throw APIError.unauthenticated(reason)
        case .staff: throw APIError.forbidden("staff tokens are not accepted on campaign routes")
        case .member(let userId, let orgId): return (userId, orgId)
        }
    }

    /// The staff email a staff token names: 401 without a usable token, 403 for a campaign token.
    func staffToken() throws -> String {
        switch self {
        case .anonymous: throw APIError.unauthenticated("missing bearer token")
        case .invalid(let reason): throw APIError.unauthenticated(reason)
        case .member: throw APIError.forbidden("internal routes accept only staff tokens")
        case .staff(let email): return email
        }
    }
}

/// Per-request facts the generated handlers read: set by `AuthenticationMiddleware` as a task-local,
/// never passed through globals.
struct RequestState: Sendable {
    var requestId: String
    var clientIP: String
    var caller: Caller

    @TaskLocal static var current = RequestState(requestId: "-", clientIP: "unknown", caller: .anonymous)
}
