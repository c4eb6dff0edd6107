import Actors
import Foundation
import PostgresNIO

/// The diagnostic pipelines operators and benchmarks use to exercise a deployment.
public enum DiagnosticHandlers {
    public static let names: Set<String> = ["noop", "sleep", "fail"]

    public static func register(into registry: inout HandlerRegistry) {
        registry.register("noop", Noop())
        registry.register("sleep", Sleep())
        registry.register("fail", Fail())
    }

    /// Succeeds at once.
    struct Noop: JobHandler {
        func run(_ context: JobContext) async throws {}
    }

    /// Sleeps `ms` milliseconds (cancellable). With `record: true` it then writes one row to
    /// `diagnostic_effects`, fenced by the lease: an attempt that lost its lease writes nothing.
    struct Sleep: JobHandler {
        struct Args: Decodable {
            var ms: Int?
            var record: Bool?
        }

        func run(_ context: JobContext) async throws {
            let args = try context.args(Args.self)
            let ms = max(0, min(args.ms ?? 100, 3_600_000))
            try await Task.sleep(for: .milliseconds(ms))
            guard args.record == true else { return }
            let started = context.startedAt, jobId = context.jobId, attempt = context.attempt, orgId = context.orgId
            let worker = context.workerId, logger = context.logger
            try await context.fenced { connection in
                try await connection.query(
                    """
                    INSERT INTO diagnostic_effects (job_id, attempt, org_id, worker_id, started_at)
                    VALUES (\(jobId), \(attempt), \(orgId), \(worker), \(started))
                    """, logger: logger
                ).consume()
            }
        }
    }

    /// Fails every attempt: retryably (the default) or not (`retryable: false`).
    struct Fail: JobHandler {
        struct Args: Decodable {
            var retryable: Bool?
            var message: String?
        }

        func run(_ context: JobContext) async throws {
            let args = try context.args(Args.self)
            let message = args.message ?? "diagnostic failure of job \(context.jobId.uuidString.lowercased()) on attempt \(context.attempt)"
            if args.retryable == false { throw NonRetryableError(message) }
            throw DiagnosticFailure(message: message)
        }
    }

    struct DiagnosticFailure: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}
