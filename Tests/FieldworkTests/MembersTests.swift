import Foundation
import Testing

@Suite struct MembersTests {
    @Test func createExistingOrNewUserAndConflicts() async throws {
        try await Harness.run { h in
            let org = try await h.makeOrg()
            let other = try await h.makeOrg()
            let admin = try await h.token(org.email(.admin))
            let email = "new-\(org.tag)@members.test"
            let noPassword = try await h.call(.post, "/api/v1/members", token: admin, json: ["email": email, "name": "New", "role": "canvasser"])
            #expect(noPassword.status == .unprocessableContent)
            let created = try await h.call(
                .post,
                "/api/v1/members",
                token: admin,
                json: ["email": email, "name": "New", "role": "canvasser", "password": "a-long-password"]
            )
            #expect(created.status == .created)
            #expect((created.json["user"] as? [String: Any])?["email"] as? String == email)
            #expect(try await h.login(email, password: "a-long-password").status == .ok)
            let duplicate = try await h.call(.post, "/api/v1/members", token: admin, json: ["email": email, "name": "New", "role": "organizer"])
            #expect(duplicate.status == .conflict)
            // An existing user from another org is added without touching their password.
            let existing = try await h.call(
                .post,
                "/api/v1/members",
                token: admin,
                json: ["email": other.email(.canvasser), "name": "x", "role": "organizer", "password": "attacker-chosen"]
            )
            #expect(existing.status == .created)
            #expect(try await h.login(other.email(.canvasser), password: "attacker-chosen").status == .unauthorized)
            #expect(try await h.login(other.email(.canvasser), orgId: org.id).json["role"] as? String == "organizer")
        }
    }

    @Test func lastAdminCannotBeDemotedOrRemoved() async throws {
        try await Harness.run { h in
            let org = try await h.makeOrg()
            let admin = try await h.token(org.email(.admin))
            let demote = try await h.call(.patch, "/api/v1/members/\(org.userId(.admin))", token: admin, json: ["role": "organizer"])
            #expect(demote.status == .unprocessableContent)
            #expect(demote.errorCode == "UNPROCESSABLE")
            #expect(try await h.call(.delete, "/api/v1/members/\(org.userId(.admin))", token: admin).status == .unprocessableContent)
            // With a second admin, the first may step down.
            #expect(try await h.call(.patch, "/api/v1/members/\(org.userId(.organizer))", token: admin, json: ["role": "admin"]).status == .ok)
            let stepDown = try await h.call(.patch, "/api/v1/members/\(org.userId(.admin))", token: admin, json: ["role": "organizer"])
            #expect(stepDown.status == .ok)
            #expect(stepDown.json["role"] as? String == "organizer")
            let audit = try await h.call(.get, "/api/v1/audit-logs?action=member.role_changed", token: try await h.token(org.email(.organizer)))
            #expect((audit.json["items"] as? [Any])?.count == 2)
        }
    }

    @Test func membersListPagesWithCursor() async throws {
        try await Harness.run { h in
            let org = try await h.makeOrg()
            let admin = try await h.token(org.email(.admin))
            var seen: [String] = []
            var cursor: String?
            repeat {
                let path = "/api/v1/members?limit=2" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await h.call(.get, path, token: admin)
                #expect(page.status == .ok)
                let items = page.json["items"] as? [[String: Any]] ?? []
                seen += items.compactMap { ($0["user"] as? [String: Any])?["id"] as? String }
                #expect(page.json.keys.contains("nextCursor"))
                cursor = page.json["nextCursor"] as? String
            } while cursor != nil
            #expect(Set(seen) == Set(org.userIds.values.map { $0.uuidString.lowercased() }))
            #expect(seen.count == 3)
            #expect(try await h.call(.get, "/api/v1/members?limit=0", token: admin).status == .badRequest)
            #expect(try await h.call(.get, "/api/v1/members?cursor=nonsense", token: admin).status == .badRequest)
        }
    }

    /// Every route of this issue against every role: allowed roles succeed, others get 403.
    @Test func roleMatrix() async throws {
        try await Harness.run { h in
            let org = try await h.makeOrg()
            for role in ["admin", "organizer", "canvasser"] {
                let token = try await h.token("\(role)@\(org.tag).test")
                let adminOnly: [(String, String, Any?)] = [
                    ("GET", "/api/v1/members", nil), ("GET", "/api/v1/audit-logs", nil),
                    (
                        "POST", "/api/v1/members",
                        ["email": "m-\(role)-\(org.tag)@x.test", "name": "M", "role": "canvasser", "password": "long-enough-1"]
                    ),
                    ("PATCH", "/api/v1/members/\(org.userId(.canvasser))", ["role": "canvasser"]),
                ]
                for (method, path, body) in adminOnly {
                    let reply = try await h.call(.init(method)!, path, token: token, json: body)
                    if role == "admin" {
                        #expect(reply.status.code < 300, "\(role) \(method) \(path): \(reply.status)")
                    } else {
                        #expect(reply.status == .forbidden, "\(role) \(method) \(path)")
                        #expect(reply.errorCode == "FORBIDDEN")
                    }
                }
                #expect(try await h.call(.get, "/api/v1/me", token: token).status == .ok)
                #expect(try await h.call(.get, "/api/v1/internal/organizations", token: token).status == .forbidden)
                #expect(try await h.call(.post, "/api/v1/internal/organizations", token: token, json: [:] as [String: String]).status == .forbidden)
            }
        }
    }

    @Test func staffTokensOnlyOnInternalRoutes() async throws {
        try await Harness.run { h in
            let staff = try await h.staffToken()
            #expect(try await h.call(.get, "/api/v1/me", token: staff).status == .forbidden)
            #expect(try await h.call(.get, "/api/v1/members", token: staff).status == .forbidden)
            #expect(try await h.call(.get, "/api/v1/internal/organizations").status == .unauthorized)
            let slug = "s-\(UUID().uuidString.prefix(8).lowercased())"
            let body: [String: Any] = [
                "name": "Staff Made", "slug": slug, "timezone": "America/New_York",
                "admin": ["email": "boss@\(slug).test", "name": "Boss", "password": "boss-password-1"],
            ]
            let created = try await h.call(.post, "/api/v1/internal/organizations", token: staff, json: body)
            #expect(created.status == .created)
            #expect(try await h.call(.post, "/api/v1/internal/organizations", token: staff, json: body).status == .conflict)
            var badZone = body
            badZone["slug"] = slug + "-2"
            badZone["timezone"] = "Mars/Olympus"
            #expect(try await h.call(.post, "/api/v1/internal/organizations", token: staff, json: badZone).status == .badRequest)
            let boss = try await h.login("boss@\(slug).test", password: "boss-password-1").json["accessToken"] as? String
            let audit = try await h.call(.get, "/api/v1/audit-logs?action=organization.created", token: boss)
            let entry = (audit.json["items"] as? [[String: Any]])?.first
            #expect(entry?["actorKind"] as? String == "staff")
            #expect(entry?["actorId"] as? String == TestEnv.staffEmail)
            #expect(entry?["requestId"] as? String == created.requestId)
            let list = try await h.call(.get, "/api/v1/internal/organizations?limit=500", token: staff)
            #expect((list.json["items"] as? [[String: Any]])?.contains { ($0["org"] as? [String: Any])?["slug"] as? String == slug } == true)
        }
    }
}
