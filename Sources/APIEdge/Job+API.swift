import Actors
import Foundation
import OpenAPIRuntime

extension Components.Schemas.Job {
    /// `withArgs`: the staff routes show arguments; tenant routes keep them out.
    init(_ job: JobRecord, withArgs: Bool = false) {
        let progress = job.progressJSON.flatMap { try? JSONDecoder().decode(OpenAPIObjectContainer.self, from: Data($0.utf8)) }
        let args = withArgs ? try? JSONDecoder().decode(OpenAPIObjectContainer.self, from: Data(job.argsJSON.utf8)) : nil
        self.init(
            id: job.id.uuidString.lowercased(),
            pipeline: job.pipeline,
            orgId: job.orgId?.uuidString.lowercased(),
            state: .init(rawValue: job.state.rawValue)!,
            attempt: job.attempt,
            maxAttempts: job.maxAttempts,
            priority: job.priority,
            runAt: job.runAt,
            progress: progress.map { .init(additionalProperties: $0) },
            lastError: job.lastError,
            errorFingerprint: job.errorFingerprint,
            createdAt: job.createdAt,
            startedAt: job.startedAt,
            finishedAt: job.finishedAt,
            attempts: job.attempts.isEmpty
                ? nil
                : job.attempts.map {
                    .init(
                        attempt: $0.attempt,
                        workerId: $0.workerId,
                        startedAt: $0.startedAt,
                        finishedAt: $0.finishedAt,
                        outcome: $0.outcome.flatMap { .init(rawValue: $0.rawValue) },
                        error: $0.error
                    )
                },
            args: args.map { .init(additionalProperties: $0) }
        )
    }
}
