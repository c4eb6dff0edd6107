import Foundation
import Logging
import PostgresNIO
import Store

/// The code of one pipeline. `run` must check for cancellation (timeouts, staff cancels, lost
/// leases and shutdown all cancel the task) and should be idempotent: delivery is at least once.
public protocol JobHandler: Sendable {
    func run(_ context: JobContext) async throws
}

/// What a handler sees of its job.
public struct JobContext: Sendable {
    public let jobId: UUID
    public let orgId: UUID?
    public let pipeline: String
    public let attempt: Int
    public let requestId: String?
    public let workerId: String
    public let argsJSON: String
    public let startedAt: Date
    public let logger: Logger
    public let db: PostgresClient
    let leaseToken: UUID
    let ledger: JobLedger

    init(job: ClaimedJob, workerId: String, logger: Logger, db: PostgresClient, ledger: JobLedger) {
        jobId = job.id
        orgId = job.orgId
        pipeline = job.pipeline
        attempt = job.attempt
        requestId = job.requestId
        self.workerId = workerId
        argsJSON = job.argsJSON
        startedAt = Date()
        self.logger = logger
        self.db = db
        leaseToken = job.leaseToken
        self.ledger = ledger
    }

    /// The job's arguments decoded as `T`; a mismatch is not retryable.
    public func args<T: Decodable>(_ type: T.Type) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(argsJSON.utf8))
        } catch {
            throw NonRetryableError("arguments do not decode as \(T.self): \(error)")
        }
    }

    /// Stores progress (any JSON-encodable value) while this attempt holds the lease.
    public func progress<T: Encodable>(_ value: T) async throws {
        let json = String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
        guard try await ledger.progress(jobId: jobId, token: leaseToken, json: json, on: db) else { throw LeaseLostError(jobId: jobId) }
    }

    /// Runs `body` in a transaction that first locks the job row and checks this attempt still
    /// holds the lease: a worker that lost its lease cannot write (throws `LeaseLostError`).
    public func fenced<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let jobId = jobId, token = leaseToken, ledger = ledger
        return try await db.inTransaction(logger: logger) { connection in
            guard try await ledger.lockLease(jobId: jobId, token: token, on: connection) else { throw LeaseLostError(jobId: jobId) }
            return try await body(connection)
        }
    }
}

/// Handlers by pipeline name.
public struct HandlerRegistry: Sendable {
    public private(set) var handlers: [String: any JobHandler] = [:]
    public init() {}
    public mutating func register(_ name: String, _ handler: any JobHandler) { handlers[name] = handler }
    public subscript(name: String) -> (any JobHandler)? { handlers[name] }
}
