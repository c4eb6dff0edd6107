import Foundation
import HTTPTypes
import Hummingbird

/// Undoes the generated server's percent-encoding of `Location` and `Content-Disposition`.
///
/// swift-openapi-runtime writes every response header as a URI component, escaping all but the unreserved characters,
/// so a presigned URL or a `filename*=UTF-8''…` would reach the client escaped twice. The escaping covers `%` too, so
/// one decode gives back exactly what the handler set.
struct LiteralHeadersMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    static let names: [HTTPField.Name] = [.location, .contentDisposition]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        for name in Self.names {
            if let value = response.headers[name], value.contains("%"), let literal = value.removingPercentEncoding {
                response.headers[name] = literal
            }
        }
        return response
    }
}
