import Foundation
import Logging
import PostgresNIO

/// The assignments of one organization and the voters on them.
public struct AssignmentRepository: Sendable {
    public let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    static let columns = """
        a.id, a.list_id, l.name, a.canvasser_id, u.name, a.status, a.assigned_by, a.created_at, l.member_count,
        (SELECT count(DISTINCT i.voter_id) FROM interactions i WHERE i.org_id = a.org_id AND i.assignment_id = a.id)::int8,
        (SELECT count(DISTINCT i.voter_id) FROM interactions i WHERE i.org_id = a.org_id AND i.assignment_id = a.id
         AND i.result IN ('canvassed', 'refused', 'hostile'))::int8
        """
    static let from = "assignments a JOIN lists l ON l.org_id = a.org_id AND l.id = a.list_id JOIN users u ON u.id = a.canvasser_id"

    static func read(_ c: inout Columns) throws -> Assignment {
        Assignment(
            id: try c.next(),
            listId: try c.next(),
            listName: try c.next(),
            canvasserId: try c.next(),
            canvasserName: try c.next(),
            status: try c.raw(AssignmentStatus.self),
            assignedBy: try c.next(),
            createdAt: try c.next(),
            progress: AssignmentProgress(total: try c.next(), attempted: try c.next(), contacted: try c.next())
        )
    }

    /// Newest first.
    public func assignments(
        in scope: OrgScope,
        filter: AssignmentFilter,
        limit: Int,
        after cursor: PageCursor?,
        on db: some QueryRunner
    ) async throws -> Page<Assignment> {
        let status = filter.status?.rawValue
        let rows = try await db.run(
            """
            SELECT \(unescaped: Self.columns), (extract(epoch FROM a.created_at) * 1000000)::int8
            FROM \(unescaped: Self.from)
            WHERE a.org_id = \(scope.orgId)
              AND (\(filter.listId)::uuid IS NULL OR a.list_id = \(filter.listId))
              AND (\(filter.canvasserId)::uuid IS NULL OR a.canvasser_id = \(filter.canvasserId))
              AND (\(status)::text IS NULL OR a.status = \(status))
              AND \(page: cursor, time: "a.created_at", id: "a.id")
            ORDER BY a.created_at DESC, a.id DESC LIMIT \(limit + 1)
            """,
            logger: logger
        )
        return try await Page.newestFirst(rows, limit: limit) { c in
            let assignment = try Self.read(&c)
            return (assignment, PageCursor(micros: try c.next(), id: assignment.id))
        }
    }

    /// One assignment with its progress; nil if this org has none with that id.
    public func assignment(_ id: UUID, in scope: OrgScope, on db: some QueryRunner) async throws -> Assignment? {
        let rows = try await db.run(
            "SELECT \(unescaped: Self.columns) FROM \(unescaped: Self.from) WHERE a.org_id = \(scope.orgId) AND a.id = \(id)",
            logger: logger
        )
        for try await row in rows {
            var columns = Columns(row)
            return try Self.read(&columns)
        }
        return nil
    }

    /// Assigns a list to a member of this org (the composite foreign key refuses anyone else). A
    /// list deleted by a transaction that committed meanwhile is `notFound`, like one never there.
    public func create(list: UUID, canvasser: UUID, by: UUID, in scope: OrgScope, on db: some QueryRunner) async throws -> UUID {
        do {
            let rows = try await db.run(
                """
                INSERT INTO assignments (org_id, list_id, canvasser_id, assigned_by)
                SELECT \(scope.orgId), \(list), \(canvasser), \(by)
                WHERE EXISTS (SELECT 1 FROM lists WHERE org_id = \(scope.orgId) AND id = \(list))
                RETURNING id
                """,
                logger: logger
            )
            for try await id in rows.decode(UUID.self) { return id }
        } catch let error where error.foreignKeyConstraint == "assignments_org_id_list_id_fkey" {
            throw CampaignError.notFound("no list with id \(list.uuidString.lowercased()); it was deleted meanwhile")
        } catch let error where error.foreignKeyConstraint != nil {
            throw CampaignError.unprocessable("canvasserId: \(canvasser.uuidString.lowercased()) is not a member of this organization")
        }
        throw CampaignError.notFound("no list with id \(list.uuidString.lowercased())")
    }

    /// Sets the status; false if there is no such assignment.
    public func update(_ id: UUID, status: AssignmentStatus, in scope: OrgScope, on db: some QueryRunner) async throws -> Bool {
        let rows = try await db.run(
            "UPDATE assignments SET status = \(status.rawValue), updated_at = now() WHERE org_id = \(scope.orgId) AND id = \(id) RETURNING id",
            logger: logger
        )
        for try await _ in rows { return true }
        return false
    }
}
