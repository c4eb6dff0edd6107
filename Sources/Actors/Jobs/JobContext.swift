import Foundation
import Logging
import PostgresNIO
@_spi(TenantAuth) import Store

/// What a pipeline sees of the job it runs.
public struct JobContext: Sendable {
    /// The job's id (the same for every attempt).
    public let jobId: UUID
    /// The org the job belongs to (nil for a platform job). An `OrgPipeline` is handed it
    /// non-optional; the ledger, which is trusted, is where it comes from.
    public let scope: OrgScope?
    /// This attempt's number, from 1.
    public let attempt: Int
    /// The request that enqueued the job, if one did.
    public let requestId: String?
    /// The worker process running this attempt.
    public let workerId: String
    /// When this attempt started.
    public let startedAt: Date
    /// Logs with the job's identities (job id, pipeline, attempt, org, request id).
    public let logger: Logger
    let leaseToken: UUID
    let ledger: JobLedger
    let db: PostgresClient

    init(job: ClaimedJob, workerId: String, logger: Logger, db: PostgresClient, ledger: JobLedger) {
        jobId = job.id
        scope = job.orgId.map { OrgScope(orgId: $0) }
        attempt = job.attempt
        requestId = job.requestId
        self.workerId = workerId
        startedAt = Date()
        self.logger = logger
        self.db = db
        leaseToken = job.leaseToken
        self.ledger = ledger
    }

    /// Stores progress (any JSON-encodable value) while this attempt holds the lease.
    public func progress<T: Encodable>(_ value: T) async throws {
        let json = String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
        guard try await ledger.progress(jobId: jobId, token: leaseToken, json: json, on: db) else { throw LeaseLostError(jobId: jobId) }
    }

    /// Runs `body` in a transaction that first checks this attempt still holds the lease and
    /// keeps the sweeper from taking it away until the commit (`JobLedger.lockLease`): a worker
    /// that lost its lease cannot write (throws `LeaseLostError`). Heartbeats go on meanwhile,
    /// so a transaction may outlast the lease period.
    public func fenced<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let jobId = jobId
        let token = leaseToken
        let ledger = ledger
        return try await db.inTransaction(logger: logger) { connection in
            guard try await ledger.lockLease(jobId: jobId, token: token, on: connection) else { throw LeaseLostError(jobId: jobId) }
            return try await body(connection)
        }
    }
}
