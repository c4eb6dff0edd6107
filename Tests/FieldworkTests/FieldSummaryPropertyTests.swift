import Foundation
import Logging
import PostgresNIO
import PropertyBased
@_spi(TenantAuth) import Store
import Synchronization
import Testing

/// For random interactions across time zones and day boundaries (midnight, 23:30 and 23:59:59 local,
/// DST change days, a zone that skips midnight), some rolled up and some arriving after a rollup,
/// the summary over HTTP equals a brute-force aggregate over the raw rows; a list may change after the
/// rollups (its member set is then stale).
@Suite struct FieldSummaryPropertyTests {
    struct Row: Sendable, CustomStringConvertible {
        let day: Int, time: Int, result: Int, voter: Int, canvasser: Int, phase: Int, answers: Int
        var description: String {
            "\(FieldSummaryPropertyTests.days[day]) \(FieldSummaryPropertyTests.times[time]) r\(result) v\(voter) c\(canvasser) p\(phase) a\(answers)"
        }
    }

    struct Case: Sendable, CustomStringConvertible {
        let zone: Int, rows: [Row], rollAfter: Int, a: Int, b: Int
        var from: String { FieldSummaryPropertyTests.days[min(a, b)] }
        var to: String { FieldSummaryPropertyTests.days[max(a, b)] }
        var description: String { "\(FieldSummaryPropertyTests.zones[zone]) \(from)..\(to) rollAfter \(rollAfter) rows \(rows)" }
    }

    static let zones = [
        "America/Chicago", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Kiritimati",
        "Pacific/Pago_Pago", "America/Santiago", "UTC",
    ]
    static let times = ["00:00:00", "00:30:00", "01:30:00", "02:30:00", "12:00:00", "23:00:00", "23:30:00", "23:59:59"]
    /// DST changes (US, EU, Lord Howe, Chile at midnight) and the days around today (rolled and open).
    static let days: [String] = {
        let fixed = [
            "2026-03-07", "2026-03-08", "2026-03-09", "2026-03-29", "2026-04-04", "2026-04-05", "2026-09-05", "2026-09-06", "2026-10-04",
            "2026-10-24", "2026-10-25", "2026-10-26", "2026-10-31", "2026-11-01", "2026-11-02",
        ]
        let today = CalendarDay.parse(CalendarDay.format(Date()))!
        return Array(Set(fixed + (-2...1).map { CalendarDay.format(CalendarDay.adding($0, to: today)) })).sorted()
    }()
    static let results = FieldSummaryTests.allResults

    @Test func summaryEqualsBruteForce() async throws {
        let days = Self.days
        let times = Self.times
        let results = Self.results
        let zones = Self.zones
        let row = zip(
            Gen.int(in: 0...(days.count - 1)),
            Gen.int(in: 0...(times.count - 1)),
            Gen.int(in: 0...(results.count - 1)),
            Gen.int(in: 0...5),
            Gen.int(in: 0...2),
            Gen.int(in: 0...2),
            Gen.int(in: 0...2)
        ).map { Row(day: $0.0, time: $0.1, result: $0.2, voter: $0.3, canvasser: $0.4, phase: $0.5, answers: $0.6) }
        let cases = zip(
            Gen.int(in: 0...(zones.count - 1)),
            row.array(of: 0...30),
            Gen.int(in: 0...15),
            Gen.int(in: 0...(days.count - 1)),
            Gen.int(in: 0...(days.count - 1))
        ).map { Case(zone: $0.0, rows: $0.1, rollAfter: $0.2, a: $0.3, b: $0.4) }
        let seen = Mutex([0, 0, 0])
        try await Harness.run { h in
            await propertyCheck(count: 40, input: cases) { c in
                // PropertyBased drops an error the body throws (it only counts recorded issues): record it.
                do {
                    let kinds = try await Self.check(c, h)
                    seen.withLock { counts in for i in 0..<3 { counts[i] += kinds[i] } }
                } catch {
                    Issue.record("\(String(reflecting: error)) in \(c)")
                }
            }
        }
        // The cases must have reached every source the summary adds up.
        let counts = seen.withLock { $0 }
        #expect(counts.allSatisfy { $0 > 0 }, "cases with rolled rows, late arrivals, open days: \(counts)")
    }

    /// Checks one case; returns which sources its range drew on (rolled rows, late arrivals, open days), 0 or 1 each.
    static func check(_ c: Case, _ h: Harness) async throws -> [Int] {
        let logger = Logger(label: "property")
        let org = try await h.makeOrg()
        let zone = zones[c.zone]
        try await h.db.query("UPDATE organizations SET timezone = \(zone) WHERE id = \(org.id)").consume()
        var voters: [UUID] = []
        let inserted = try await h.db.query(
            """
            INSERT INTO voters (org_id, external_id, first_name, last_name)
            SELECT \(org.id), 'P' || g, 'First', 'Last' FROM generate_series(1, 6) g RETURNING id
            """
        )
        for try await id in inserted.decode(UUID.self) { voters.append(id) }
        let admin = org.userIds[.admin]!
        for (members, name) in [(voters[0..<3], "A"), (voters[3..<5], "B")] {
            let list = try await h.db.query(
                "INSERT INTO lists (org_id, name, created_by, member_count) VALUES (\(org.id), \(name), \(admin), \(members.count)) RETURNING id"
            )
            for try await listId in list.decode(UUID.self) {
                try await h.db.query(
                    "INSERT INTO list_members (org_id, list_id, voter_id) SELECT \(org.id), \(listId), unnest(\(Array(members)))"
                ).consume()
            }
        }
        var questions: [UUID] = []
        let made = try await h.db.query(
            """
            INSERT INTO survey_questions (org_id, key, prompt, type) SELECT \(org.id), 'q' || g, 'Q', 'scale' FROM generate_series(1, 2) g
            RETURNING id
            """
        )
        for try await id in made.decode(UUID.self) { questions.append(id) }
        let canvassers = [org.userIds[.admin]!, org.userIds[.organizer]!, org.userIds[.canvasser]!]
        for phase in 0...2 {
            for row in c.rows where row.phase == phase {
                let local = "\(days[row.day]) \(times[row.time])"
                let ids = try await h.db.query(
                    """
                    INSERT INTO interactions (org_id, client_interaction_uuid, voter_id, canvasser_id, channel, result, occurred_at)
                    VALUES (\(org.id), gen_random_uuid(), \(voters[row.voter]), \(canvassers[row.canvasser]), 'door', \(results[row.result]),
                            \(local)::timestamp AT TIME ZONE \(zone))
                    RETURNING id
                    """
                )
                for try await id in ids.decode(UUID.self) {
                    for question in questions.prefix(row.answers) {
                        try await h.db.query(
                            "INSERT INTO survey_responses (org_id, interaction_id, question_id, answer) VALUES (\(org.id), \(id), \(question), '3')"
                        ).consume()
                    }
                }
            }
            if c.rollAfter & (1 << phase) != 0 {
                _ = try await h.db.inTransaction(logger: logger) { connection in
                    try await FieldRollups(logger: logger).rollUp(OrgScope(orgId: org.id), settle: .zero, on: connection)
                }
            }
        }
        if c.rollAfter & 8 != 0 {
            // List B gains a member after the rollups: its member set is stale and the summary must not use it.
            try await h.db.query(
                """
                WITH b AS (UPDATE lists SET member_count = member_count + 1 WHERE org_id = \(org.id) AND name = 'B' RETURNING id)
                INSERT INTO list_members (org_id, list_id, voter_id) SELECT \(org.id), b.id, \(voters[5]) FROM b
                """
            ).consume()
        }
        let token = try await h.token(org.email(.admin))
        let got = try await FieldSummaryTests.summary(h, token: token, "?from=\(c.from)&to=\(c.to)")
        let want = try await bruteForce(org.id, zone: zone, from: c.from, to: c.to, h)
        compare(got, want, c)
        let sources = try await h.db.query(
            """
            SELECT (count(*) FILTER (WHERE d <= s.rolled_through AND i.received_at <= s.cutoff) > 0)::int,
                   (count(*) FILTER (WHERE d <= s.rolled_through AND i.received_at > s.cutoff) > 0)::int,
                   (count(*) FILTER (WHERE s.org_id IS NULL OR d > s.rolled_through) > 0)::int
            FROM interactions i
            CROSS JOIN LATERAL (SELECT (i.occurred_at AT TIME ZONE \(zone))::date AS d) x
            LEFT JOIN field_rollup_state s ON s.org_id = i.org_id
            WHERE i.org_id = \(org.id) AND x.d BETWEEN \(c.from)::date AND \(c.to)::date
            """
        )
        for try await (rolled, late, open) in sources.decode((Int, Int, Int).self) { return [rolled, late, open] }
        return [0, 0, 0]
    }

    static func compare(_ got: [String: Any], _ want: [String: Any], _ c: Case) {
        let totals = FieldSummaryTests.totals(got)
        for key in ["attempts", "contacts", "surveyResponses", "votersAttempted", "activeCanvassers"] {
            #expect(totals[key] as? Int == want[key] as? Int, "\(key): \(totals[key] ?? "nil") != \(want[key] ?? "nil") in \(c)")
        }
        let attempts = Double(want["attempts"] as? Int ?? 0)
        let rate = attempts == 0 ? 0 : Double(want["contacts"] as? Int ?? 0) / attempts
        #expect(abs((totals["contactRate"] as? Double ?? -1) - rate) < 1e-9)
        let byResult = got["byResult"] as? [String: Int] ?? [:]
        let wantResults = want["byResult"] as? [String: Int] ?? [:]
        #expect(Set(byResult.keys) == Set(results))
        for result in results { #expect(byResult[result] == (wantResults[result] ?? 0), "\(result) in \(c)") }
        func days(_ s: [String: Any]) -> [String] {
            (s["byDay"] as? [[String: Any]] ?? []).map { "\($0["date"] ?? "") \($0["attempts"] ?? "") \($0["contacts"] ?? "")" }
        }
        #expect(days(got) == days(want), "byDay in \(c)")
        func canvassers(_ s: [String: Any]) -> [String: String] {
            Dictionary(
                uniqueKeysWithValues: (s["byCanvasser"] as? [[String: Any]] ?? []).map {
                    ($0["canvasserId"] as? String ?? "", "\($0["attempts"] ?? "") \($0["contacts"] ?? "") \($0["surveyResponses"] ?? "")")
                }
            )
        }
        #expect(canvassers(got) == canvassers(want), "byCanvasser in \(c)")
        func lists(_ s: [String: Any]) -> [String: String] {
            Dictionary(
                uniqueKeysWithValues: (s["byList"] as? [[String: Any]] ?? []).map {
                    let completion = ($0["completion"] as? Double).map { String(format: "%.6f", $0) } ?? ""
                    return ($0["listId"] as? String ?? "", "\($0["members"] ?? "") \($0["attempted"] ?? "") \(completion)")
                }
            )
        }
        #expect(lists(got) == lists(want), "byList in \(c)")
        if let newest = want["asOf"] as? String {
            let formatter = ISO8601DateFormatter()
            let a = formatter.date(from: newest)
            let b = formatter.date(from: got["asOf"] as? String ?? "")
            #expect(a != nil && b != nil && abs(a!.timeIntervalSince(b!)) <= 1, "asOf \(newest) vs \(got["asOf"] ?? "nil")")
        }
    }

    /// The summary straight from the raw rows: days by the local date of each row, nothing rolled up.
    static func bruteForce(_ org: UUID, zone: String, from: String, to: String, _ h: Harness) async throws -> [String: Any] {
        let contacts = "'canvassed', 'refused', 'hostile'"
        let rows = try await h.db.query(
            """
            WITH r AS (
                SELECT i.*, (i.occurred_at AT TIME ZONE \(zone))::date AS day FROM interactions i
                WHERE i.org_id = \(org) AND (i.occurred_at AT TIME ZONE \(zone))::date BETWEEN \(from)::date AND \(to)::date),
            a AS (SELECT r.id, r.canvasser_id, (SELECT count(*) FROM survey_responses s WHERE s.interaction_id = r.id) AS n FROM r)
            SELECT jsonb_build_object(
                'attempts', (SELECT count(*) FROM r),
                'contacts', (SELECT count(*) FROM r WHERE result IN (\(unescaped: contacts))),
                'surveyResponses', (SELECT coalesce(sum(n), 0) FROM a),
                'votersAttempted', (SELECT count(DISTINCT voter_id) FROM r),
                'activeCanvassers', (SELECT count(DISTINCT canvasser_id) FROM r),
                'byResult', (SELECT coalesce(jsonb_object_agg(result, n), '{}') FROM (SELECT result, count(*) AS n FROM r GROUP BY result) x),
                'byDay', (SELECT jsonb_agg(jsonb_build_object('date', d::date::text,
                            'attempts', (SELECT count(*) FROM r WHERE r.day = d::date),
                            'contacts', (SELECT count(*) FROM r WHERE r.day = d::date AND r.result IN (\(unescaped: contacts)))) ORDER BY d)
                          FROM generate_series(\(from)::date, \(to)::date, interval '1 day') d),
                'byCanvasser', (SELECT coalesce(jsonb_agg(jsonb_build_object('canvasserId', canvasser_id, 'attempts', attempts,
                            'contacts', contacts, 'surveyResponses', answers)), '[]')
                          FROM (SELECT canvasser_id, count(*) AS attempts, count(*) FILTER (WHERE result IN (\(unescaped: contacts))) AS contacts,
                                       (SELECT coalesce(sum(n), 0) FROM a WHERE a.canvasser_id = r.canvasser_id) AS answers
                                FROM r GROUP BY canvasser_id) x),
                'byList', (SELECT coalesce(jsonb_agg(jsonb_build_object('listId', l.id, 'members', l.member_count,
                            'attempted', (SELECT count(*) FROM list_members m WHERE m.list_id = l.id AND m.voter_id IN (SELECT voter_id FROM r)),
                            'completion', (SELECT count(*) FROM list_members m WHERE m.list_id = l.id AND EXISTS (
                                SELECT 1 FROM interactions i WHERE i.org_id = l.org_id AND i.voter_id = m.voter_id
                                AND (i.occurred_at AT TIME ZONE \(zone))::date <= \(to)::date))::float8 / l.member_count)), '[]')
                          FROM lists l WHERE l.org_id = \(org) AND l.member_count > 0),
                'asOf', (SELECT to_char(max(received_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') FROM r)
            )::text
            """
        )
        for try await text in rows.decode(String.self) {
            return try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
        }
        throw TestFailure("no brute-force row")
    }
}
