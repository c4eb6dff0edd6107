import Foundation
import Logging
import PostgresNIO

/// The voter lists of one organization and their members.
public struct VoterListRepository: Sendable {
    public let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    static let columns = """
        l.id, l.name, l.description, l.member_count, l.source, l.criteria::text, l.population_job_id, pj.state, l.created_by, l.created_at, \
        l.updated_at
        """
    /// A list with its population job's state (the job's org is checked too: ids never cross orgs).
    static let joinPopulation = "LEFT JOIN jobs pj ON pj.id = l.population_job_id AND pj.org_id = l.org_id"

    static func read(_ c: inout Columns) throws -> VoterList {
        VoterList(
            id: try c.next(),
            name: try c.next(),
            description: try c.next(),
            memberCount: try c.next(),
            source: try c.raw(ListSource.self),
            criteria: try c.json(VoterCriteria.self),
            population: try Self.population(jobId: try c.next(), state: try c.next()),
            createdBy: try c.next(),
            createdAt: try c.next(),
            updatedAt: try c.next()
        )
    }

    static func population(jobId: UUID?, state: String?) -> ListPopulation? {
        guard let jobId, let state else { return nil }
        return ListPopulation(jobId: jobId, status: .init(ledgerState: state))
    }

    static func first(_ rows: QueryRows) async throws -> VoterList? {
        for try await row in rows {
            var columns = Columns(row)
            return try read(&columns)
        }
        return nil
    }

    /// Newest first.
    public func lists(in scope: OrgScope, limit: Int, after cursor: PageCursor?, on db: some QueryRunner) async throws -> Page<VoterList> {
        let rows = try await db.run(
            """
            SELECT \(unescaped: Self.columns), (extract(epoch FROM l.created_at) * 1000000)::int8 FROM lists l \(unescaped: Self.joinPopulation)
            WHERE l.org_id = \(scope.orgId)
              AND \(page: cursor, time: "l.created_at", id: "l.id")
            ORDER BY l.created_at DESC, l.id DESC LIMIT \(limit + 1)
            """,
            logger: logger
        )
        return try await Page.newestFirst(rows, limit: limit) { c in
            let list = try Self.read(&c)
            return (list, PageCursor(micros: try c.next(), id: list.id))
        }
    }

    /// One list; nil if this org has none with that id.
    public func list(_ id: UUID, in scope: OrgScope, on db: some QueryRunner) async throws -> VoterList? {
        try await Self.first(
            try await db.run(
                "SELECT \(unescaped: Self.columns) FROM lists l \(unescaped: Self.joinPopulation) WHERE l.org_id = \(scope.orgId) AND l.id = \(id)",
                logger: logger
            )
        )
    }

    /// A new, empty list: manual, or (with `criteria`) to be populated by a job (`setPopulation`).
    public func create(
        name: String,
        description: String?,
        criteria: VoterCriteria? = nil,
        createdBy: UUID,
        in scope: OrgScope,
        on db: some QueryRunner
    ) async throws -> VoterList {
        let source = criteria == nil ? ListSource.manual : .criteria
        let json = try criteria.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        let rows = try await db.run(
            """
            WITH l AS (
                INSERT INTO lists (org_id, name, description, source, criteria, created_by)
                VALUES (\(scope.orgId), \(name), \(description), \(source.rawValue), \(json)::jsonb, \(createdBy)) RETURNING *
            )
            SELECT \(unescaped: Self.columns) FROM l \(unescaped: Self.joinPopulation)
            """,
            logger: logger
        )
        guard let list = try await Self.first(rows) else { throw StoreError.unexpected("no list row") }
        return list
    }

    /// Renames or redescribes a list; nil leaves a field as it is.
    public func update(_ id: UUID, name: String?, description: String?, in scope: OrgScope, on db: some QueryRunner) async throws -> VoterList? {
        try await Self.first(
            try await db.run(
                """
                WITH l AS (
                    UPDATE lists AS l SET name = COALESCE(\(name), l.name), description = COALESCE(\(description), l.description), updated_at = now()
                    WHERE l.org_id = \(scope.orgId) AND l.id = \(id) RETURNING l.*
                )
                SELECT \(unescaped: Self.columns) FROM l \(unescaped: Self.joinPopulation)
                """,
                logger: logger
            )
        )
    }

    /// Deletes a list without active assignments (their history goes with it; interactions keep their rows).
    public func delete(_ id: UUID, in scope: OrgScope, on connection: PostgresConnection) async throws {
        guard try await lock(id, in: scope, on: connection) else { throw CampaignError.notFound("no list with id \(id.uuidString.lowercased())") }
        let active = try await connection.run(
            "SELECT count(*)::int8 FROM assignments WHERE org_id = \(scope.orgId) AND list_id = \(id) AND status = 'active'",
            logger: logger
        )
        for try await n in active.decode(Int.self) where n > 0 {
            throw CampaignError.conflict("the list has \(n) active assignment\(n == 1 ? "" : "s"); complete or revoke them first")
        }
        try await connection.run(
            "UPDATE interactions SET list_id = NULL WHERE org_id = \(scope.orgId) AND list_id = \(id)",
            logger: logger
        ).consume()
        try await connection.run("DELETE FROM assignments WHERE org_id = \(scope.orgId) AND list_id = \(id)", logger: logger).consume()
        try await connection.run("DELETE FROM lists WHERE org_id = \(scope.orgId) AND id = \(id)", logger: logger).consume()
    }

    /// Locks the list row (member counts change under it); false if there is no such list.
    public func lock(_ id: UUID, in scope: OrgScope, on connection: PostgresConnection) async throws -> Bool {
        try await lock(id, in: scope, strength: .update, on: connection)
    }

    /// Keeps the list from being deleted and its members routes (which `lock` it) waiting, while other holders of this
    /// lock go on beside: a population's chunks run in parallel under it. False if there is no such list.
    public func lockForPopulation(_ id: UUID, in scope: OrgScope, on connection: PostgresConnection) async throws -> Bool {
        try await lock(id, in: scope, strength: .keyShare, on: connection)
    }

    private enum LockStrength: String {
        case update = "UPDATE"
        case keyShare = "KEY SHARE"
    }

    private func lock(_ id: UUID, in scope: OrgScope, strength: LockStrength, on connection: PostgresConnection) async throws -> Bool {
        let rows = try await connection.run(
            "SELECT 1 FROM lists WHERE org_id = \(scope.orgId) AND id = \(id) FOR \(unescaped: strength.rawValue)",
            logger: logger
        )
        for try await _ in rows { return true }
        return false
    }
}
