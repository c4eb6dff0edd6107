import Foundation
import Logging
import PostgresNIO

/// Reads the field summary: the rollup tables for the days they cover, plus the raw interactions
/// they do not hold yet (days after `rolled_through`, and late arrivals received after `cutoff`).
/// Distinct voters come from the rollups' voter sets (`FieldVoterSets`): the popcount of the range's
/// days OR-ed, plus the live rows' voters missing from it; a list's attempted and reached members the
/// same way from its member set, or from its rows while its members changed since that set was built.
/// The rollup state is read in the same snapshot as the rollups (one read-only repeatable-read
/// transaction), so a rollup committing meanwhile is seen whole or not at all (never counted twice).
public struct FieldSummaryRepository: Sendable {
    public let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// The org's time zone and today's date in it (YYYY-MM-DD).
    public func today(in scope: OrgScope, on db: some QueryRunner) async throws -> (zone: String, today: String) {
        let rows = try await db.run(
            "SELECT timezone, (now() AT TIME ZONE timezone)::date::text FROM organizations WHERE id = \(scope.orgId)",
            logger: logger
        )
        for try await row in rows.decode((String, String).self) { return (row.0, row.1) }
        throw StoreError.unexpected("organization \(scope.orgId) is gone")
    }

    /// The rollups' watermark as the summary reads it, with the range's bounds as instants.
    private struct Edge {
        /// The range's first instant and the instant after its last day.
        var lo: Date, hi: Date
        /// Rows received after this are not rolled up (`distantFuture` when nothing is).
        var cutoff: Date
        /// The last rolled day (nil when nothing is rolled up in the org's zone).
        var through: String?
        /// Days from this instant on are not rolled up (`distantPast` when nothing is).
        var openFrom: Date
        /// The length of the org's voter sets.
        var capacity: Int32?
    }

    /// The summary of `range` (days in `zone`, the org's): two statements in one read-only snapshot, so a
    /// rollup committing meanwhile is seen whole or not at all, and the second is planned with the
    /// watermark's values (the index range scans of the live rows depend on them).
    public func summary(_ range: DayRange, zone: String, in scope: OrgScope, on db: PostgresClient) async throws -> FieldSummary {
        try await db.inTransaction(logger: logger) { connection in
            try await connection.run("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger).consume()
            // The plan's cost is dominated by the never-taken branch for changed lists, which would make Postgres JIT-compile
            // it (about a second) for a query that runs in milliseconds.
            try await connection.run("SET LOCAL jit = off", logger: logger).consume()
            let rows = try await connection.run(
                """
                SELECT (\(range.from)::date::timestamp AT TIME ZONE \(zone)), ((\(range.to)::date + 1)::timestamp AT TIME ZONE \(zone)),
                       s.cutoff, s.rolled_through::text, s.open_from, s.capacity
                FROM (SELECT 1) one
                LEFT JOIN (field_rollup_state s JOIN organizations o ON o.id = s.org_id AND o.timezone = s.timezone) ON s.org_id = \(scope.orgId)
                """,
                logger: logger
            )
            var edge: Edge?
            for try await (lo, hi, cutoff, through, openFrom, capacity) in rows.decode((Date, Date, Date?, String?, Date?, Int32?).self) {
                edge = Edge(
                    lo: lo,
                    hi: hi,
                    cutoff: cutoff ?? .distantFuture,
                    through: through,
                    openFrom: openFrom ?? .distantPast,
                    capacity: capacity
                )
            }
            guard let edge else { throw StoreError.unexpected("the field summary's watermark query returned no row") }
            return try await summary(range, zone: zone, edge: edge, in: scope, on: connection)
        }
    }

    private func summary(_ range: DayRange, zone: String, edge: Edge, in scope: OrgScope, on connection: PostgresConnection) async throws
        -> FieldSummary
    {
        let contacts = InteractionResult.contactsSQL
        let (lo, hi, through) = (edge.lo, edge.hi, edge.through)
        let rows = try await connection.run(
            """
            WITH
            live AS (
                SELECT i.canvasser_id, i.result, i.received_at, (i.occurred_at AT TIME ZONE \(zone))::date AS day,
                       (SELECT count(*) FROM survey_responses r WHERE r.org_id = i.org_id AND r.interaction_id = i.id) AS answers
                FROM interactions i
                WHERE i.org_id = \(scope.orgId) AND i.occurred_at >= \(max(lo, edge.openFrom)) AND i.occurred_at < \(hi)
                UNION ALL
                SELECT i.canvasser_id, i.result, i.received_at, (i.occurred_at AT TIME ZONE \(zone))::date,
                       (SELECT count(*) FROM survey_responses r WHERE r.org_id = i.org_id AND r.interaction_id = i.id)
                FROM interactions i
                WHERE i.org_id = \(scope.orgId) AND i.received_at > \(edge.cutoff)
                  AND i.occurred_at >= \(lo) AND i.occurred_at < \(min(hi, edge.openFrom))),
            range_set AS (
                SELECT bit_or(v.voters) || B'' AS bits FROM field_rollup_voters v
                WHERE v.org_id = \(scope.orgId) AND v.day BETWEEN \(range.from)::date AND \(range.to)::date AND v.day <= \(through)::date),
            reach_set AS (
                SELECT CASE WHEN \(through)::date <= \(range.to)::date
                            THEN (SELECT attempted || B'' FROM field_rollup_state WHERE org_id = \(scope.orgId))
                            ELSE (SELECT bit_or(v.voters) || B'' FROM field_rollup_voters v
                                  WHERE v.org_id = \(scope.orgId) AND v.day <= \(range.to)::date AND v.day <= \(through)::date) END AS bits),
            live_voters AS (
                SELECT x.voter_id,
                       x.in_range AND NOT field_bits_has(r.bits, o.ordinal) AS new_in_range,
                       NOT field_bits_has(t.bits, o.ordinal) AS new_in_reach
                FROM (
                    SELECT voter_id, bool_or(in_range) AS in_range FROM (
                        SELECT i.voter_id, i.occurred_at >= \(lo) AS in_range FROM interactions i
                        WHERE i.org_id = \(scope.orgId) AND i.occurred_at >= \(edge.openFrom) AND i.occurred_at < \(hi)
                        UNION ALL
                        SELECT i.voter_id, i.occurred_at >= \(lo) FROM interactions i
                        WHERE i.org_id = \(scope.orgId) AND i.received_at > \(edge.cutoff) AND i.occurred_at < \(min(hi, edge.openFrom))) r
                    GROUP BY voter_id) x
                LEFT JOIN field_voter_ordinals o ON o.org_id = \(scope.orgId) AND o.voter_id = x.voter_id
                -- Joined, not subqueries: field_bits_has is inlined only for plain arguments (one row each).
                CROSS JOIN range_set r CROSS JOIN reach_set t),
            rolled_results AS (
                SELECT r.day, r.result, r.attempts, r.last_received_at FROM field_rollup_results r
                WHERE r.org_id = \(scope.orgId) AND r.day BETWEEN \(range.from)::date AND \(range.to)::date AND r.day <= \(through)::date),
            results AS (
                SELECT day, result, sum(attempts)::int8 AS attempts, max(last_received_at) AS last_received FROM (
                    SELECT day, result, attempts, last_received_at FROM rolled_results
                    UNION ALL
                    SELECT day, result, count(*), max(received_at) FROM live GROUP BY day, result) x
                GROUP BY day, result),
            canvassers AS (
                SELECT canvasser_id, sum(attempts)::int8 AS attempts, sum(contacts)::int8 AS contacts, sum(answers)::int8 AS answers FROM (
                    SELECT c.canvasser_id, c.attempts, c.contacts, c.survey_responses AS answers FROM field_rollup_canvassers c
                    WHERE c.org_id = \(scope.orgId) AND c.day BETWEEN \(range.from)::date AND \(range.to)::date AND c.day <= \(through)::date
                    UNION ALL
                    SELECT canvasser_id, count(*), count(*) FILTER (WHERE result IN (\(unescaped: contacts))), sum(answers)
                    FROM live GROUP BY canvasser_id) x
                GROUP BY canvasser_id)
            SELECT
                (SELECT coalesce(jsonb_object_agg(result, n), '{}') FROM (SELECT result, sum(attempts) AS n FROM results GROUP BY result) r)::text,
                (SELECT jsonb_agg(jsonb_build_object(
                        'date', d.day::date::text, 'attempts', coalesce(x.attempts, 0), 'contacts', coalesce(x.contacts, 0)) ORDER BY d.day)
                 FROM generate_series(\(range.from)::date, \(range.to)::date, interval '1 day') d(day)
                 LEFT JOIN (
                     SELECT day, sum(attempts) AS attempts, sum(attempts) FILTER (WHERE result IN (\(unescaped: contacts))) AS contacts
                     FROM results GROUP BY day) x ON x.day = d.day::date)::text,
                (SELECT coalesce(jsonb_agg(jsonb_build_object(
                        'canvasserId', c.canvasser_id, 'name', coalesce(u.name, ''), 'attempts', c.attempts,
                        'contacts', c.contacts, 'surveyResponses', c.answers) ORDER BY c.attempts DESC, c.canvasser_id), '[]')
                 FROM canvassers c LEFT JOIN users u ON u.id = c.canvasser_id)::text,
                (SELECT coalesce(jsonb_agg(jsonb_build_object(
                        'listId', l.id, 'name', l.name, 'members', l.member_count, 'attempted', p.attempted,
                        'completion', p.reached::float8 / l.member_count)
                        ORDER BY l.name, l.id), '[]')
                 FROM lists l
                 CROSS JOIN (SELECT \(lo)::timestamptz AS lo, \(hi)::timestamptz AS hi) b
                 -- The list's member set while its members are as they were when it was built.
                 LEFT JOIN field_rollup_lists f ON f.list_id = l.id AND f.members_version = l.members_version
                     AND length(f.members) = \(edge.capacity)
                 CROSS JOIN LATERAL (
                     SELECT \(unescaped: Self.listMembers(in: "range_set", flag: "new_in_range", since: "i.occurred_at >= b.lo AND")) AS attempted,
                            \(unescaped: Self.listMembers(in: "reach_set", flag: "new_in_reach", since: "")) AS reached) p
                 WHERE l.org_id = \(scope.orgId) AND l.member_count > 0)::text,
                coalesce(bit_count((SELECT bits FROM range_set)), 0) + (SELECT count(*) FROM live_voters WHERE new_in_range),
                coalesce((SELECT max(last_received) FROM results), now())
            """,
            logger: logger
        )
        for try await (byResult, byDay, byCanvasser, byList, voters, asOf) in rows.decode((String, String, String, String, Int64, Date).self) {
            return try Self.assemble(
                range,
                asOf: asOf,
                voters: Int(voters),
                byResult: byResult,
                byDay: byDay,
                byCanvasser: byCanvasser,
                byList: byList
            )
        }
        throw StoreError.unexpected("the field summary query returned no row")
    }

    /// SQL for a list `l`'s members with an interaction in a span: from its member set while current (`f`,
    /// AND the rolled voters of the span in CTE `set`, plus its members among the live voters flagged `flag`),
    /// otherwise from its rows (`since`: the span's lower bound on `i.occurred_at`, if any; `b.hi` ends it).
    private static func listMembers(in set: String, flag: String, since: String) -> String {
        """
        CASE WHEN f.list_id IS NOT NULL THEN
            coalesce(bit_count(f.members & (SELECT bits FROM \(set))), 0) + (
                SELECT count(*) FROM live_voters v WHERE v.\(flag)
                AND EXISTS (SELECT 1 FROM list_members m WHERE m.list_id = l.id AND m.voter_id = v.voter_id))
        ELSE (
            SELECT count(*) FROM list_members m WHERE m.list_id = l.id AND EXISTS (
                SELECT 1 FROM interactions i WHERE i.org_id = m.org_id AND i.voter_id = m.voter_id
                AND \(since) i.occurred_at < b.hi))
        END
        """
    }

    private static func assemble(
        _ range: DayRange,
        asOf: Date,
        voters: Int,
        byResult: String,
        byDay: String,
        byCanvasser: String,
        byList: String
    ) throws -> FieldSummary {
        let decoder = JSONDecoder()
        let counts = try decoder.decode([String: Int].self, from: Data(byResult.utf8))
        var results: [InteractionResult: Int] = [:]
        for result in InteractionResult.allCases { results[result] = counts[result.rawValue] ?? 0 }
        let canvassers = try decoder.decode([FieldSummary.Canvasser].self, from: Data(byCanvasser.utf8))
        let attempts = results.values.reduce(0, +)
        let contacts = InteractionResult.contacts.reduce(0) { $0 + (results[$1] ?? 0) }
        return FieldSummary(
            from: range.from,
            to: range.to,
            asOf: asOf,
            totals: .init(
                attempts: attempts,
                contacts: contacts,
                contactRate: attempts == 0 ? 0 : Double(contacts) / Double(attempts),
                surveyResponses: canvassers.reduce(0) { $0 + $1.surveyResponses },
                votersAttempted: voters,
                activeCanvassers: canvassers.count
            ),
            byResult: results,
            byDay: try decoder.decode([FieldSummary.Day].self, from: Data(byDay.utf8)),
            byCanvasser: canvassers,
            byList: try decoder.decode([FieldSummary.ListProgress].self, from: Data(byList.utf8))
        )
    }
}
