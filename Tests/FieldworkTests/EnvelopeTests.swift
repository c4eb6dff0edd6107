import Foundation
import HTTPTypes
import Testing

/// Bad input gets the envelope with a 4xx, never a 500.
@Suite struct EnvelopeTests {
    static func expectEnvelope(_ reply: Harness.Reply, status: HTTPResponse.Status, code: String) {
        #expect(reply.status == status, "\(reply.text)")
        let error = reply.json["error"] as? [String: Any]
        #expect(error?["code"] as? String == code)
        #expect((error?["message"] as? String)?.isEmpty == false)
        #expect(error?["requestId"] as? String == reply.requestId)
    }

    @Test func malformedWrongTypesUnknownFieldsMissingFields() async throws {
        try await Harness.run { h in
            let org = try await h.makeOrg()
            let admin = try await h.token(org.email(.admin))
            let cases: [(String, String?, String)] = [
                ("/api/v1/auth/login", nil, "{\"email\": "),
                ("/api/v1/auth/login", nil, "{\"email\": 5, \"password\": \"x\"}"),
                ("/api/v1/auth/login", nil, "{\"email\": \"a@b.co\", \"password\": \"x\", \"extra\": true}"),
                ("/api/v1/auth/login", nil, "{\"password\": \"x\"}"),
                ("/api/v1/auth/login", nil, "[]"),
                ("/api/v1/auth/login", nil, "{\"email\": \"a@b.co\", \"password\": \"x\", \"orgId\": \"not-a-uuid\"}"),
                ("/api/v1/members", admin, "{\"email\": \"a@b.co\", \"name\": \"x\", \"role\": \"owner\"}"),
                ("/api/v1/members", admin, "{\"email\": \"not an email\", \"name\": \"x\", \"role\": \"admin\"}"),
                ("/api/v1/auth/refresh", nil, "{\"refreshToken\": null}"),
            ]
            for (path, token, body) in cases {
                let reply = try await h.call(.post, path, token: token, raw: body)
                Self.expectEnvelope(reply, status: .badRequest, code: "VALIDATION_ERROR")
            }
            let badQuery = try await h.call(.get, "/api/v1/audit-logs?limit=abc", token: admin)
            Self.expectEnvelope(badQuery, status: .badRequest, code: "VALIDATION_ERROR")
            let badDate = try await h.call(.get, "/api/v1/audit-logs?from=yesterday", token: admin)
            Self.expectEnvelope(badDate, status: .badRequest, code: "VALIDATION_ERROR")
            // Out-of-range fields are refused, not rolled over (minute 99, February 30th, hour 24).
            for text in ["2024-01-01T12:99:00Z", "2024-02-30T10:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01T10:00:00+25:00"] {
                let reply = try await h.call(.get, "/api/v1/audit-logs?from=\(text.replacingOccurrences(of: "+", with: "%2B"))", token: admin)
                Self.expectEnvelope(reply, status: .badRequest, code: "VALIDATION_ERROR")
            }
            let fine = try await h.call(.get, "/api/v1/audit-logs?from=2024-01-01T10:00:00.123%2B02:00", token: admin)
            #expect(fine.status == .ok)
        }
    }

    @Test func hugeBodiesWrongMediaTypesUnknownRoutes() async throws {
        try await Harness.run { h in
            let huge = "{\"email\": \"" + String(repeating: "a", count: 2 << 20) + "\", \"password\": \"x\"}"
            Self.expectEnvelope(try await h.call(.post, "/api/v1/auth/login", raw: huge), status: .contentTooLarge, code: "PAYLOAD_TOO_LARGE")
            var form = HTTPFields()
            form[.contentType] = "application/x-www-form-urlencoded"
            let wrongType = try await h.call(.post, "/api/v1/auth/login", raw: "email=a&password=b", headers: form)
            Self.expectEnvelope(wrongType, status: .unsupportedMediaType, code: "UNSUPPORTED_MEDIA_TYPE")
            Self.expectEnvelope(try await h.call(.get, "/no-such-thing"), status: .notFound, code: "NOT_FOUND")
            // Under /api/v1 the token is checked first, so unknown routes reveal nothing to anonymous callers.
            Self.expectEnvelope(try await h.call(.get, "/api/v1/no-such-thing"), status: .unauthorized, code: "UNAUTHENTICATED")
            let latin1 = try await h.call(.post, "/api/v1/auth/login", raw: "{\"email\": \"caf\u{e9}\u{ff}@x.test\", \"password\": \"x\"}")
            #expect(latin1.status.code < 500)
        }
    }

    @Test func healthAndDocumentsOutsideTheAPIPrefix() async throws {
        try await Harness.run { h in
            let health = try await h.call(.get, "/health")
            #expect(health.status == .ok)
            #expect(health.json["status"] as? String == "ok")
            let ready = try await h.call(.get, "/ready")
            #expect(ready.status == .ok)
            #expect((ready.json["checks"] as? [String: String]) == ["database": "ok", "queue": "ok", "storage": "ok"])
            let spec = try await h.call(.get, "/openapi.yaml")
            #expect(spec.text.contains("/api/v1/auth/login"))
            _ = try await h.call(.get, "/api/v1/me")
            let metrics = try await h.call(.get, "/metrics")
            #expect(metrics.text.contains("hb_requests{"))
            #expect(metrics.text.contains("http_server_request_duration_bucket{"))
            #expect(metrics.text.contains("process_resident_memory_bytes"))
        }
    }
}
