import Foundation
import Logging
import PostgresNIO

/// Organizations: created by staff, read by everyone who belongs to them.
public struct OrganizationRepository: Sendable {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    static let columns = "o.id, o.name, o.slug, o.timezone, o.created_at"

    static func decode(_ row: PostgresRow) throws -> Organization {
        let (id, name, slug, timezone, createdAt) = try row.decode((UUID, String, String, String, Date).self)
        return Organization(id: id, name: name, slug: slug, timezone: timezone, createdAt: createdAt)
    }

    /// Creates an organization; nil when the slug is taken.
    public func create(name: String, slug: String, timezone: String, on db: some QueryRunner) async throws -> Organization? {
        do {
            let rows = try await db.run(
                """
                INSERT INTO organizations AS o (name, slug, timezone) VALUES (\(name), \(slug), \(timezone))
                RETURNING \(unescaped: Self.columns)
                """,
                logger: logger
            )
            for try await row in rows { return try Self.decode(row) }
            return nil
        } catch  where error.isUniqueViolation {
            return nil
        }
    }

    public func find(id: UUID, on db: some QueryRunner) async throws -> Organization? {
        let rows = try await db.run("SELECT \(unescaped: Self.columns) FROM organizations o WHERE o.id = \(id)", logger: logger)
        for try await row in rows { return try Self.decode(row) }
        return nil
    }

    /// What staff see of an organization's size and activity.
    public struct Health: Sendable {
        public let voters: Int
        public let lists: Int
        public let interactions: Int
        public let members: Int
        public let failedImportsLast7d: Int
        public let lastInteractionAt: Date?
    }

    public func health(of id: UUID, on db: some QueryRunner) async throws -> Health {
        let rows = try await db.run(
            """
            SELECT (SELECT count(*) FROM voters WHERE org_id = \(id))::int8,
                   (SELECT count(*) FROM lists WHERE org_id = \(id))::int8,
                   (SELECT count(*) FROM interactions WHERE org_id = \(id))::int8,
                   (SELECT count(*) FROM memberships WHERE org_id = \(id))::int8,
                   (SELECT count(*) FROM jobs WHERE org_id = \(id) AND pipeline = 'voter-import' AND state = 'dead'
                      AND finished_at > now() - interval '7 days')::int8,
                   (SELECT max(occurred_at) FROM interactions WHERE org_id = \(id))
            """,
            logger: logger
        )
        for try await (voters, lists, interactions, members, failed, last) in rows.decode((Int, Int, Int, Int, Int, Date?).self) {
            return Health(
                voters: voters,
                lists: lists,
                interactions: interactions,
                members: members,
                failedImportsLast7d: failed,
                lastInteractionAt: last
            )
        }
        throw StoreError.unexpected("no health row")
    }

    /// Which of `ids` are organizations.
    public func existing(_ ids: [UUID], on db: some QueryRunner) async throws -> Set<UUID> {
        var found: Set<UUID> = []
        for try await id in try await db.run("SELECT id FROM organizations WHERE id = ANY(\(ids))", logger: logger).decode(UUID.self) {
            found.insert(id)
        }
        return found
    }

    public func find(slug: String, on db: some QueryRunner) async throws -> Organization? {
        let rows = try await db.run("SELECT \(unescaped: Self.columns) FROM organizations o WHERE o.slug = \(slug)", logger: logger)
        for try await row in rows { return try Self.decode(row) }
        return nil
    }

    /// An organization as platform staff see it in the list.
    public struct Summary: Sendable {
        public let org: Organization
        public let members: Int
        public let voters: Int
        public let lastActivityAt: Date?
    }

    /// Newest first, keyset-paged.
    public func summaries(limit: Int, after cursor: PageCursor?, on db: some QueryRunner) async throws -> Page<Summary> {
        let rows = try await db.run(
            """
            SELECT \(unescaped: Self.columns),
                   (SELECT count(*) FROM memberships m WHERE m.org_id = o.id),
                   (SELECT max(a.at) FROM audit_logs a WHERE a.org_id = o.id),
                   (SELECT count(*) FROM voters v WHERE v.org_id = o.id),
                   (extract(epoch FROM o.created_at) * 1000000)::int8
            FROM organizations o
            WHERE \(page: cursor, time: "o.created_at", id: "o.id")
            ORDER BY o.created_at DESC, o.id DESC
            LIMIT \(limit + 1)
            """,
            logger: logger
        )
        var out: [(Summary, PageCursor)] = []
        for try await row in rows {
            let (id, name, slug, timezone, createdAt, members, last, voters, createdMicros) =
                try row.decode((UUID, String, String, String, Date, Int, Date?, Int, Int64).self)
            let org = Organization(id: id, name: name, slug: slug, timezone: timezone, createdAt: createdAt)
            out.append((Summary(org: org, members: members, voters: voters, lastActivityAt: last), PageCursor(micros: createdMicros, id: id)))
        }
        return Page.from(rows: out, limit: limit)
    }
}
