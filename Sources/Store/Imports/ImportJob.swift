import Foundation

/// A voter-file upload and its import, as the API shows it.
public struct ImportJob: Sendable, Equatable {
    public var id: UUID
    public var format: String
    public var fileName: String
    public var fileBytes: Int64
    /// The contract's `JobStatus` (the pipeline's own word once it ended, else the orchestrator job's state).
    public var status: ImportStatus
    public var progress: ImportProgress
    /// The first 100 rejected rows.
    public var errors: [ImportRowError]
    public var errorCount: Int64
    public var createdBy: UUID
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    public var failureReason: String?
    /// The orchestrator job that runs it.
    public var jobId: UUID?
    /// Where the uploaded file is stored.
    public var objectKey: String
}

/// The contract's `JobStatus`.
public enum ImportStatus: String, Sendable, Codable {
    case queued, running, retrying, succeeded, failed, cancelled

    /// The status shown for an import whose own status is `own` and whose orchestrator job is in `jobState`:
    /// the pipeline's word once it ended; until then the job's (a retry, a job that died without the pipeline saying why,
    /// a cancel that reached the job before the pipeline saw it).
    public static func shown(own: String, jobState: String?) -> ImportStatus {
        if let ended = ImportStatus(rawValue: own), [.succeeded, .failed, .cancelled].contains(ended) { return ended }
        switch jobState {
        case "running": return .running
        case "retrying": return .retrying
        case "succeeded": return .succeeded
        case "dead", "discarded": return .failed
        case "cancelled": return .cancelled
        default: return own == "running" ? .running : .queued
        }
    }
}

/// Counters of an import, committed with each batch.
public struct ImportProgress: Sendable, Equatable, Codable {
    public var bytesRead: Int64
    public var rowsRead: Int64
    public var inserted: Int64
    public var updated: Int64
    public var unchanged: Int64
    public var rejected: Int64

    public init(bytesRead: Int64 = 0, rowsRead: Int64 = 0, inserted: Int64 = 0, updated: Int64 = 0, unchanged: Int64 = 0, rejected: Int64 = 0) {
        self.bytesRead = bytesRead
        self.rowsRead = rowsRead
        self.inserted = inserted
        self.updated = updated
        self.unchanged = unchanged
        self.rejected = rejected
    }
}

/// One rejected row as the job lists it.
public struct ImportRowError: Sendable, Equatable, Codable {
    public var row: Int
    public var column: String?
    public var message: String

    public init(row: Int, column: String?, message: String) {
        self.row = row
        self.column = column
        self.message = message
    }
}

/// What an upload records before its job runs.
public struct ImportDraft: Sendable {
    public var id: UUID
    public var format: String
    public var fileName: String
    public var fileBytes: Int64
    public var objectKey: String
    public var createdBy: UUID
    public var idempotencyKey: String?

    public init(id: UUID, format: String, fileName: String, fileBytes: Int64, objectKey: String, createdBy: UUID, idempotencyKey: String?) {
        self.id = id
        self.format = format
        self.fileName = fileName
        self.fileBytes = fileBytes
        self.objectKey = objectKey
        self.createdBy = createdBy
        self.idempotencyKey = idempotencyKey
    }
}
