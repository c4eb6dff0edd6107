import Foundation
import Store

extension Components.Schemas.ImportJob {
    init(_ job: ImportJob) {
        self.init(
            id: job.id.uuidString.lowercased(),
            kind: .voters,
            format: Components.Schemas.VoterFileFormat(rawValue: job.format) ?? .csv,
            status: Components.Schemas.ImportJobStatus(rawValue: job.status.rawValue) ?? .queued,
            fileName: job.fileName,
            fileBytes: job.fileBytes,
            progress: .init(
                bytesRead: job.progress.bytesRead,
                rowsRead: job.progress.rowsRead,
                inserted: job.progress.inserted,
                updated: job.progress.updated,
                unchanged: job.progress.unchanged,
                rejected: job.progress.rejected
            ),
            errors: job.errors.map { .init(row: $0.row, column: $0.column, message: $0.message) },
            errorCount: job.errorCount,
            createdBy: job.createdBy.uuidString.lowercased(),
            createdAt: job.createdAt,
            startedAt: job.startedAt,
            finishedAt: job.finishedAt,
            failureReason: job.failureReason
        )
    }
}
