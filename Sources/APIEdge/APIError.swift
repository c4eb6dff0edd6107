import Foundation
import HTTPTypes
import Hummingbird
import Store

/// An error with its place in the contract's envelope. Handlers throw these;
/// `ErrorEnvelopeMiddleware` renders every error, of whatever type, in one place.
struct APIError: ContractError {
    let status: HTTPResponse.Status
    let code: String
    let message: String
    var httpStatus: Int { status.code }
    var details: [(path: String, message: String)] = []
    var headers: HTTPFields = [:]

    static func validation(_ message: String, details: [(path: String, message: String)] = []) -> APIError {
        APIError(status: .badRequest, code: "VALIDATION_ERROR", message: message, details: details)
    }
    static func unauthenticated(_ message: String) -> APIError {
        APIError(status: .unauthorized, code: "UNAUTHENTICATED", message: message)
    }
    static func forbidden(_ message: String) -> APIError { APIError(status: .forbidden, code: "FORBIDDEN", message: message) }
    static func notFound(_ message: String) -> APIError { APIError(status: .notFound, code: "NOT_FOUND", message: message) }
    static func conflict(_ message: String) -> APIError { APIError(status: .conflict, code: "CONFLICT", message: message) }
    static func unprocessable(_ message: String) -> APIError {
        APIError(status: .unprocessableContent, code: "UNPROCESSABLE", message: message)
    }
    static func payloadTooLarge(limit: Int) -> APIError {
        APIError(status: .contentTooLarge, code: "PAYLOAD_TOO_LARGE", message: "the request body is larger than \(limit) bytes")
    }
    static func unsupportedMediaType(_ message: String) -> APIError {
        APIError(status: .unsupportedMediaType, code: "UNSUPPORTED_MEDIA_TYPE", message: message)
    }
    static func rateLimited(retryAfter seconds: Int) -> APIError {
        var headers = HTTPFields()
        headers[.retryAfter] = String(seconds)
        return APIError(
            status: .tooManyRequests,
            code: "RATE_LIMITED",
            message: "too many failed sign-ins; try again in \(seconds) s",
            headers: headers
        )
    }
    static func unavailable(_ message: String) -> APIError {
        APIError(status: .serviceUnavailable, code: "UNAVAILABLE", message: message)
    }
    static let `internal` = APIError(status: .internalServerError, code: "INTERNAL", message: "internal error")

    /// The envelope body.
    func body(requestId: String) -> ByteBuffer {
        struct Detail: Encodable {
            let path: String
            let message: String
        }
        struct Inner: Encodable {
            let code: String
            let message: String
            let details: [Detail]?
            let requestId: String
        }
        struct Envelope: Encodable { let error: Inner }
        let envelope = Envelope(
            error: Inner(
                code: code,
                message: message,
                details: details.isEmpty ? nil : details.map { Detail(path: $0.path, message: $0.message) },
                requestId: requestId
            )
        )
        return ByteBuffer(bytes: (try? JSONEncoder().encode(envelope)) ?? Data())
    }

    func response(requestId: String) -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: body(requestId: requestId)))
    }
}
