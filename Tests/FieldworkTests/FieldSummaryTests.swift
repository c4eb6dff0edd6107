import Foundation
import HTTPTypes
import Logging
import PostgresNIO
@_spi(TenantAuth) import Store
import Testing

/// `GET /metrics/field/summary` over HTTP, and the nightly rollup it reads.
@Suite struct FieldSummaryTests {
    static let allResults = [
        "canvassed", "not_home", "refused", "moved", "deceased", "inaccessible", "vacant", "hostile", "language_barrier", "come_back",
        "wrong_address", "do_not_contact", "lit_drop",
    ]

    /// Today and `days` before it, YYYY-MM-DD in `zone`.
    static func localDay(_ daysAgo: Int, zone: String = "America/Chicago") -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: zone)!
        let date = calendar.date(byAdding: .day, value: -daysAgo, to: Date())!
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }

    /// Noon (local) of `day` in `zone` as RFC 3339 UTC.
    static func noon(_ day: String, zone: String = "America/Chicago", hour: Int = 12, minute: Int = 0) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: zone)!
        let parts = day.split(separator: "-").map { Int($0)! }
        let date = calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2], hour: hour, minute: minute))!
        return date.formatted(.iso8601)
    }

    static func item(_ voter: String, _ result: String, at occurredAt: String, answers: [[String: Any]] = []) -> [String: Any] {
        var item: [String: Any] = [
            "clientInteractionUuid": UUID().uuidString.lowercased(), "voterId": voter, "channel": "door", "result": result,
            "occurredAt": occurredAt,
        ]
        if !answers.isEmpty { item["surveyResponses"] = answers }
        return item
    }

    static func submit(_ h: Harness, token: String, _ items: [[String: Any]]) async throws {
        let reply = try await h.call(.post, "/api/v1/interactions/bulk", token: token, json: ["interactions": items])
        #expect(reply.json["created"] as? Int == items.count, "\(reply.text.prefix(600))")
    }

    static func summary(_ h: Harness, token: String, _ query: String = "") async throws -> [String: Any] {
        let reply = try await h.call(.get, "/api/v1/metrics/field/summary\(query)", token: token)
        guard reply.status == .ok else { throw TestFailure("summary: \(reply.status) \(reply.text)") }
        return reply.json
    }

    /// Runs the org's rollup now, leaving nothing to settle.
    @discardableResult
    static func rollUp(_ h: Harness, org: UUID) async throws -> FieldRollupOutcome {
        try await h.db.inTransaction(logger: Logger(label: "test")) { connection in
            try await FieldRollups(logger: Logger(label: "test")).rollUp(OrgScope(orgId: org), settle: .zero, on: connection)
        }
    }

    static func totals(_ summary: [String: Any]) -> [String: Any] { summary["totals"] as? [String: Any] ?? [:] }

    @Test func definitionsOverTheDefaultRange() async throws {
        try await Harness.run { h in
            let org = try await h.makeOrg()
            let organizer = try await h.token(org.email(.organizer))
            let canvasser = try await h.token(org.email(.canvasser))
            let admin = try await h.token(org.email(.admin))
            let ids = try await CampaignTests.voters(h, token: organizer, (0..<5).map { CampaignTests.voter($0) })
            let (listId, _) = try await CampaignTests.assigned(h, org: org, token: organizer, voterIds: Array(ids[0..<4]))
            let question = try await h.call(
                .post,
                "/api/v1/survey-questions",
                token: organizer,
                json: ["key": "support", "prompt": "Support?", "type": "scale"]
            )
            let questionId = try #require(question.json["id"] as? String)
            let answer: [[String: Any]] = [["questionId": questionId, "answer": 4]]
            let today = Self.localDay(0)
            let twoDaysAgo = Self.localDay(2)
            try await Self.submit(
                h,
                token: canvasser,
                [
                    Self.item(ids[0], "canvassed", at: Self.noon(twoDaysAgo), answers: answer),
                    Self.item(ids[0], "not_home", at: Self.noon(today, hour: 0, minute: 5)),
                    Self.item(ids[1], "refused", at: Self.noon(twoDaysAgo)),
                    Self.item(ids[2], "hostile", at: Self.noon(twoDaysAgo)),
                ]
            )
            // The admin works too, off the list; one interaction is older than the default range.
            try await Self.submit(
                h,
                token: admin,
                [
                    Self.item(ids[4], "lit_drop", at: Self.noon(today, hour: 0, minute: 1)),
                    Self.item(ids[3], "moved", at: Self.noon(Self.localDay(8))),
                ]
            )
            let s = try await Self.summary(h, token: organizer)
            #expect(s["from"] as? String == Self.localDay(6) && s["to"] as? String == today, "\(s)")
            let t = Self.totals(s)
            #expect(t["attempts"] as? Int == 5 && t["contacts"] as? Int == 3, "\(t)")
            #expect(abs((t["contactRate"] as? Double ?? 0) - 0.6) < 1e-9)
            #expect(t["votersAttempted"] as? Int == 4 && t["activeCanvassers"] as? Int == 2 && t["surveyResponses"] as? Int == 1, "\(t)")
            let byResult = s["byResult"] as? [String: Int] ?? [:]
            #expect(Set(byResult.keys) == Set(Self.allResults))
            #expect(byResult["canvassed"] == 1 && byResult["not_home"] == 1 && byResult["lit_drop"] == 1 && byResult["moved"] == 0)
            let byDay = s["byDay"] as? [[String: Any]] ?? []
            #expect(byDay.map { $0["date"] as? String ?? "" } == (0..<7).reversed().map { Self.localDay($0) })
            #expect(byDay.first { $0["date"] as? String == twoDaysAgo }?["contacts"] as? Int == 3)
            #expect(byDay.first { $0["date"] as? String == today }?["attempts"] as? Int == 2)
            let byCanvasser = s["byCanvasser"] as? [[String: Any]] ?? []
            #expect(byCanvasser.count == 2)
            let mine = byCanvasser.first { $0["canvasserId"] as? String == org.userId(.canvasser) }
            #expect(mine?["name"] as? String == "canvasser \(org.tag)" && mine?["attempts"] as? Int == 4 && mine?["contacts"] as? Int == 3)
            #expect(mine?["surveyResponses"] as? Int == 1)
            let list = (s["byList"] as? [[String: Any]] ?? []).first { $0["listId"] as? String == listId }
            // Members 0..3: 0, 1, 2 attempted in range; 3 only before it (it still has a result: completion 4/4).
            #expect(list?["members"] as? Int == 4 && list?["attempted"] as? Int == 3, "\(String(describing: list))")
            #expect(abs((list?["completion"] as? Double ?? 0) - 1.0) < 1e-9)
            // A range before all of it: zeros, every day present.
            let empty = try await Self.summary(h, token: organizer, "?from=2026-01-01&to=2026-01-03")
            #expect(Self.totals(empty)["attempts"] as? Int == 0 && (empty["byDay"] as? [Any])?.count == 3)
            let emptyList = (empty["byList"] as? [[String: Any]] ?? []).first { $0["listId"] as? String == listId }
            #expect(emptyList?["attempted"] as? Int == 0 && emptyList?["completion"] as? Double == 0)
        }
    }

    @Test func badRangesAndRoles() async throws {
        try await Harness.run { h in
            let org = try await h.makeOrg()
            let admin = try await h.token(org.email(.admin))
            for query in [
                "?from=2026-13-01", "?to=yesterday", "?from=2026-02-30&to=2026-03-01", "?from=2026-11-10&to=2026-11-09",
                "?from=2024-01-01&to=2026-01-01", "?from=20261101&to=2026-11-02", "?to=0001-01-03", "?from=9999-01-01&to=9999-01-02",
            ] {
                let reply = try await h.call(.get, "/api/v1/metrics/field/summary\(query)", token: admin)
                #expect(reply.status == .badRequest && reply.errorCode == "VALIDATION_ERROR", "\(query): \(reply.text)")
            }
            #expect(try await h.call(.get, "/api/v1/metrics/field/summary?from=2026-11-01&to=2026-11-01", token: admin).status == .ok)
            let organizer = try await h.token(org.email(.organizer))
            #expect(try await h.call(.get, "/api/v1/metrics/field/summary", token: organizer).status == .ok)
            let canvasser = try await h.call(.get, "/api/v1/metrics/field/summary", token: try await h.token(org.email(.canvasser)))
            #expect(canvasser.status == .forbidden && canvasser.errorCode == "FORBIDDEN")
            #expect(try await h.call(.get, "/api/v1/metrics/field/summary").status == .unauthorized)
            #expect(try await h.call(.get, "/api/v1/metrics/field/summary", token: try await h.staffToken()).status == .forbidden)
        }
    }

    @Test func daysAreTheOrgsDays() async throws {
        try await Harness.run { h in
            let org = try await h.makeOrg()
            // UTC+14: 10:30Z on the 20th is 00:30 on the 21st there, 09:30Z on the 21st is 23:30 on the 21st.
            try await h.db.query("UPDATE organizations SET timezone = 'Pacific/Kiritimati' WHERE id = \(org.id)").consume()
            let admin = try await h.token(org.email(.admin))
            let ids = try await CampaignTests.voters(h, token: admin, (0..<2).map { CampaignTests.voter($0) })
            try await Self.submit(
                h,
                token: admin,
                [
                    Self.item(ids[0], "canvassed", at: "2026-11-20T10:30:00Z"), Self.item(ids[1], "not_home", at: "2026-11-21T09:30:00Z"),
                    Self.item(ids[1], "refused", at: "2026-11-21T10:00:00Z"), Self.item(ids[0], "vacant", at: "2026-11-20T09:59:59Z"),
                ]
            )
            for rolled in [false, true] {
                if rolled { try await Self.rollUp(h, org: org.id) }
                let day21 = try await Self.summary(h, token: admin, "?from=2026-11-21&to=2026-11-21")
                #expect(Self.totals(day21)["attempts"] as? Int == 2 && Self.totals(day21)["votersAttempted"] as? Int == 2, "\(day21)")
                let both = try await Self.summary(h, token: admin, "?from=2026-11-20&to=2026-11-22")
                #expect((both["byDay"] as? [[String: Any]] ?? []).map { $0["attempts"] as? Int ?? -1 } == [1, 2, 1], "rolled \(rolled)")
            }
        }
    }

    @Test func lateArrivalsCountAtOnceAndAfterTheNextRollup() async throws {
        try await Harness.run { h in
            let org = try await h.makeOrg()
            let admin = try await h.token(org.email(.admin))
            let ids = try await CampaignTests.voters(h, token: admin, (0..<3).map { CampaignTests.voter($0) })
            let yesterday = Self.localDay(1)
            let earlier = Self.localDay(3)
            try await Self.submit(
                h,
                token: admin,
                [Self.item(ids[0], "canvassed", at: Self.noon(yesterday)), Self.item(ids[1], "not_home", at: Self.noon(earlier))]
            )
            let first = try await Self.rollUp(h, org: org.id)
            #expect(first.days == [earlier, yesterday] && first.rolledThrough == Self.localDay(0), "\(first)")
            let rolled = try await h.db.query(
                "SELECT coalesce(sum(attempts), 0)::int8 FROM field_rollup_results WHERE org_id = \(org.id) AND day = \(yesterday)::date"
            )
            for try await n in rolled.decode(Int64.self) { #expect(n == 1) }
            // Nothing changed: a second run recomputes no day and the summary is the same.
            #expect(try await Self.rollUp(h, org: org.id).days.isEmpty)
            let before = try await Self.summary(h, token: admin)
            #expect(Self.totals(before)["attempts"] as? Int == 2)
            // The phone syncs the next morning: yesterday is rolled up already, the summary counts it at once.
            try await Self.submit(h, token: admin, [Self.item(ids[2], "refused", at: Self.noon(yesterday, hour: 23, minute: 30))])
            let late = try await Self.summary(h, token: admin)
            #expect(Self.totals(late)["attempts"] as? Int == 3 && Self.totals(late)["contacts"] as? Int == 2, "\(late)")
            #expect(Self.totals(late)["votersAttempted"] as? Int == 3)
            let lateDay = (late["byDay"] as? [[String: Any]] ?? []).first { $0["date"] as? String == yesterday }
            #expect(lateDay?["attempts"] as? Int == 2)
            let asOf = try #require(late["asOf"] as? String)
            #expect(asOf >= (before["asOf"] as? String ?? ""), "asOf moves to the late arrival")
            // The next rollup takes exactly that day, and the count is the same (not doubled).
            let next = try await Self.rollUp(h, org: org.id)
            #expect(next.days == [yesterday], "\(next)")
            let after = try await Self.summary(h, token: admin)
            #expect(Self.totals(after)["attempts"] as? Int == 3 && Self.totals(after)["contacts"] as? Int == 2, "\(after)")
            #expect(Self.totals(after)["votersAttempted"] as? Int == 3, "from the rolled voter sets: \(after)")
            let rolledAfter = try await h.db.query(
                "SELECT coalesce(sum(attempts), 0)::int8 FROM field_rollup_results WHERE org_id = \(org.id) AND day = \(yesterday)::date"
            )
            for try await n in rolledAfter.decode(Int64.self) { #expect(n == 2) }
        }
    }

    @Test func anotherOrgSeesNothing() async throws {
        try await Harness.run { h in
            let a = try await h.makeOrg()
            let b = try await h.makeOrg()
            let adminA = try await h.token(a.email(.admin))
            let ids = try await CampaignTests.voters(h, token: adminA, (0..<2).map { CampaignTests.voter($0) })
            _ = try await CampaignTests.assigned(h, org: a, token: adminA, voterIds: ids)
            try await Self.submit(
                h,
                token: adminA,
                [Self.item(ids[0], "canvassed", at: Self.noon(Self.localDay(1))), Self.item(ids[1], "hostile", at: Self.noon(Self.localDay(0)))]
            )
            try await Self.rollUp(h, org: a.id)
            try await Self.rollUp(h, org: b.id)
            let seenByA = try await Self.summary(h, token: adminA)
            #expect(Self.totals(seenByA)["attempts"] as? Int == 2)
            let seenByB = try await Self.summary(h, token: try await h.token(b.email(.admin)))
            #expect(Self.totals(seenByB)["attempts"] as? Int == 0 && Self.totals(seenByB)["votersAttempted"] as? Int == 0, "\(seenByB)")
            #expect((seenByB["byCanvasser"] as? [Any])?.isEmpty == true && (seenByB["byList"] as? [Any])?.isEmpty == true)
            #expect((seenByB["byDay"] as? [[String: Any]] ?? []).allSatisfy { $0["attempts"] as? Int == 0 })
        }
    }
}
