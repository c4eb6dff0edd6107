import Foundation
import HTTPTypes
import Testing

@Suite struct TelemetryTests {
    @Test func requestIdsAreEchoedAndLogged() async throws {
        try await Harness.run { h in
            var sane = HTTPFields()
            sane[HTTPField.Name("X-Request-Id")!] = "client-id.123_abc"
            let echoed = try await h.call(.get, "/health", headers: sane)
            #expect(echoed.requestId == "client-id.123_abc")
            var insane = HTTPFields()
            insane[HTTPField.Name("X-Request-Id")!] = "bad id with spaces; drop table"
            let replaced = try await h.call(.get, "/nope", headers: insane)
            #expect(replaced.requestId != nil && replaced.requestId != "bad id with spaces; drop table")
            #expect(replaced.status == .notFound)

            let org = try await h.makeOrg()
            let token = try await h.token(org.email(.admin))
            var mine = HTTPFields()
            mine[HTTPField.Name("X-Request-Id")!] = "member-call-\(org.tag)"
            _ = try await h.call(.get, "/api/v1/members/\(org.userId(.admin))", token: token, headers: mine)
            _ = try await h.call(.patch, "/api/v1/members/\(org.userId(.canvasser))", token: token, json: ["role": "canvasser"], headers: mine)
            let lines = h.logs.lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String] }
            let line = lines.first { $0["request_id"] == "member-call-\(org.tag)" && $0["method"] == "PATCH" }
            #expect(line?["route"] == "/api/v1/members/{userId}")
            #expect(line?["status"] == "200")
            #expect(line?["org_id"] == org.idString)
            #expect(line?["user_id"] == org.userId(.admin))
            #expect(line?["duration_ms"] != nil)
            #expect(lines.contains { $0["request_id"] == "client-id.123_abc" && $0["route"] == "/health" })
        }
    }

    @Test func secretsNeverReachTheLogs() async throws {
        try await Harness.run { h in
            let org = try await h.makeOrg()
            let session = try await h.login(org.email(.admin)).json
            let access = session["accessToken"] as! String
            let refresh = session["refreshToken"] as! String
            let next = try await h.call(.post, "/api/v1/auth/refresh", json: ["refreshToken": refresh]).json
            _ = try await h.call(.post, "/api/v1/auth/refresh", json: ["refreshToken": refresh])
            _ = try await h.login(org.email(.admin), password: "wrong-secret-password")
            _ = try await h.call(
                .post,
                "/api/v1/members",
                token: access,
                json: ["email": "s-\(org.tag)@x.test", "name": "S", "role": "canvasser", "password": "member-secret-pw"]
            )
            _ = try await h.call(.get, "/api/v1/me", token: "garbage.\(access)")
            let staff = try await h.staffToken()
            let all = h.logs.lines.joined(separator: "\n")
            #expect(!all.isEmpty)
            for secret in [
                TestEnv.password, "wrong-secret-password", "member-secret-pw", TestEnv.staffPassword, access, refresh,
                next["refreshToken"] as? String ?? "-", staff, TestEnv.jwtSecret, "Bearer",
            ] {
                #expect(!all.contains(secret), "a log line holds a secret")
            }
        }
    }
}
