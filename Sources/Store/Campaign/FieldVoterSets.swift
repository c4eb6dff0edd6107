import Foundation
import Logging
import NIOCore
import PostgresNIO

/// The rollups' voter sets (migration 0014): a dense ordinal per attempted voter of an org, and bit strings
/// indexed by it, one per rolled day and one per list, all of the org's `capacity` bits. The summary gets a
/// range's distinct voters as the popcount of the OR of its days, and a list's attempted members as the
/// popcount of the list's set AND the range's: a few hundred kilobytes read instead of every interaction.
/// Every write here runs inside a rollup's transaction, under its per-org lock.
struct FieldVoterSets: Sendable {
    let logger: Logger

    /// The rows of the recomputed days (`$1` org, `$2` zone, `$3` cutoff, `$4` days, `$5` the first day's start) as `i`,
    /// each with its `d.day`: joins go between `rowsFrom` and `rowsWhere`. Bounded by `$5`, a value the planner sees, so
    /// the occurred_at index serves a run of a few recent days.
    static let rowsFrom = """
        FROM interactions i
        CROSS JOIN LATERAL (SELECT (i.occurred_at AT TIME ZONE $2)::date AS day) d
        """
    static let rowsWhere = """
        WHERE i.org_id = $1 AND i.received_at <= $3 AND d.day = ANY($4::date[])
          AND i.occurred_at >= $5
        """

    /// The number of ordinals the org has given.
    func ordinalCount(_ org: UUID, on connection: PostgresConnection) async throws -> Int {
        let rows = try await connection.run(
            "SELECT coalesce(max(ordinal) + 1, 0) FROM field_voter_ordinals WHERE org_id = \(org)",
            logger: logger
        )
        for try await count in rows.decode(Int32.self) { return Int(count) }
        return 0
    }

    /// Gives the next ordinals to the voters of the recomputed days' rows that have none.
    func assignOrdinals(_ bindings: PostgresBindings, on connection: PostgresConnection) async throws {
        try await connection.run(
            PostgresQuery(
                unsafeSQL: """
                    INSERT INTO field_voter_ordinals (org_id, voter_id, ordinal)
                    SELECT $1, v.voter_id,
                           (SELECT coalesce(max(ordinal) + 1, 0) FROM field_voter_ordinals WHERE org_id = $1) + row_number() OVER () - 1
                    FROM (SELECT DISTINCT i.voter_id \(Self.rowsFrom) \(Self.rowsWhere)) v
                    WHERE NOT EXISTS (SELECT 1 FROM field_voter_ordinals o WHERE o.org_id = $1 AND o.voter_id = v.voter_id)
                    """,
                binds: bindings
            ),
            logger: logger
        ).consume()
    }

    /// The capacity `ordinals` need: a power of two, at least 1,024 bits.
    static func capacity(for ordinals: Int) -> Int {
        var capacity = 1024
        while capacity < ordinals { capacity *= 2 }
        return capacity
    }

    /// Lengthens every stored set of the org to `capacity` (it grows by doubling, so this is rare).
    func grow(_ org: UUID, to capacity: Int, on connection: PostgresConnection) async throws {
        for (table, column) in [("field_rollup_voters", "voters"), ("field_rollup_lists", "members")] {
            var bindings = PostgresBindings()
            bindings.append(org)
            bindings.append(Int32(capacity))
            let sql = "UPDATE \(table) SET \(column) = field_bits_pad(\(column), $2) WHERE org_id = $1 AND length(\(column)) < $2"
            try await connection.run(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger).consume()
        }
    }

    /// Writes the voter set of each recomputed day (their old sets are already deleted).
    func writeDays(_ bindings: PostgresBindings, org: UUID, capacity: Int, on connection: PostgresConnection) async throws {
        let rows = try await connection.run(
            PostgresQuery(
                unsafeSQL: """
                    SELECT d.day::text, array_agg(o.ordinal) \(Self.rowsFrom)
                    JOIN field_voter_ordinals o ON o.org_id = i.org_id AND o.voter_id = i.voter_id
                    \(Self.rowsWhere)
                    GROUP BY d.day
                    """,
                binds: bindings
            ),
            logger: logger
        )
        var sets: [(String, ByteBuffer)] = []
        for try await (day, ordinals) in rows.decode((String, [Int32]).self) {
            sets.append((day, Self.bits(ordinals, capacity: capacity)))
        }
        let length = Int32(capacity)
        for (day, bits) in sets {
            try await connection.run(
                "INSERT INTO field_rollup_voters (org_id, day, voters) VALUES (\(org), \(day)::date, field_bits(\(bits), \(length)))",
                logger: logger
            ).consume()
        }
    }

    /// Rebuilds the member sets of the org's lists that changed since theirs was built, or that hold a
    /// voter whose ordinal is `newFrom` or later (given by this run; probed list by list, through the members' key).
    func refreshLists(_ org: UUID, capacity: Int, newFrom: Int, on connection: PostgresConnection) async throws {
        let stale = try await connection.run(
            """
            SELECT l.id FROM lists l LEFT JOIN field_rollup_lists f ON f.list_id = l.id
            WHERE l.org_id = \(org) AND l.member_count > 0 AND (f.list_id IS NULL OR f.members_version <> l.members_version)
            UNION
            SELECT l.id FROM lists l CROSS JOIN LATERAL (
                SELECT 1 FROM field_voter_ordinals o JOIN list_members m ON m.list_id = l.id AND m.voter_id = o.voter_id
                WHERE o.org_id = \(org) AND o.ordinal >= \(Int32(newFrom)) LIMIT 1
            ) holds
            WHERE l.org_id = \(org) AND l.member_count > 0
            """,
            logger: logger
        )
        var lists: [UUID] = []
        for try await id in stale.decode(UUID.self) { lists.append(id) }
        for list in lists { try await refreshList(list, org: org, capacity: capacity, on: connection) }
    }

    /// Rebuilds one list's member set; its version and members come from one snapshot.
    func refreshList(_ list: UUID, org: UUID, capacity: Int, on connection: PostgresConnection) async throws {
        let rows = try await connection.run(
            """
            SELECT l.members_version, ARRAY(
                SELECT o.ordinal FROM list_members m
                JOIN field_voter_ordinals o ON o.org_id = m.org_id AND o.voter_id = m.voter_id
                WHERE m.list_id = l.id)
            FROM lists l WHERE l.id = \(list) AND l.org_id = \(org)
            """,
            logger: logger
        )
        var found: (Int64, [Int32])?
        for try await row in rows.decode((Int64, [Int32]).self) { found = row }
        guard let (version, ordinals) = found else { return }
        let bits = Self.bits(ordinals, capacity: capacity)
        try await connection.run(
            """
            INSERT INTO field_rollup_lists (list_id, org_id, members_version, members)
            VALUES (\(list), \(org), \(version), field_bits(\(bits), \(Int32(capacity))))
            ON CONFLICT (list_id) DO UPDATE SET members_version = excluded.members_version, members = excluded.members
            """,
            logger: logger
        ).consume()
    }

    /// The union of the org's day sets, kept on its rollup state.
    func writeUnion(_ org: UUID, on connection: PostgresConnection) async throws {
        try await connection.run(
            """
            UPDATE field_rollup_state SET attempted = (SELECT bit_or(voters) FROM field_rollup_voters WHERE org_id = \(org))
            WHERE org_id = \(org)
            """,
            logger: logger
        ).consume()
    }

    /// The bytes of a `capacity`-bit string with `ordinals` set: bit n is ordinal n, the first bit the
    /// high bit of the first byte (how `x`-hex bit strings read).
    static func bits(_ ordinals: [Int32], capacity: Int) -> ByteBuffer {
        var bytes = [UInt8](repeating: 0, count: capacity / 8)
        for ordinal in ordinals where ordinal >= 0 && Int(ordinal) < capacity {
            bytes[Int(ordinal) >> 3] |= 0x80 >> UInt8(ordinal & 7)
        }
        return ByteBuffer(bytes: bytes)
    }
}
