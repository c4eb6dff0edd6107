import Foundation
import PostgresNIO

extension AssignmentRepository {
    /// The cursor before the first voter of a walk: precinct, street, house number, unit, voter id.
    static let walkStart = ["", "", "-1", "", "00000000-0000-0000-0000-000000000000"]

    /// The assignment's voters in walk order (precinct, street, house number as a number, unit, id),
    /// each with the result and time of its latest interaction; keyset-paged on those five values.
    public func walk(
        _ id: UUID,
        in scope: OrgScope,
        limit: Int,
        after: KeyCursor?,
        on db: some QueryRunner
    ) async throws -> (items: [AssignedVoter], nextCursor: String?) {
        let key = after?.values ?? Self.walkStart
        let rows = try await db.run(
            """
            SELECT \(unescaped: Voter.columns), last.result, last.occurred_at,
                   COALESCE(v.precinct, ''), COALESCE(v.res_street_name, ''), COALESCE(v.res_house_sort, 0)::int8, COALESCE(v.res_unit, '')
            FROM assignments a
            JOIN list_members lm ON lm.org_id = a.org_id AND lm.list_id = a.list_id
            JOIN voters v ON v.org_id = lm.org_id AND v.id = lm.voter_id
            LEFT JOIN LATERAL (
                SELECT i.result, i.occurred_at FROM interactions i WHERE i.org_id = v.org_id AND i.voter_id = v.id
                ORDER BY i.occurred_at DESC, i.id DESC LIMIT 1
            ) last ON true
            WHERE a.org_id = \(scope.orgId) AND a.id = \(id)
              AND (COALESCE(v.precinct, ''), COALESCE(v.res_street_name, ''), COALESCE(v.res_house_sort, 0)::int8, COALESCE(v.res_unit, ''), v.id)
                  > (\(key[0]), \(key[1]), \(Int(key[2]) ?? -1)::int8, \(key[3]), \(UUID(uuidString: key[4]) ?? UUID()))
            ORDER BY COALESCE(v.precinct, ''), COALESCE(v.res_street_name, ''), COALESCE(v.res_house_sort, 0)::int8, COALESCE(v.res_unit, ''), v.id
            LIMIT \(limit + 1)
            """,
            logger: logger
        )
        var items: [(AssignedVoter, [String])] = []
        for try await row in rows {
            var c = Columns(row)
            let voter = try Voter.read(&c)
            let assigned = AssignedVoter(voter: voter, lastResult: try c.rawIfPresent(InteractionResult.self), lastContactAt: try c.next())
            let walkKey = [try c.next(String.self), try c.next(String.self), String(try c.next(Int.self)), try c.next(String.self)]
            items.append((assigned, walkKey + [voter.id.uuidString]))
        }
        let kept = Array(items.prefix(limit))
        return (kept.map(\.0), items.count > limit ? kept.last.map { KeyCursor($0.1).encoded } : nil)
    }
}
