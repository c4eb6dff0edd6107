import Actors
import Foundation
import PostgresNIO

/// Succeeds at once (diagnostics and benchmarks: the orchestrator's own cost).
public struct NoopPipeline: Pipeline {
    /// The pipeline's name.
    public static let name = "noop"

    /// Takes nothing (a scheduled run's arguments included).
    public struct Arguments: Codable, Sendable {
        public init() {}
    }

    public init() {}

    /// Does nothing.
    public func run(_ arguments: Arguments, context: JobContext) async throws {}
}

/// Sleeps `ms` milliseconds (cancellable). With `record: true` it then writes one row to
/// `diagnostic_effects`, fenced by the lease (an attempt that lost its lease, or whose lease ran out,
/// writes nothing) and idempotent per job, as every pipeline must be: an attempt whose effect
/// committed but whose completion did not (the database went) is run again, and writes nothing new.
public struct SleepPipeline: Pipeline {
    /// The pipeline's name.
    public static let name = "sleep"

    /// How long to sleep and whether to record the effect.
    public struct Arguments: Codable, Sendable {
        /// Milliseconds, 0...3,600,000 (default 100).
        public var ms: Int?
        /// Write a `diagnostic_effects` row after sleeping (fenced).
        public var record: Bool?

        public init(ms: Int? = nil, record: Bool? = nil) {
            self.ms = ms
            self.record = record
        }
    }

    let clock: any Clock<Duration>

    /// Sleeps on `clock`.
    public init(clock: any Clock<Duration> = ContinuousClock()) {
        self.clock = clock
    }

    /// Sleeps, then records the effect if asked to.
    public func run(_ arguments: Arguments, context: JobContext) async throws {
        let ms = max(0, min(arguments.ms ?? 100, 3_600_000))
        try await clock.sleep(for: .milliseconds(ms))
        guard arguments.record == true else { return }
        let started = context.startedAt
        let jobId = context.jobId
        let attempt = context.attempt
        let orgId = context.scope?.orgId
        let worker = context.workerId
        let logger = context.logger
        try await context.fenced { connection in
            try await connection.run(
                """
                INSERT INTO diagnostic_effects (job_id, attempt, org_id, worker_id, started_at)
                SELECT \(jobId), \(attempt), \(orgId), \(worker), \(started)
                WHERE NOT EXISTS (SELECT 1 FROM diagnostic_effects WHERE job_id = \(jobId))
                """,
                logger: logger
            ).consume()
        }
    }
}

/// Fails every attempt: retryably (the default) or not (`retryable: false`).
public struct FailPipeline: Pipeline {
    /// The pipeline's name.
    public static let name = "fail"

    /// How to fail.
    public struct Arguments: Codable, Sendable {
        /// False: not retryable (dead at once); default true.
        public var retryable: Bool?
        /// The error message (default: names the job and attempt).
        public var message: String?

        public init(retryable: Bool? = nil, message: String? = nil) {
            self.retryable = retryable
            self.message = message
        }
    }

    public init() {}

    /// Throws.
    public func run(_ arguments: Arguments, context: JobContext) async throws {
        let message = arguments.message ?? "diagnostic failure of job \(context.jobId.uuidString.lowercased()) on attempt \(context.attempt)"
        if arguments.retryable == false { throw NonRetryableError(message) }
        throw DiagnosticFailure(message: message)
    }

    struct DiagnosticFailure: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}
