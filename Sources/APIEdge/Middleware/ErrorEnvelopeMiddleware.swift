import Actors
import Foundation
import Hummingbird
import Logging
import OpenAPIRuntime
import PostgresNIO
import Store
import Telemetry

/// Turns every error thrown inside into the contract's envelope, in one place: errors that know
/// their status (`ContractError`: `APIError`, the store's domain errors), the OpenAPI runtime's
/// decoding errors, the router's 404 (405 with `Allow` when the path exists with other methods),
/// and Postgres or Redis out of reach (503, never 500). Anything else is a logged 500.
struct ErrorEnvelopeMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let routes: RouteTable
    let maxJSONBodyBytes: Int
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            var rendered = render(error)
            if rendered.status == .notFound, context.endpointPath == nil || context.endpointPath == "NotFound" {
                rendered = Self.methodNotAllowed(request, routes) ?? rendered
            }
            return rendered.response(requestId: LogContext.current.requestId ?? "-")
        }
    }

    /// 405 naming the declared methods when the router found no route for this method but the path exists.
    static func methodNotAllowed(_ request: Request, _ routes: RouteTable) -> APIError? {
        let allowed = routes.methods(for: request.uri.path)
        guard !allowed.isEmpty, !allowed.contains(request.method) else { return nil }
        var error = APIError(
            status: .methodNotAllowed,
            code: "VALIDATION_ERROR",
            message: "\(request.method.rawValue) is not allowed here; allowed: \(allowed.map(\.rawValue).joined(separator: ", "))"
        )
        error.headers[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
        return error
    }

    /// Maps any error to the envelope. Handler errors arrive wrapped in the runtime's `ServerError`,
    /// unwrapped here (transactions rethrow the body's own error: `PostgresClient.inTransaction`).
    func render(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as any ContractError:
            return APIError(
                status: .init(code: error.httpStatus),
                code: error.code,
                message: error.message
            )
        case let error as ServerError:
            if let decoding = error.underlyingError as? DecodingError { return Self.validation(decoding) }
            if error.operationInput == nil, !(error.underlyingError is any ContractError) {
                // The runtime could not build the operation's input: a bad query, header or body.
                return .validation("invalid request: \(error.causeDescription)")
            }
            return render(error.underlyingError)
        case let error as HTTPError:
            return render(httpError: error)
        case _ where DatabaseOutage.matches(error):
            logger.error("database unreachable", metadata: ["error": .string("\(error)")])
            return .unavailable("the database is unavailable")
        case let error as PSQLError:
            return render(database: error)
        case let error as RedisError:
            if case .connection(let message) = error {
                logger.error("redis unreachable", metadata: ["error": .string(message)])
                return .unavailable("the queue is unavailable")
            }
            fallthrough
        default:
            logger.error("unhandled error", metadata: ["error": .string(String(reflecting: error))])
            return .internal
        }
    }

    func render(httpError error: HTTPError) -> APIError {
        switch error.status {
        case .notFound: return .notFound("no such route")
        case .contentTooLarge: return .payloadTooLarge(limit: maxJSONBodyBytes)
        default:
            return APIError(
                status: error.status,
                code: error.status.code < 500 ? "VALIDATION_ERROR" : "INTERNAL",
                message: error.body ?? error.status.reasonPhrase
            )
        }
    }

    /// Postgres errors of a statement that no repository mapped: what a validator missed → 4xx.
    func render(database error: PSQLError) -> APIError {
        let state = error.serverInfo?[.sqlState]
        switch state {
        case "22021"?, "22P05"?:
            // A value Postgres text cannot hold (a NUL character) that no validator caught.
            logger.warning("text value refused by the database", metadata: ["sqlstate": .string(state ?? "")])
            return .validation("a text value holds a character that cannot be stored (NUL)")
        case "23503"?:
            logger.warning("foreign key violation no repository mapped", metadata: ["constraint": .string(error.serverInfo?[.constraintName] ?? "")])
            return .conflict("a record this request refers to was removed meanwhile")
        case "40001"?, "40P01"?, "55P03"?:
            var busy = APIError.unavailable("the request collided with a concurrent change; retry it")
            busy.headers[.retryAfter] = "1"
            return busy
        default:
            logger.error("unhandled database error", metadata: ["sqlstate": .string(state ?? ""), "error": .string(String(reflecting: error))])
            return .internal
        }
    }

    static func validation(_ error: DecodingError) -> APIError {
        func path(_ context: DecodingError.Context) -> String {
            let joined = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return joined.isEmpty ? "body" : joined
        }
        switch error {
        case .typeMismatch(let type, let context):
            return .validation("\(path(context)): expected \(type)", details: [(path(context), "expected \(type)")])
        case .valueNotFound(_, let context):
            return .validation("\(path(context)): value is required", details: [(path(context), "value is required")])
        case .keyNotFound(let key, let context):
            let field = path(context) == "body" ? key.stringValue : "\(path(context)).\(key.stringValue)"
            return .validation("\(field): field is required", details: [(field, "field is required")])
        case .dataCorrupted(let context):
            return .validation("\(path(context)): \(context.debugDescription)", details: [(path(context), context.debugDescription)])
        @unknown default:
            return .validation("malformed request")
        }
    }
}
