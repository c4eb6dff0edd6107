import Foundation

/// Where a job is in its life. `succeeded`, `dead`, `discarded` and `cancelled` are final
/// (a dead job can be retried by staff, which makes it `queued` again).
public enum JobState: String, Sendable, CaseIterable, Codable {
    case scheduled, queued, running, retrying, succeeded, dead, discarded, cancelled

    public static let unfinished: [JobState] = [.scheduled, .queued, .running, .retrying]
    public var isFinished: Bool { !Self.unfinished.contains(self) }
}

/// How one attempt ended.
public enum AttemptOutcome: String, Sendable, Codable {
    case succeeded, failed, lost, cancelled
}

/// A job as the ledger returned it from an enqueue: enough to publish it.
public struct EnqueuedJob: Sendable, Equatable {
    public let id: UUID
    public let orgId: UUID?
    public let pipeline: String
    public let state: JobState
    public let priority: Int
    public let runAt: Date
    /// False when an unfinished job with the same unique key already existed and was returned instead.
    public let inserted: Bool
}

/// A job a worker holds the lease of.
public struct ClaimedJob: Sendable {
    public let id: UUID
    public let orgId: UUID?
    public let pipeline: String
    public let argsJSON: String
    public let attempt: Int
    public let returnedAttempts: Int
    public let maxAttempts: Int
    public let priority: Int
    public let requestId: String?
    public let leaseToken: UUID

    /// Attempts that count against `maxAttempts` once this one ends.
    public var countedAttempts: Int { attempt - returnedAttempts }
}

/// A job row for listings and the operator surface.
public struct JobRecord: Sendable {
    public let id: UUID
    public let orgId: UUID?
    public let pipeline: String
    public let state: JobState
    public let attempt: Int
    public let maxAttempts: Int
    public let priority: Int
    public let runAt: Date
    public let progressJSON: String?
    public let lastError: String?
    public let errorFingerprint: String?
    public let argsJSON: String
    public let uniqueKey: String?
    public let requestId: String?
    public let cancelRequested: Bool
    public let createdAt: Date
    public let startedAt: Date?
    public let finishedAt: Date?
    public var attempts: [AttemptRecord] = []
}

public struct AttemptRecord: Sendable, Equatable {
    public let attempt: Int
    public let workerId: String
    public let startedAt: Date
    public let finishedAt: Date?
    public let outcome: AttemptOutcome?
    public let error: String?
}

/// Thrown by a pipeline for a failure that retrying cannot fix: the job goes to dead at once.
public struct NonRetryableError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Thrown when a fenced operation finds the lease no longer held by this attempt.
public struct LeaseLostError: Error, CustomStringConvertible {
    public let jobId: UUID
    public var description: String { "the lease of job \(jobId.uuidString.lowercased()) is no longer held by this attempt" }
}

/// Refusals of the operator functions (retry, discard, cancel), mapped to 404/409 by the API.
public enum JobActionError: Error, Equatable {
    case notFound
    case wrongState(current: JobState, allowed: [JobState])
    case uniqueKeyTaken(String)
}
