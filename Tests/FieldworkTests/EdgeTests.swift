import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

@testable import APIEdge

/// The middleware around every route: CORS for the browser frontend, 405 for undeclared methods,
/// the per-route body policy.
@Suite struct EdgeTests {
    static let appOrigin = "http://127.0.0.1:5173"

    static func originHeaders(_ origin: String, preflight method: String? = nil) -> HTTPFields {
        var headers = HTTPFields()
        headers[.origin] = origin
        if let method {
            headers[.accessControlRequestMethod] = method
            headers[.accessControlRequestHeaders] = "authorization, content-type, idempotency-key, x-request-id"
        }
        return headers
    }

    @Test func corsAnswersAllowedOriginsOnly() async throws {
        try await Harness.run({ $0.corsAllowedOrigins = [Self.appOrigin, "https://app.example.org"] }) { h in
            let preflight = try await h.call(.options, "/api/v1/auth/login", headers: Self.originHeaders(Self.appOrigin, preflight: "POST"))
            #expect(preflight.status == .noContent)
            #expect(preflight.headers[.accessControlAllowOrigin] == Self.appOrigin)
            let allowedHeaders = preflight.headers[.accessControlAllowHeaders]?.lowercased() ?? ""
            for name in ["authorization", "content-type", "idempotency-key", "x-request-id"] {
                #expect(allowedHeaders.contains(name), "preflight does not allow \(name)")
            }
            #expect(preflight.headers[.accessControlAllowMethods]?.contains("PATCH") == true)
            #expect(Int(preflight.headers[.accessControlMaxAge] ?? "") ?? 0 >= 600)

            let org = try await h.makeOrg()
            let login = try await h.call(
                .post,
                "/api/v1/auth/login",
                json: ["email": org.email(.admin), "password": TestEnv.password],
                headers: Self.originHeaders(Self.appOrigin)
            )
            #expect(login.status == .ok)
            #expect(login.headers[.accessControlAllowOrigin] == Self.appOrigin)
            let exposed = login.headers[.accessControlExposeHeaders]?.lowercased() ?? ""
            #expect(exposed.contains("x-request-id") && exposed.contains("retry-after"))

            let failed = try await h.call(.get, "/api/v1/me", headers: Self.originHeaders(Self.appOrigin))
            #expect(failed.status == .unauthorized)
            #expect(failed.headers[.accessControlAllowOrigin] == Self.appOrigin, "error answers carry CORS headers too")

            let stranger = "http://evil.example"
            let refused = try await h.call(.options, "/api/v1/auth/login", headers: Self.originHeaders(stranger, preflight: "POST"))
            #expect(refused.headers[.accessControlAllowOrigin] == nil)
            #expect(refused.status != .noContent)
            let plain = try await h.call(.get, "/health", headers: Self.originHeaders(stranger))
            #expect(plain.status == .ok)
            #expect(plain.headers[.accessControlAllowOrigin] == nil)
        }
    }

    @Test func noOriginIsAllowedByDefault() async throws {
        try await Harness.run { h in
            let preflight = try await h.call(.options, "/api/v1/auth/login", headers: Self.originHeaders(Self.appOrigin, preflight: "POST"))
            #expect(preflight.headers[.accessControlAllowOrigin] == nil)
        }
    }

    @Test func undeclaredMethodsAre405WithAllow() async throws {
        try await Harness.run { h in
            let org = try await h.makeOrg()
            let admin = try await h.token(org.email(.admin))
            let trace = try await h.call(.trace, "/api/v1/voters", token: admin)
            #expect(trace.status == .methodNotAllowed)
            #expect(Set((trace.headers[.allow] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }) == ["GET", "POST"])
            #expect(trace.errorCode != nil)
            let put = try await h.call(.put, "/api/v1/voters/\(UUID().uuidString.lowercased())", token: admin, json: [:])
            #expect(put.status == .methodNotAllowed)
            #expect(Set((put.headers[.allow] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }) == ["GET", "PATCH"])
            let delete = try await h.call(.delete, "/health")
            #expect(delete.status == .methodNotAllowed)
            #expect(delete.headers[.allow] == "GET")
            #expect(try await h.call(.get, "/api/v1/no-such-thing", token: admin).status == .notFound)
            // A literal segment wins over a parameter, as in the router: `/jobs/retry` is not `/jobs/{jobId}`.
            let staff = try await h.staffToken()
            let retry = try await h.call(.get, "/api/v1/internal/jobs/retry", token: staff)
            #expect(retry.status == .methodNotAllowed)
            #expect(retry.headers[.allow] == "POST")
        }
    }

    /// A router with the error envelope and the body policy around one upload route that counts
    /// the bytes it streams, and one JSON route.
    static func uploadRouter(limit: Int) -> Router<AppRequestContext> {
        var uploads = RouteTable()
        uploads.add(path: "/upload", method: .post)
        let router = Router(context: AppRequestContext.self)
        router.add(middleware: RequestIdMiddleware())
        router.add(middleware: ErrorEnvelopeMiddleware(routes: uploads, maxJSONBodyBytes: 1024, logger: Logger(label: "test")))
        router.add(middleware: BodyPolicyMiddleware(jsonLimit: 1024, uploadLimit: limit, uploads: uploads, declared: uploads))
        router.post("/upload") { request, _ -> String in
            var total = 0
            for try await buffer in request.body { total += buffer.readableBytes }
            return String(total)
        }
        router.post("/json") { request, _ -> String in String(try await request.body.collect(upTo: .max).readableBytes) }
        return router
    }

    @Test func uploadRoutesStreamUpToTheirLimit() async throws {
        let app = Application(router: Self.uploadRouter(limit: 64 * 1024))
        try await app.test(.live) { client in
            var csv = HTTPFields()
            csv[.contentType] = "text/csv; charset=utf-8"
            let body = ByteBuffer(repeating: UInt8(ascii: "a"), count: 60 * 1024)
            try await client.execute(uri: "/upload", method: .post, headers: csv, body: body) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == String(60 * 1024), "an upload larger than the JSON limit streams through")
            }
            let tooBig = ByteBuffer(repeating: UInt8(ascii: "a"), count: 65 * 1024)
            try await client.execute(uri: "/upload", method: .post, headers: csv, body: tooBig) { response in
                #expect(response.status == .contentTooLarge)
                #expect(String(buffer: response.body).contains("PAYLOAD_TOO_LARGE"))
            }
            var json = HTTPFields()
            json[.contentType] = "application/json"
            try await client.execute(uri: "/upload", method: .post, headers: json, body: ByteBuffer(string: "{}")) { response in
                #expect(response.status == .unsupportedMediaType)
            }
            try await client.execute(uri: "/json", method: .post, headers: csv, body: ByteBuffer(string: "a,b")) { response in
                #expect(response.status == .unsupportedMediaType, "JSON routes take JSON only")
            }
            try await client.execute(uri: "/json", method: .post, headers: json, body: ByteBuffer(repeating: 32, count: 2048)) { response in
                #expect(response.status == .contentTooLarge, "JSON routes keep their own, smaller limit")
            }
        }
    }

    @Test func aBodyWithoutLengthIsCutOffAtTheLimit() async throws {
        let chunks = (0..<10).map { _ in ByteBuffer(repeating: 1, count: 1000) }
        let bounded = BoundedBody(
            base: AsyncStream { continuation in
                for chunk in chunks { continuation.yield(chunk) }
                continuation.finish()
            },
            limit: 4500
        )
        var seen = 0
        await #expect(throws: APIError.self) {
            for try await buffer in bounded { seen += buffer.readableBytes }
        }
        #expect(seen == 4000, "the chunk that crosses the limit is never handed on")
    }
}
