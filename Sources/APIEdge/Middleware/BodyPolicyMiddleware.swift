import Foundation
import Hummingbird
import NIOCore

/// Bounds request bodies per route. JSON routes: collected up to `jsonLimit` (413 past it) and
/// `application/json` only (415). Upload routes (`uploads`): `multipart/form-data` or `text/csv`,
/// streamed to the handler and cut off with 413 once `uploadLimit` bytes have passed, so an upload
/// is never whole in memory.
struct BodyPolicyMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let jsonLimit: Int
    let uploadLimit: Int
    /// (method, path template) of the routes that take uploads.
    let uploads: RouteTable
    /// Every declared route: a method a path does not declare passes untouched, to be answered 405.
    let declared: RouteTable

    static let uploadTypes: Set<String> = ["multipart/form-data", "text/csv"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method != .get, request.method != .head else { return try await next(request, context) }
        let methods = declared.methods(for: request.uri.path)
        if !methods.isEmpty && !methods.contains(request.method) { return try await next(request, context) }
        let type = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        if uploads.methods(for: request.uri.path).contains(request.method) {
            return try await next(try streamed(request, type: type), context)
        }
        return try await next(try await collected(request, type: type, form: request.uri.path.hasPrefix("/dashboard/")), context)
    }

    /// `form`: the dashboard's HTML forms post `application/x-www-form-urlencoded` (bounded like JSON).
    private func collected(_ request: Request, type: String?, form: Bool = false) async throws -> Request {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > jsonLimit {
            throw APIError.payloadTooLarge(limit: jsonLimit)
        }
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: jsonLimit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError.payloadTooLarge(limit: jsonLimit)
        }
        if buffer.readableBytes > 0 {
            guard let type,
                type == "application/json" || (type.hasPrefix("application/") && type.hasSuffix("+json"))
                    || (form && type == "application/x-www-form-urlencoded")
            else {
                throw APIError.unsupportedMediaType("request bodies must be application/json")
            }
        }
        request.body = .init(buffer: buffer)
        return request
    }

    private func streamed(_ request: Request, type: String?) throws -> Request {
        guard let type, Self.uploadTypes.contains(type) else {
            throw APIError.unsupportedMediaType("uploads must be multipart/form-data or text/csv")
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > uploadLimit {
            throw APIError.payloadTooLarge(limit: uploadLimit)
        }
        var request = request
        let limit = uploadLimit
        let source = request.body
        request.body = RequestBody(asyncSequence: BoundedBody(base: source, limit: limit))
        return request
    }
}

/// A request body that throws 413 once more than `limit` bytes have streamed through.
struct BoundedBody<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element == ByteBuffer {
    typealias Element = ByteBuffer
    let base: Base
    let limit: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let limit: Int
        var seen = 0

        mutating func next() async throws -> ByteBuffer? {
            guard let buffer = try await base.next() else { return nil }
            seen += buffer.readableBytes
            if seen > limit { throw APIError.payloadTooLarge(limit: limit) }
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), limit: limit)
    }
}
