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
/// received after its cutoff, and those that were still open (after that run's today) then.
/// Invariant after a run: every interaction received at or before `cutoff` whose day is at or before
/// `rolled_through` is in the rollup tables, and no later one is; the summary reads the rest live.
public struct FieldRollups: Sendable {
    public let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// Rolls up every day up to today (in the org's zone) that needs it, on `connection` (the
    /// caller's transaction). Interactions received in the last `settle` are left for the next run,
    /// so a bulk insert still in flight (its `received_at` is its transaction's start) is not skipped.
    public func rollUp(_ scope: OrgScope, settle: Duration, on connection: PostgresConnection) async throws -> FieldRollupOutcome {
        let org = scope.orgId
        // Two runs of one org (a staff trigger beside the nightly one) take turns.
        try await lock(org, on: connection)
        let settleSeconds = Double(settle.components.seconds) + Double(settle.components.attoseconds) / 1e18
        // Today is rolled up too (up to the cutoff), so the summary reads live only what came after the last run.
        let rows = try await connection.run(
            """
            SELECT o.timezone, now() - make_interval(secs => \(settleSeconds)),
                   (now() AT TIME ZONE o.timezone)::date::text,
                   ((now() AT TIME ZONE o.timezone)::date + 1)::timestamp AT TIME ZONE o.timezone,
                   s.timezone, s.cutoff, s.open_from, coalesce(s.capacity, 0)
            FROM organizations o LEFT JOIN field_rollup_state s ON s.org_id = o.id
            WHERE o.id = \(org)
            """,
            logger: logger
        )
        var facts: (String, Date, String, Date, String?, Date?, Date?, Int32)?
        for try await row in rows.decode((String, Date, String, Date, String?, Date?, Date?, Int32).self) { facts = row }
        guard let (zone, now, through, openFrom, previousZone, previousCutoff, previousOpenFrom, previousCapacity) = facts else {
            throw StoreError.unexpected("organization \(org) is gone")
        }
        var sinceCutoff = previousCutoff ?? .distantPast
        var sinceOpen = previousOpenFrom ?? .distantFuture
        let rezoned = previousZone != nil && previousZone != zone
        if rezoned {
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
        let sets = FieldVoterSets(logger: logger)
        let known = try await sets.ordinalCount(org, on: connection)
        var capacity = Int(previousCapacity)
        if !days.isEmpty {
            capacity = try await recompute(days, org: org, zone: zone, cutoff: cutoff, capacity: capacity, on: connection)
        }
        try await sets.refreshLists(org, capacity: capacity, newFrom: known, on: connection)
        try await connection.run(
            """
            INSERT INTO field_rollup_state (org_id, timezone, cutoff, rolled_through, open_from, rolled_at, capacity)
            VALUES (\(org), \(zone), \(cutoff), \(through)::date, \(openFrom), now(), \(Int32(capacity)))
            ON CONFLICT (org_id) DO UPDATE SET timezone = excluded.timezone, cutoff = excluded.cutoff,
                rolled_through = excluded.rolled_through, open_from = excluded.open_from, rolled_at = excluded.rolled_at,
                capacity = excluded.capacity
            """,
            logger: logger
        ).consume()
        // The union changes only with the days (a capacity change comes with recomputed days too).
        if !days.isEmpty || rezoned { try await sets.writeUnion(org, on: connection) }
        return FieldRollupOutcome(days: days, rolledThrough: through)
    }

    /// Rebuilds one list's member set after its members changed (a population), so the summary does not
    /// count the list from its rows until the next rollup. Nothing to do for an org never rolled up.
    public func refreshList(_ list: UUID, in scope: OrgScope, on connection: PostgresConnection) async throws {
        try await lock(scope.orgId, on: connection)
        let rows = try await connection.run("SELECT capacity FROM field_rollup_state WHERE org_id = \(scope.orgId)", logger: logger)
        var capacity: Int32 = 0
        for try await value in rows.decode(Int32.self) { capacity = value }
        guard capacity > 0 else { return }
        try await FieldVoterSets(logger: logger).refreshList(list, org: scope.orgId, capacity: Int(capacity), on: connection)
    }

    /// The org's rollup lock, held until the transaction ends: runs and list refreshes take turns.
    private func lock(_ org: UUID, on connection: PostgresConnection) async throws {
        try await connection.run("SELECT pg_advisory_xact_lock(hashtextextended('field-rollup:' || \(org)::text, 0))", logger: logger).consume()
    }

    private func clear(_ org: UUID, on connection: PostgresConnection) async throws {
        try await connection.run("DELETE FROM field_rollup_results WHERE org_id = \(org)", logger: logger).consume()
        try await connection.run("DELETE FROM field_rollup_canvassers WHERE org_id = \(org)", logger: logger).consume()
        try await connection.run("DELETE FROM field_rollup_voters WHERE org_id = \(org)", logger: logger).consume()
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

    /// Replaces the rollup rows and voter sets of `days` with those of their interactions received by `cutoff`;
    /// returns the org's set capacity after (grown when the new ordinals need it).
    private func recompute(
        _ days: [String],
        org: UUID,
        zone: String,
        cutoff: Date,
        capacity: Int,
        on connection: PostgresConnection
    ) async throws -> Int {
        for table in ["field_rollup_results", "field_rollup_canvassers", "field_rollup_voters"] {
            try await connection.run(
                PostgresQuery(unsafeSQL: "DELETE FROM \(table) WHERE org_id = $1 AND day = ANY($2::date[])", binds: Self.binds(org, days)),
                logger: logger
            ).consume()
        }
        // `days` is in order: the first one's start bounds the rows.
        let starts = try await connection.run("SELECT \(days[0])::date::timestamp AT TIME ZONE \(zone)", logger: logger)
        var since = Date.distantPast
        for try await start in starts.decode(Date.self) { since = start }
        var bindings = PostgresBindings()
        bindings.append(org)
        bindings.append(zone)
        bindings.append(cutoff)
        bindings.append(days)
        bindings.append(since)
        let rows = "\(FieldVoterSets.rowsFrom) \(FieldVoterSets.rowsWhere)"
        try await connection.run(
            PostgresQuery(
                unsafeSQL: """
                    INSERT INTO field_rollup_results (org_id, day, result, attempts, last_received_at)
                    SELECT $1, d.day, i.result, count(*), max(i.received_at) \(rows) GROUP BY d.day, i.result
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
                    \(FieldVoterSets.rowsFrom)
                    LEFT JOIN LATERAL (SELECT count(*)::int AS n FROM survey_responses r WHERE r.org_id = i.org_id AND r.interaction_id = i.id) a ON true
                    \(FieldVoterSets.rowsWhere)
                    GROUP BY d.day, i.canvasser_id
                    """,
                binds: bindings
            ),
            logger: logger
        ).consume()
        let sets = FieldVoterSets(logger: logger)
        try await sets.assignOrdinals(bindings, on: connection)
        let needed = FieldVoterSets.capacity(for: try await sets.ordinalCount(org, on: connection))
        let grown = max(capacity, needed)
        if grown > capacity { try await sets.grow(org, to: grown, on: connection) }
        try await sets.writeDays(bindings, org: org, capacity: grown, on: connection)
        return grown
    }

    private static func binds(_ org: UUID, _ days: [String]) -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(org)
        bindings.append(days)
        return bindings
    }
}
