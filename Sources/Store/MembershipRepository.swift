import Foundation
import Logging
import PostgresNIO

/// Memberships of users in organizations, always within one `OrgScope`.
public struct MembershipRepository: Sendable {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// Why a membership change was refused.
    public enum ChangeError: Error, Equatable {
        case notFound
        case alreadyMember
        case lastAdmin
    }

    /// The member's current role, or nil when they do not belong to the scope's organization.
    public func role(of userId: UUID, in scope: OrgScope, on db: some QueryRunner) async throws -> Role? {
        let rows = try await db.run(
            "SELECT role FROM memberships WHERE org_id = \(scope.orgId) AND user_id = \(userId)",
            logger: logger
        )
        for try await role in rows.decode(String.self) { return Role(rawValue: role) }
        return nil
    }

    /// Every organization the user belongs to, oldest membership first.
    public func memberships(of userId: UUID, on db: some QueryRunner) async throws -> [(org: Organization, role: Role)] {
        let rows = try await db.run(
            """
            SELECT \(unescaped: OrganizationRepository.columns), m.role
            FROM memberships m JOIN organizations o ON o.id = m.org_id
            WHERE m.user_id = \(userId)
            ORDER BY m.created_at, o.id
            """,
            logger: logger
        )
        var out: [(Organization, Role)] = []
        for try await row in rows {
            let (id, name, slug, timezone, createdAt, role) = try row.decode((UUID, String, String, String, Date, String).self)
            out.append((Organization(id: id, name: name, slug: slug, timezone: timezone, createdAt: createdAt), Role(rawValue: role)!))
        }
        return out
    }

    /// The member's columns, and last its `created_at` in microseconds for the page cursor.
    static let memberColumns = "u.id, u.email, u.name, u.created_at, m.role, m.created_at, (extract(epoch FROM m.created_at) * 1000000)::int8"

    static func decodeMember(_ row: PostgresRow) throws -> (member: Member, cursor: PageCursor) {
        let (id, email, name, userCreated, role, created, micros) = try row.decode((UUID, String, String, Date, String, Date, Int64).self)
        let member = Member(user: User(id: id, email: email, name: name, createdAt: userCreated), role: Role(rawValue: role)!, createdAt: created)
        return (member, PageCursor(micros: micros, id: id))
    }

    public func member(_ userId: UUID, in scope: OrgScope, on db: some QueryRunner) async throws -> Member? {
        let rows = try await db.run(
            """
            SELECT \(unescaped: Self.memberColumns) FROM memberships m JOIN users u ON u.id = m.user_id
            WHERE m.org_id = \(scope.orgId) AND m.user_id = \(userId)
            """,
            logger: logger
        )
        for try await row in rows { return try Self.decodeMember(row).member }
        return nil
    }

    /// Oldest first, keyset-paged on (created_at, user id).
    public func list(in scope: OrgScope, limit: Int, after cursor: PageCursor?, on db: some QueryRunner) async throws -> Page<Member> {
        let rows = try await db.run(
            """
            SELECT \(unescaped: Self.memberColumns)
            FROM memberships m JOIN users u ON u.id = m.user_id
            WHERE m.org_id = \(scope.orgId)
              AND \(page: cursor, time: "m.created_at", id: "m.user_id", descending: false)
            ORDER BY m.created_at, m.user_id
            LIMIT \(limit + 1)
            """,
            logger: logger
        )
        var out: [(Member, PageCursor)] = []
        for try await row in rows { out.append(try Self.decodeMember(row)) }
        return Page.from(rows: out, limit: limit)
    }

    /// Adds a user to the organization; `alreadyMember` when they belong already.
    public func add(_ userId: UUID, role: Role, in scope: OrgScope, on db: some QueryRunner) async throws -> Member {
        do {
            try await db.run(
                "INSERT INTO memberships (org_id, user_id, role) VALUES (\(scope.orgId), \(userId), \(role.rawValue))",
                logger: logger
            ).consume()
        } catch  where error.isUniqueViolation {
            throw ChangeError.alreadyMember
        }
        guard let member = try await member(userId, in: scope, on: db) else { throw ChangeError.notFound }
        return member
    }

    /// Takes the organization's row lock so that concurrent member changes are serialised and
    /// two admins demoting each other cannot leave the organization without one.
    func lockOrganization(_ scope: OrgScope, on connection: PostgresConnection) async throws {
        try await connection.run("SELECT 1 FROM organizations WHERE id = \(scope.orgId) FOR UPDATE", logger: logger).consume()
    }

    func otherAdmins(than userId: UUID, in scope: OrgScope, on connection: PostgresConnection) async throws -> Int {
        let rows = try await connection.run(
            "SELECT count(*) FROM memberships WHERE org_id = \(scope.orgId) AND role = 'admin' AND user_id <> \(userId)",
            logger: logger
        )
        for try await count in rows.decode(Int.self) { return count }
        return 0
    }

    /// Changes a role inside the caller's transaction; returns the member before and after.
    public func changeRole(
        of userId: UUID,
        to role: Role,
        in scope: OrgScope,
        on connection: PostgresConnection
    ) async throws -> (before: Member, after: Member) {
        try await lockOrganization(scope, on: connection)
        guard let before = try await member(userId, in: scope, on: connection) else { throw ChangeError.notFound }
        if before.role == .admin, role != .admin, try await otherAdmins(than: userId, in: scope, on: connection) == 0 {
            throw ChangeError.lastAdmin
        }
        try await connection.run(
            "UPDATE memberships SET role = \(role.rawValue) WHERE org_id = \(scope.orgId) AND user_id = \(userId)",
            logger: logger
        ).consume()
        return (before, Member(user: before.user, role: role, createdAt: before.createdAt))
    }

    /// Removes a member inside the caller's transaction and revokes their refresh tokens in this org.
    public func remove(_ userId: UUID, in scope: OrgScope, on connection: PostgresConnection) async throws -> Member {
        try await lockOrganization(scope, on: connection)
        guard let member = try await member(userId, in: scope, on: connection) else { throw ChangeError.notFound }
        if member.role == .admin, try await otherAdmins(than: userId, in: scope, on: connection) == 0 {
            throw ChangeError.lastAdmin
        }
        try await connection.run(
            "DELETE FROM memberships WHERE org_id = \(scope.orgId) AND user_id = \(userId)",
            logger: logger
        ).consume()
        try await RefreshTokenRepository(logger: logger).revokeMember(userId, in: scope, on: connection)
        return member
    }
}
