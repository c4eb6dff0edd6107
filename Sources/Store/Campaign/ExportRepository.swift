import Foundation
import Logging
import PostgresNIO

/// One requested CSV export: what it holds, where its object lives, and how its job is doing.
public struct ExportRecord: Sendable {
    public var id: UUID
    public var kind: String
    public var listId: UUID?
    public var from: Date?
    public var to: Date?
    public var jobId: UUID?
    public var objectKey: String
    public var fileName: String
    public var rowCount: Int64?
    public var byteSize: Int64?
    public var createdBy: UUID
    public var createdAt: Date
    public var finishedAt: Date?
    public var expiresAt: Date
    public var purgedAt: Date?
    /// The state of its job in the ledger (nil before the job is attached).
    public var jobState: String?
}

/// The exports of one organization (`exports`, migration 0008), and the expired ones across orgs.
public struct ExportRepository: Sendable {
    public let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    static let columns = """
        e.id, e.kind, e.list_id, e.from_at, e.to_at, e.job_id, e.object_key, e.file_name, e.row_count, e.byte_size, e.created_by,
        e.created_at, e.finished_at, e.expires_at, e.purged_at, j.state
        """

    static func read(_ c: inout Columns) throws -> ExportRecord {
        ExportRecord(
            id: try c.next(), kind: try c.next(), listId: try c.next(), from: try c.next(), to: try c.next(), jobId: try c.next(),
            objectKey: try c.next(), fileName: try c.next(), rowCount: try c.next(), byteSize: try c.next(), createdBy: try c.next(),
            createdAt: try c.next(), finishedAt: try c.next(), expiresAt: try c.next(), purgedAt: try c.next(), jobState: try c.next()
        )
    }

    /// Records a new export (its job is attached in the same transaction).
    public func create(
        id: UUID,
        kind: String,
        listId: UUID?,
        from: Date?,
        to: Date?,
        objectKey: String,
        fileName: String,
        createdBy: UUID,
        expiresAt: Date,
        in scope: OrgScope,
        on db: some QueryRunner
    ) async throws {
        try await db.run(
            """
            INSERT INTO exports (id, org_id, kind, list_id, from_at, to_at, object_key, file_name, created_by, expires_at)
            VALUES (\(id), \(scope.orgId), \(kind), \(listId), \(from), \(to), \(objectKey), \(fileName), \(createdBy), \(expiresAt))
            """,
            logger: logger
        ).consume()
    }

    /// Links the export to the job that writes it.
    public func attach(job jobId: UUID, to id: UUID, in scope: OrgScope, on db: some QueryRunner) async throws {
        try await db.run("UPDATE exports SET job_id = \(jobId) WHERE org_id = \(scope.orgId) AND id = \(id)", logger: logger).consume()
    }

    /// One export; nil if this org has none with that id.
    public func export(_ id: UUID, in scope: OrgScope, on db: some QueryRunner) async throws -> ExportRecord? {
        let rows = try await db.run(
            "SELECT \(unescaped: Self.columns) FROM exports e LEFT JOIN jobs j ON j.id = e.job_id WHERE e.org_id = \(scope.orgId) AND e.id = \(id)",
            logger: logger
        )
        for try await row in rows {
            var columns = Columns(row)
            return try Self.read(&columns)
        }
        return nil
    }

    /// The object is written: its counts, and the expiry counted from now.
    public func finish(_ id: UUID, rowCount: Int64, byteSize: Int64, ttlSeconds: Int, in scope: OrgScope, on db: some QueryRunner) async throws {
        try await db.run(
            """
            UPDATE exports SET row_count = \(rowCount), byte_size = \(byteSize), finished_at = now(),
                expires_at = now() + make_interval(secs => \(Double(ttlSeconds)))
            WHERE org_id = \(scope.orgId) AND id = \(id)
            """,
            logger: logger
        ).consume()
    }

    /// Up to `limit` written exports past their expiry whose objects are still stored, across orgs: (id, object key).
    /// One not written yet is left alone (its job may still run and write it).
    public func expired(limit: Int, on db: some QueryRunner) async throws -> [(id: UUID, objectKey: String)] {
        let rows = try await db.run(
            "SELECT id, object_key FROM exports WHERE purged_at IS NULL AND finished_at IS NOT NULL AND expires_at <= now() ORDER BY expires_at LIMIT \(limit)",
            logger: logger
        )
        var found: [(id: UUID, objectKey: String)] = []
        for try await (id, key) in rows.decode((UUID, String).self) { found.append((id, key)) }
        return found
    }

    /// The expired export's object is deleted.
    public func markPurged(_ id: UUID, on db: some QueryRunner) async throws {
        try await db.run("UPDATE exports SET purged_at = now() WHERE id = \(id)", logger: logger).consume()
    }
}
