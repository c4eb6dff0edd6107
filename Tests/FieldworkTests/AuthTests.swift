import Crypto
import Foundation
import Store
import Testing

@Suite struct AuthTests {
    @Test func loginReturnsSessionAndMeDescribesCaller() async throws {
        try await Harness.run { h in
            let org = try await h.makeOrg()
            let reply = try await h.login(org.email(.organizer))
            #expect(reply.status == .ok)
            let session = reply.json
            #expect(session["tokenType"] as? String == "Bearer")
            #expect(session["expiresIn"] as? Int == 900)
            #expect(session["role"] as? String == "organizer")
            #expect((session["org"] as? [String: Any])?["id"] as? String == org.idString)
            let me = try await h.call(.get, "/api/v1/me", token: session["accessToken"] as? String)
            #expect(me.status == .ok)
            #expect((me.json["user"] as? [String: Any])?["email"] as? String == org.email(.organizer))
            #expect((me.json["memberships"] as? [Any])?.count == 1)
        }
    }

    @Test func wrongPasswordAndUnknownEmailAreTheSame401() async throws {
        try await Harness.run { h in
            let org = try await h.makeOrg()
            let wrong = try await h.login(org.email(.admin), password: "not the password")
            let unknown = try await h.login("nobody-\(org.tag)@nowhere.test")
            for reply in [wrong, unknown] {
                #expect(reply.status == .unauthorized)
                #expect(reply.errorCode == "UNAUTHENTICATED")
                #expect((reply.json["error"] as? [String: Any])?["message"] as? String == "invalid email or password")
            }
        }
    }

    @Test func refreshRotatesAndReuseRevokesTheFamily() async throws {
        try await Harness.run { h in
            let org = try await h.makeOrg()
            let first = try await h.login(org.email(.admin)).json["refreshToken"] as! String
            let second = try await h.call(.post, "/api/v1/auth/refresh", json: ["refreshToken": first])
            #expect(second.status == .ok)
            let secondToken = second.json["refreshToken"] as! String
            #expect(secondToken != first)
            // Presenting the rotated token again is reuse: 401, and the live successor dies too.
            let reuse = try await h.call(.post, "/api/v1/auth/refresh", json: ["refreshToken": first])
            #expect(reuse.status == .unauthorized)
            let successor = try await h.call(.post, "/api/v1/auth/refresh", json: ["refreshToken": secondToken])
            #expect(successor.status == .unauthorized)
            let admin = try await h.token(org.email(.admin))
            let audit = try await h.call(.get, "/api/v1/audit-logs?action=auth.refresh_reuse", token: admin)
            #expect((audit.json["items"] as? [Any])?.count == 1)
        }
    }

    @Test func logoutRevokesTheRefreshToken() async throws {
        try await Harness.run { h in
            let org = try await h.makeOrg()
            let session = try await h.login(org.email(.canvasser)).json
            let refresh = session["refreshToken"] as! String
            let out = try await h.call(.post, "/api/v1/auth/logout", token: session["accessToken"] as? String, json: ["refreshToken": refresh])
            #expect(out.status == .noContent)
            let again = try await h.call(.post, "/api/v1/auth/refresh", json: ["refreshToken": refresh])
            #expect(again.status == .unauthorized)
        }
    }

    @Test func switchOrgOnlyToOwnMemberships() async throws {
        try await Harness.run { h in
            let a = try await h.makeOrg()
            let b = try await h.makeOrg()
            let token = try await h.token(a.email(.admin))
            let denied = try await h.call(.post, "/api/v1/auth/switch-org", token: token, json: ["orgId": b.idString])
            #expect(denied.status == .forbidden)
            // Add A's admin to B as canvasser, then switching works and carries B's role.
            let bAdmin = try await h.token(b.email(.admin))
            let added = try await h.call(.post, "/api/v1/members", token: bAdmin, json: ["email": a.email(.admin), "name": "x", "role": "canvasser"])
            #expect(added.status == .created)
            let switched = try await h.call(.post, "/api/v1/auth/switch-org", token: token, json: ["orgId": b.idString])
            #expect(switched.status == .ok)
            #expect(switched.json["role"] as? String == "canvasser")
            let login = try await h.login(a.email(.admin), orgId: b.id)
            #expect(login.json["role"] as? String == "canvasser")
        }
    }

    /// Tokens signed other ways than the server's HS256 with its secret are all refused.
    @Test func badTokensAre401() async throws {
        try await Harness.run { h in
            let org = try await h.makeOrg()
            let good = try await h.token(org.email(.admin))
            func claims(expiresIn seconds: Double) -> [String: Any] {
                let now = Date().timeIntervalSince1970
                return [
                    "sub": org.userId(.admin), "org": org.idString, "role": "admin", "jti": UUID().uuidString,
                    "iat": now - 100, "nbf": now - 100, "exp": now + seconds,
                ]
            }
            let expired = try await Self.sign(claims(expiresIn: -10), alg: "HS256", secret: TestEnv.jwtSecret)
            let none = try Self.unsigned(claims(expiresIn: 600))
            let hs512 = try await Self.sign(claims(expiresIn: 600), alg: "HS512", secret: TestEnv.jwtSecret)
            let otherKey = try await Self.sign(claims(expiresIn: 600), alg: "HS256", secret: String(repeating: "k", count: 40))
            var parts = good.split(separator: ".").map(String.init)
            parts[1] = Self.base64url(
                try JSONSerialization.data(withJSONObject: claims(expiresIn: 600).merging(["role": "admin", "sub": UUID().uuidString]) { $1 })
            )
            let tampered = parts.joined(separator: ".")
            #expect(try await h.call(.get, "/api/v1/me", token: good).status == .ok)
            for (name, token) in [
                ("expired", expired), ("none", none), ("hs512", hs512), ("other key", otherKey), ("tampered", tampered), ("garbage", "abc"),
            ] {
                let reply = try await h.call(.get, "/api/v1/me", token: token)
                #expect(reply.status == .unauthorized, "\(name)")
                #expect(reply.errorCode == "UNAUTHENTICATED", "\(name)")
            }
            #expect(try await h.call(.get, "/api/v1/me").status == .unauthorized)
        }
    }

    @Test func removedMembersTokenStopsWorking() async throws {
        try await Harness.run { h in
            let org = try await h.makeOrg()
            let session = try await h.login(org.email(.organizer)).json
            let admin = try await h.token(org.email(.admin))
            #expect(try await h.call(.delete, "/api/v1/members/\(org.userId(.organizer))", token: admin).status == .noContent)
            #expect(try await h.call(.get, "/api/v1/me", token: session["accessToken"] as? String).status == .unauthorized)
            let refresh = try await h.call(.post, "/api/v1/auth/refresh", json: ["refreshToken": session["refreshToken"] as! String])
            #expect(refresh.status == .unauthorized)
        }
    }

    @Test func loginRateLimitBlocksThenRecovers() async throws {
        // A window long enough that ten sign-ins fit in it even on a loaded machine.
        try await Harness.run({ $0.loginRateWindow = .seconds(8) }) { h in
            let org = try await h.makeOrg()
            for _ in 0..<10 {
                #expect(try await h.login(org.email(.admin), password: "wrong-password").status == .unauthorized)
            }
            let limited = try await h.login(org.email(.admin))
            #expect(limited.status == .tooManyRequests)
            #expect(limited.errorCode == "RATE_LIMITED")
            let retryAfter = Int(limited.headers[.retryAfter] ?? "") ?? 0
            #expect((1...8).contains(retryAfter))
            try await Task.sleep(for: .milliseconds(retryAfter * 1000 + 500))
            #expect(try await h.login(org.email(.admin)).status == .ok)
        }
    }

    static func base64url(_ data: Data) -> String { Base64URL.encode(data) }

    static func unsigned(_ claims: [String: Any]) throws -> String {
        let header = base64url(try JSONSerialization.data(withJSONObject: ["alg": "none", "typ": "JWT"]))
        return "\(header).\(base64url(try JSONSerialization.data(withJSONObject: claims)))."
    }

    static func sign(_ claims: [String: Any], alg: String, secret: String) async throws -> String {
        let header = base64url(try JSONSerialization.data(withJSONObject: ["alg": alg, "typ": "JWT"]))
        let payload = base64url(try JSONSerialization.data(withJSONObject: claims))
        let input = Data("\(header).\(payload)".utf8)
        let key = SymmetricKey(data: Data(secret.utf8))
        let mac: Data =
            alg == "HS512"
            ? Data(HMAC<SHA512>.authenticationCode(for: input, using: key))
            : Data(HMAC<SHA256>.authenticationCode(for: input, using: key))
        return "\(header).\(payload).\(base64url(mac))"
    }
}
