import Foundation
import HTTPTypes
import Hummingbird
import Telemetry

extension HTTPField.Name {
    static let requestId = HTTPField.Name("X-Request-Id")!
}

/// First of every request: settles its id (the client's, when sane, or a new one), puts it in the
/// task-local `LogContext` for every line logged inside, and echoes it as `X-Request-Id`.
struct RequestIdMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let requestId = Self.saneRequestId(request.headers[.requestId]) ?? UUID().uuidString.lowercased()
        var response = try await LogContext.$current.withValue(LogContext(requestId: requestId)) {
            try await next(request, context)
        }
        response.headers[.requestId] = requestId
        return response
    }

    /// `[A-Za-z0-9._-]`, at most 128 characters; anything else is replaced.
    static func saneRequestId(_ value: String?) -> String? {
        guard let value, !value.isEmpty, value.utf8.count <= 128,
            value.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 46 || $0 == 95 || $0 == 45 })
        else { return nil }
        return value
    }
}
