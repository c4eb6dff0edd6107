import Actors
import Foundation
import Logging
import PostgresNIO
import Store

/// The pipeline's reads and writes of its `import_jobs` row besides the batches: where to start, and how it ends.
struct ImportRun: Sendable {
    /// What the pipeline needs of the row to start or resume.
    struct Start: Sendable {
        var format: VoterFileFormat
        var objectKey: String
        var status: String
        var cancelRequested: Bool
        var offset: Int64
        var nextRow: Int
    }

    let importId: UUID
    let scope: OrgScope
    let logger: Logger
    var orgId: UUID { scope.orgId }

    /// Marks the import running (keeping its first start time) and returns its checkpoint; nil when there is no such import.
    func begin(context: JobContext) async throws -> Start? {
        let importId = importId
        let orgId = orgId
        let logger = logger
        return try await context.fenced { connection in
            let rows = try await connection.run(
                """
                UPDATE import_jobs SET started_at = COALESCE(started_at, now()),
                       status = CASE WHEN status = 'queued' THEN 'running' ELSE status END, updated_at = now()
                WHERE id = \(importId) AND org_id = \(orgId)
                RETURNING format, object_key, status, cancel_requested, bytes_read, next_row
                """,
                logger: logger
            )
            for try await (format, key, status, cancel, offset, row) in rows.decode((String, String, String, Bool, Int64, Int).self) {
                guard let format = VoterFileFormat(rawValue: format) else { throw NonRetryableError("unknown voter file format \(format)") }
                return Start(format: format, objectKey: key, status: status, cancelRequested: cancel, offset: offset, nextRow: row)
            }
            return nil
        }
    }

    /// Ends the import as `status` (with `reason` for a failure): the loader's scratch rows go, the counts stay.
    func finish(_ status: ImportStatus, reason: String? = nil, context: JobContext) async throws {
        let importId = importId
        let scope = scope
        let repository = ImportJobRepository(logger: logger)
        try await context.fenced { connection in
            try await repository.end(importId, as: status, reason: reason, in: scope, on: connection)
        }
    }
}
