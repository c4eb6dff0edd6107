import Foundation
import Logging
import PostgresNIO

/// The voter imports of one organization (the upload's row; the pipeline writes its progress).
public struct ImportJobRepository: Sendable {
    public let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// The select list and joins `read` decodes (an import and its orchestrator job).
    static let selectFrom = """
        i.id, i.format, i.file_name, i.file_bytes, i.status, j.state, i.bytes_read, i.rows_read, i.inserted, i.updated,
        i.unchanged, i.rejected, i.errors::text, i.error_count, i.created_by, i.created_at, COALESCE(i.started_at, j.started_at),
        COALESCE(i.finished_at, CASE WHEN j.state IN ('dead', 'discarded', 'cancelled') THEN j.finished_at END),
        COALESCE(i.failure_reason, CASE WHEN j.state IN ('dead', 'discarded') THEN j.last_error END), i.job_id, i.object_key
        FROM import_jobs i LEFT JOIN jobs j ON j.id = i.job_id
        """

    static func read(_ c: inout Columns) throws -> ImportJob {
        let id: UUID = try c.next()
        let format: String = try c.next()
        let fileName: String = try c.next()
        let fileBytes: Int64 = try c.next()
        let own: String = try c.next()
        let jobState: String? = try c.next()
        let progress = ImportProgress(
            bytesRead: try c.next(),
            rowsRead: try c.next(),
            inserted: try c.next(),
            updated: try c.next(),
            unchanged: try c.next(),
            rejected: try c.next()
        )
        return ImportJob(
            id: id,
            format: format,
            fileName: fileName,
            fileBytes: fileBytes,
            status: ImportStatus.shown(own: own, jobState: jobState),
            progress: progress,
            errors: try c.json([ImportRowError].self) ?? [],
            errorCount: try c.next(),
            createdBy: try c.next(),
            createdAt: try c.next(),
            startedAt: try c.next(),
            finishedAt: try c.next(),
            failureReason: try c.next(),
            jobId: try c.next(),
            objectKey: try c.next()
        )
    }

    /// The import of `scope`'s org with this id, or nil (another org's id included).
    public func importJob(_ id: UUID, in scope: OrgScope, on runner: some QueryRunner) async throws -> ImportJob? {
        let rows = try await runner.run("SELECT \(unescaped: Self.selectFrom) WHERE i.org_id = \(scope.orgId) AND i.id = \(id)", logger: logger)
        for try await row in rows {
            var columns = Columns(row)
            return try Self.read(&columns)
        }
        return nil
    }

    /// The import an upload with `key` made in the last 24 hours, if any.
    public func importJob(idempotencyKey key: String, in scope: OrgScope, on runner: some QueryRunner) async throws -> ImportJob? {
        let rows = try await runner.run(
            """
            SELECT \(unescaped: Self.selectFrom)
            WHERE i.org_id = \(scope.orgId) AND i.idempotency_key = \(key) AND i.created_at > now() - interval '24 hours'
            """,
            logger: logger
        )
        for try await row in rows {
            var columns = Columns(row)
            return try Self.read(&columns)
        }
        return nil
    }

    /// Newest first, keyed by id (time-ordered UUIDs).
    public func page(in scope: OrgScope, limit: Int, after: UUID?, on runner: some QueryRunner) async throws -> Page<ImportJob> {
        let rows = try await runner.run(
            """
            SELECT \(unescaped: Self.selectFrom)
            WHERE i.org_id = \(scope.orgId) AND (\(after)::uuid IS NULL OR i.id < \(after))
            ORDER BY i.id DESC LIMIT \(limit + 1)
            """,
            logger: logger
        )
        var items: [ImportJob] = []
        for try await row in rows {
            var columns = Columns(row)
            items.append(try Self.read(&columns))
        }
        let more = items.count > limit
        let kept = Array(items.prefix(limit))
        return Page(items: kept, nextCursor: more ? kept.last.map { KeyCursor([$0.id.uuidString.lowercased()]).encoded } : nil)
    }

    /// Records an upload; false when another upload of the org holds the idempotency key (a concurrent
    /// twin): the caller returns that one. A holder older than 24 hours gives its key up first.
    public func create(_ draft: ImportDraft, in scope: OrgScope, on connection: PostgresConnection) async throws -> Bool {
        if let key = draft.idempotencyKey {
            try await connection.run(
                """
                UPDATE import_jobs SET idempotency_key = NULL
                WHERE org_id = \(scope.orgId) AND idempotency_key = \(key) AND created_at <= now() - interval '24 hours'
                """,
                logger: logger
            ).consume()
        }
        let rows = try await connection.run(
            """
            INSERT INTO import_jobs (id, org_id, created_by, format, file_name, file_bytes, object_key, idempotency_key)
            VALUES (\(draft.id), \(scope.orgId), \(draft.createdBy), \(draft.format), \(draft.fileName), \(draft.fileBytes),
                    \(draft.objectKey), \(draft.idempotencyKey))
            ON CONFLICT (org_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
            RETURNING id
            """,
            logger: logger
        )
        for try await _ in rows { return true }
        return false
    }

    /// Links the import to the orchestrator job that runs it.
    public func attach(job jobId: UUID, to id: UUID, in scope: OrgScope, on runner: some QueryRunner) async throws {
        try await runner.run("UPDATE import_jobs SET job_id = \(jobId) WHERE org_id = \(scope.orgId) AND id = \(id)", logger: logger).consume()
    }

    /// Asks the import to stop between batches; returns its job id, nil when there is no such import.
    public func requestCancel(_ id: UUID, in scope: OrgScope, on runner: some QueryRunner) async throws -> (jobId: UUID?, status: String)? {
        let rows = try await runner.run(
            """
            UPDATE import_jobs SET cancel_requested = true, updated_at = now()
            WHERE org_id = \(scope.orgId) AND id = \(id)
            RETURNING job_id, status
            """,
            logger: logger
        )
        for try await (jobId, status) in rows.decode((UUID?, String).self) { return (jobId, status) }
        return nil
    }

    /// Ends the import as `status` (`reason` for a failure) and drops the loader's scratch rows; the counts stay.
    public func end(_ id: UUID, as status: ImportStatus, reason: String? = nil, in scope: OrgScope, on runner: some QueryRunner) async throws {
        try await runner.run(
            """
            WITH ended AS (
                UPDATE import_jobs SET status = \(status.rawValue), failure_reason = \(reason), finished_at = now(), updated_at = now()
                WHERE org_id = \(scope.orgId) AND id = \(id) RETURNING id
            )
            DELETE FROM import_rejections WHERE import_id IN (SELECT id FROM ended)
            """,
            logger: logger
        ).consume()
    }
}
