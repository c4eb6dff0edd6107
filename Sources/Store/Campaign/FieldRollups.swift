import Foundation
import Logging
import PostgresNIO

extension InteractionResult {
    /// The results that count as a contact (the contract: canvassed, refused, hostile).
    public static let contacts: [InteractionResult] = [.canvassed, .refused, .hostile]
    /// `contacts` as a SQL list literal (fixed values, no input).
    static let contactsSQL = contacts.map { "'\($0.rawValue)'" }.joined(separator: ", ")
}

/// What one rollup of an org did.
public struct FieldRollupOutcome: Sendable, Equatable {
    /// The days recomputed (YYYY-MM-DD, the org's zone), oldest first.
    public let days: [String]
    /// The last day the rollups now cover.
    public let rolledThrough: String
}

/// Writes an org's daily field rollups. A run recomputes whole days from the raw rows (so it is
/// idempotent) and only the days that changed since the previous run: those with interactions
/// received after its cutoff, and those that were still open (today or later) then.
/// Invariant after a run: every interaction received at or before `cutoff` whose day is at or before
/// `rolled_through` is in the rollup tables, and no later one is; the summary reads the rest live.
public struct FieldRollups: Sendable {
    public let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// Rolls up every day before today (in the org's zone) that needs it, on `connection` (the
    /// caller's transaction). Interactions received in the last `settle` are left for the next run,
    /// so a bulk insert still in flight (its `received_at` is its transaction's start) is not skipped.
    public func rollUp(_ scope: OrgScope, settle: Duration, on connection: PostgresConnection) async throws -> FieldRollupOutcome {
        let org = scope.orgId
        // Two runs of one org (a staff trigger beside the nightly one) take turns.
        try await connection.run("SELECT pg_advisory_xact_lock(hashtextextended('field-rollup:' || \(org)::text, 0))", logger: logger).consume()
        let settleSeconds = Double(settle.components.seconds) + Double(settle.components.attoseconds) / 1e18
        let rows = try await connection.run(
            """
            SELECT o.timezone, now() - make_interval(secs => \(settleSeconds)),
                   ((now() AT TIME ZONE o.timezone)::date - 1)::text,
                   (now() AT TIME ZONE o.timezone)::date::timestamp AT TIME ZONE o.timezone,
                   s.timezone, s.cutoff, s.open_from
            FROM organizations o LEFT JOIN field_rollup_state s ON s.org_id = o.id
            WHERE o.id = \(org)
            """,
            logger: logger
        )
        var facts: (String, Date, String, Date, String?, Date?, Date?)?
        for try await row in rows.decode((String, Date, String, Date, String?, Date?, Date?).self) { facts = row }
        guard let (zone, now, through, openFrom, previousZone, previousCutoff, previousOpenFrom) = facts else {
            throw StoreError.unexpected("organization \(org) is gone")
        }
        var sinceCutoff = previousCutoff ?? .distantPast
        var sinceOpen = previousOpenFrom ?? .distantFuture
        if previousZone != nil && previousZone != zone {
            // The org moved to another zone: its days are cut differently, so everything is rebuilt.
            try await clear(org, on: connection)
            (sinceCutoff, sinceOpen) = (.distantPast, .distantFuture)
        }
        // Never behind the previous cutoff: rows up to it are already in the rolled days.
        let cutoff = max(now, sinceCutoff)
        let days = try await changedDays(
            org,
            zone: zone,
            since: sinceCutoff,
            openSince: sinceOpen,
            cutoff: cutoff,
            openFrom: openFrom,
            on: connection
        )
        if !days.isEmpty { try await recompute(days, org: org, zone: zone, cutoff: cutoff, on: connection) }
        try await connection.run(
            """
            INSERT INTO field_rollup_state (org_id, timezone, cutoff, rolled_through, open_from, rolled_at)
            VALUES (\(org), \(zone), \(cutoff), \(through)::date, \(openFrom), now())
            ON CONFLICT (org_id) DO UPDATE SET timezone = excluded.timezone, cutoff = excluded.cutoff,
                rolled_through = excluded.rolled_through, open_from = excluded.open_from, rolled_at = excluded.rolled_at
            """,
            logger: logger
        ).consume()
        return FieldRollupOutcome(days: days, rolledThrough: through)
    }

    private func clear(_ org: UUID, on connection: PostgresConnection) async throws {
        try await connection.run("DELETE FROM field_rollup_results WHERE org_id = \(org)", logger: logger).consume()
        try await connection.run("DELETE FROM field_rollup_canvassers WHERE org_id = \(org)", logger: logger).consume()
    }

    /// Days before `openFrom` holding rows the rollups lack: received after the previous cutoff, or
    /// of a day that was still open at the previous run. Both halves are index range scans.
    private func changedDays(
        _ org: UUID,
        zone: String,
        since: Date,
        openSince: Date,
        cutoff: Date,
        openFrom: Date,
        on connection: PostgresConnection
    ) async throws -> [String] {
        let rows = try await connection.run(
            """
            SELECT DISTINCT (c.occurred_at AT TIME ZONE \(zone))::date::text AS day FROM (
                SELECT occurred_at FROM interactions
                WHERE org_id = \(org) AND received_at > \(since) AND received_at <= \(cutoff) AND occurred_at < \(openFrom)
                UNION ALL
                SELECT occurred_at FROM interactions
                WHERE org_id = \(org) AND occurred_at >= \(openSince) AND occurred_at < \(openFrom) AND received_at <= \(cutoff)
            ) c ORDER BY day
            """,
            logger: logger
        )
        var days: [String] = []
        for try await day in rows.decode(String.self) { days.append(day) }
        return days
    }

    /// Replaces the rollup rows of `days` with aggregates of their interactions received by `cutoff`.
    private func recompute(_ days: [String], org: UUID, zone: String, cutoff: Date, on connection: PostgresConnection) async throws {
        try await connection.run("DELETE FROM field_rollup_results WHERE org_id = \(org) AND day = ANY(\(days)::date[])", logger: logger)
            .consume()
        try await connection.run("DELETE FROM field_rollup_canvassers WHERE org_id = \(org) AND day = ANY(\(days)::date[])", logger: logger)
            .consume()
        // The rows of those days: bounded by the first day's start so the occurred_at index serves it.
        let source = """
            FROM interactions i
            CROSS JOIN LATERAL (SELECT (i.occurred_at AT TIME ZONE $2)::date AS day) d
            LEFT JOIN LATERAL (SELECT count(*)::int AS n FROM survey_responses r WHERE r.org_id = i.org_id AND r.interaction_id = i.id) a ON true
            WHERE i.org_id = $1 AND i.received_at <= $3 AND d.day = ANY($4::date[])
              AND i.occurred_at >= ((SELECT min(x) FROM unnest($4::date[]) x)::timestamp AT TIME ZONE $2)
            """
        var bindings = PostgresBindings()
        bindings.append(org)
        bindings.append(zone)
        bindings.append(cutoff)
        bindings.append(days)
        try await connection.run(
            PostgresQuery(
                unsafeSQL: """
                    INSERT INTO field_rollup_results (org_id, day, result, attempts, last_received_at)
                    SELECT $1, d.day, i.result, count(*), max(i.received_at) \(source) GROUP BY d.day, i.result
                    """,
                binds: bindings
            ),
            logger: logger
        ).consume()
        try await connection.run(
            PostgresQuery(
                unsafeSQL: """
                    INSERT INTO field_rollup_canvassers (org_id, day, canvasser_id, attempts, contacts, survey_responses)
                    SELECT $1, d.day, i.canvasser_id, count(*),
                           count(*) FILTER (WHERE i.result IN (\(InteractionResult.contactsSQL))), sum(a.n)
                    \(source) GROUP BY d.day, i.canvasser_id
                    """,
                binds: bindings
            ),
            logger: logger
        ).consume()
    }
}
