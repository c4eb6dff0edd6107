import Foundation
import PostgresNIO

extension VoterListRepository {
    /// Adds voters in one statement and counts them into the list (lock the list first). A list or
    /// voter deleted by a transaction that committed meanwhile is `notFound` / `conflict`, not a 500.
    public func addMembers(_ voterIds: [UUID], to list: UUID, in scope: OrgScope, on connection: PostgresConnection) async throws -> MembersAdded {
        let unique = Array(Set(voterIds))
        let rows: QueryRows
        do {
            rows = try await connection.run(
                """
                WITH wanted AS (SELECT DISTINCT unnest(\(unique)::uuid[]) AS id),
                known AS (SELECT w.id FROM wanted w JOIN voters v ON v.org_id = \(scope.orgId) AND v.id = w.id),
                inserted AS (
                    INSERT INTO list_members (org_id, list_id, voter_id) SELECT \(scope.orgId), \(list), id FROM known
                    ON CONFLICT (list_id, voter_id) DO NOTHING RETURNING voter_id
                ),
                counted AS (
                    UPDATE lists SET member_count = member_count + (SELECT count(*) FROM inserted), updated_at = now()
                    WHERE org_id = \(scope.orgId) AND id = \(list) RETURNING member_count
                )
                SELECT (SELECT count(*) FROM inserted)::int8, (SELECT count(*) FROM known)::int8,
                       COALESCE((SELECT array_agg(w.id) FROM wanted w WHERE w.id NOT IN (SELECT id FROM known)), '{}'::uuid[]),
                       (SELECT member_count FROM counted)
                """,
                logger: logger
            )
            for try await (added, known, missing, _) in rows.decode((Int, Int, [UUID], Int?).self) {
                return MembersAdded(added: added, alreadyPresent: known - added, notFound: missing)
            }
        } catch let error where error.foreignKeyConstraint != nil {
            if error.foreignKeyConstraint == "list_members_org_id_list_id_fkey" {
                throw CampaignError.notFound("no list with id \(list.uuidString.lowercased()); it was deleted meanwhile")
            }
            throw CampaignError.conflict("a voter was deleted while being added to the list; add the voters again")
        }
        throw StoreError.unexpected("no add-members row")
    }

    /// Removes voters and counts them out of the list (lock the list first); returns how many were members.
    public func removeMembers(_ voterIds: [UUID], from list: UUID, in scope: OrgScope, on connection: PostgresConnection) async throws -> Int {
        let rows = try await connection.run(
            """
            WITH removed AS (
                DELETE FROM list_members WHERE org_id = \(scope.orgId) AND list_id = \(list) AND voter_id = ANY(\(voterIds)) RETURNING voter_id
            ),
            counted AS (
                UPDATE lists SET member_count = member_count - (SELECT count(*) FROM removed), updated_at = now()
                WHERE org_id = \(scope.orgId) AND id = \(list) RETURNING member_count
            )
            SELECT (SELECT count(*) FROM removed)::int8, (SELECT member_count FROM counted)
            """,
            logger: logger
        )
        for try await (removed, _) in rows.decode((Int, Int?).self) { return removed }
        return 0
    }

    /// A page of the list's voters by voter id.
    public func members(
        of list: UUID,
        in scope: OrgScope,
        limit: Int,
        after: UUID?,
        on db: some QueryRunner
    ) async throws -> (items: [Voter], nextCursor: String?) {
        let rows = try await db.run(
            """
            SELECT \(unescaped: Voter.columns) FROM list_members lm JOIN voters v ON v.org_id = lm.org_id AND v.id = lm.voter_id
            WHERE lm.org_id = \(scope.orgId) AND lm.list_id = \(list) AND (\(after == nil) OR lm.voter_id > \(after ?? UUID()))
            ORDER BY lm.voter_id LIMIT \(limit + 1)
            """,
            logger: logger
        )
        var items: [Voter] = []
        for try await row in rows { items.append(try Voter.read(row)) }
        let kept = Array(items.prefix(limit))
        return (kept, items.count > limit ? kept.last.map { KeyCursor([$0.id.uuidString]).encoded } : nil)
    }
}
