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

/// Per-request facts the generated handlers read: set by `RequestMiddleware` as a task-local,
/// never passed through globals.
struct RequestState: Sendable {
    var requestId: String
    var clientIP: String
    var caller: Caller

    @TaskLocal static var current = RequestState(requestId: "-", clientIP: "unknown", caller: .anonymous)
}
