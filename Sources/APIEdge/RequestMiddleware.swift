import Actors
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import OpenAPIRuntime
import PostgresNIO
import Telemetry

extension HTTPField.Name {
    static let requestId = HTTPField.Name("X-Request-Id")!
}

/// The outermost piece of every request: settles the request id, reads the bearer token into the
/// task-local `RequestState`, bounds and type-checks JSON bodies, turns every error into the
/// contract's envelope, echoes `X-Request-Id`, and writes the one log line per request.
struct RequestMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let tokens: AccessTokens
    let maxJSONBodyBytes: Int
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let requestId = Self.saneRequestId(request.headers[.requestId]) ?? UUID().uuidString.lowercased()
        var caller = Caller.anonymous
        if let token = bearer(request) { caller = await tokens.caller(fromBearer: token) }
        let state = RequestState(requestId: requestId, clientIP: context.remoteAddress?.ipAddress ?? "unknown", caller: caller)
        var logContext = LogContext(requestId: requestId)
        switch caller {
        case .member(let user, let org):
            logContext.userId = user.uuidString.lowercased()
            logContext.orgId = org.uuidString.lowercased()
        case .staff(let email): logContext.userId = "staff:\(email)"
        case .anonymous, .invalid: break
        }
        return await LogContext.$current.withValue(logContext) {
            var response: Response
            do {
                try Self.checkTokenKind(caller, path: request.uri.path)
                let bounded = try await boundBody(request)
                response = try await RequestState.$current.withValue(state) { try await next(bounded, context) }
            } catch {
                response = render(error).response(requestId: requestId)
            }
            response.headers[.requestId] = requestId
            let elapsed = ContinuousClock.now - start
            let millis = Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
            logger.info(
                "request",
                metadata: [
                    "method": .string(request.method.rawValue),
                    "route": .string(context.endpointPath ?? "unmatched"),
                    "status": .stringConvertible(response.status.code),
                    "duration_ms": .string(String(format: "%.2f", millis)),
                ])
            return response
        }
    }

    static let publicPaths: Set<String> = ["/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/internal/auth/login"]

    /// Token kind before anything else, so a wrong or missing token is never answered with a
    /// body-validation error: `/api/v1/internal/*` takes staff tokens only, every other
    /// `/api/v1` route campaign tokens only. Roles are checked by the handlers.
    static func checkTokenKind(_ caller: Caller, path: String) throws {
        guard path.hasPrefix("/api/v1/"), !publicPaths.contains(path) else { return }
        if path.hasPrefix("/api/v1/internal/") {
            _ = try caller.staffToken()
        } else {
            _ = try caller.memberToken()
        }
    }

    /// `[A-Za-z0-9._-]`, at most 128 characters; anything else is replaced.
    static func saneRequestId(_ value: String?) -> String? {
        guard let value, !value.isEmpty, value.utf8.count <= 128,
            value.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 46 || $0 == 95 || $0 == 45 })
        else { return nil }
        return value
    }

    private func bearer(_ request: Request) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return "" }
        return String(parts[1]).trimmingCharacters(in: .whitespaces)
    }

    /// Collects a JSON body up to the limit (413 past it) and refuses non-JSON bodies (415).
    private func boundBody(_ request: Request) async throws -> Request {
        guard request.method != .get, request.method != .head else { return request }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxJSONBodyBytes {
            throw APIError.payloadTooLarge(limit: maxJSONBodyBytes)
        }
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maxJSONBodyBytes)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError.payloadTooLarge(limit: maxJSONBodyBytes)
        }
        if buffer.readableBytes > 0 {
            let type = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
            guard let type, type == "application/json" || (type.hasPrefix("application/") && type.hasSuffix("+json")) else {
                throw APIError.unsupportedMediaType("request bodies must be application/json")
            }
        }
        request.body = .init(buffer: buffer)
        return request
    }

    /// Maps any error to the envelope. Handler errors arrive wrapped in the runtime's `ServerError`.
    func render(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as ServerError:
            if let api = error.underlyingError as? APIError { return api }
            if let decoding = error.underlyingError as? DecodingError { return Self.validation(decoding) }
            if error.operationInput == nil {
                // The runtime could not build the operation's input: a bad query, header or body.
                return .validation("invalid request: \(error.causeDescription)")
            }
            return render(error.underlyingError)
        case let error as HTTPError:
            switch error.status {
            case .notFound: return .notFound("no such route")
            case .methodNotAllowed: return APIError(status: .methodNotAllowed, code: "VALIDATION_ERROR", message: "method not allowed")
            case .contentTooLarge: return .payloadTooLarge(limit: maxJSONBodyBytes)
            default:
                return APIError(status: error.status, code: error.status.code < 500 ? "VALIDATION_ERROR" : "INTERNAL", message: error.body ?? error.status.reasonPhrase)
            }
        case let error as PSQLError where ["22021", "22P05"].contains(error.serverInfo?[.sqlState]):
            // A value Postgres text cannot hold (a NUL character) that no validator caught.
            logger.warning("text value refused by the database", metadata: ["sqlstate": .string(error.serverInfo?[.sqlState] ?? "")])
            return .validation("a text value holds a character that cannot be stored (NUL)")
        case let error as PSQLError where error.serverInfo == nil:
            logger.error("database unreachable", metadata: ["error": .string(String(describing: error.code))])
            return .unavailable("the database is unavailable")
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
