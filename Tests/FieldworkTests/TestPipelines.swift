import Foundation
import Logging
import PostgresNIO
import Store

@testable import Actors

/// Records each job it is called for, then sleeps `ms` (cancellable).
struct ProbePipeline: Pipeline {
    static let name = "probe"

    struct Arguments: Codable, Sendable {
        var ms: Int
    }

    let calls: Locked<[UUID]>

    func run(_ arguments: Arguments, context: JobContext) async throws {
        calls.update { $0.append(context.jobId) }
        try await Task.sleep(for: .milliseconds(arguments.ms))
    }
}

/// Holds a fenced transaction open for `ms`, then writes one `diagnostic_effects` row in it.
struct FencedHoldPipeline: Pipeline {
    static let name = "fenced-hold"

    struct Arguments: Codable, Sendable {
        var ms: Int
    }

    func run(_ arguments: Arguments, context: JobContext) async throws {
        let jobId = context.jobId
        let attempt = context.attempt
        let worker = context.workerId
        let started = context.startedAt
        let logger = context.logger
        try await context.fenced { connection in
            try await Task.sleep(for: .milliseconds(arguments.ms))
            try await connection.query(
                """
                INSERT INTO diagnostic_effects (job_id, attempt, org_id, worker_id, started_at)
                VALUES (\(jobId), \(attempt), NULL, \(worker), \(started))
                """,
                logger: logger
            ).consume()
        }
    }
}

/// An org's pipeline: records the org each job ran for.
struct OrgProbePipeline: OrgPipeline {
    static let name = "org-probe"

    struct Arguments: Codable, Sendable {
        var note: String
    }

    let seen: Locked<[UUID: UUID]>

    func run(_ arguments: Arguments, scope: OrgScope, context: JobContext) async throws {
        seen.update { $0[context.jobId] = scope.orgId }
    }
}

extension PostgresRowSequence {
    /// Drains the sequence (the tests' own statements through PostgresNIO's `query`).
    func consume() async throws {
        for try await _ in self {}
    }
}
