import Foundation
import Logging
import Store

/// Writes successful completions in batches (see `WorkBacklog`), each still fenced by its lease
/// token. Its loop runs in the supervisor's task group until the executions are done.
struct CompletionBatcher: Sendable {
    struct Pending: Sendable {
        let job: ClaimedJob
        let continuation: CheckedContinuation<Bool, any Error>
    }

    let jobs: JobSystem
    /// Longest wait for one batch's write.
    let timeout: Duration
    private let backlog = WorkBacklog<Pending>()

    init(jobs: JobSystem, timeout: Duration) {
        self.jobs = jobs
        self.timeout = timeout
    }

    /// Marks `job` succeeded; false when its lease was taken over (a stale worker).
    func succeed(_ job: ClaimedJob) async throws -> Bool {
        try await withCheckedThrowingContinuation { continuation in
            if !backlog.add([Pending(job: job, continuation: continuation)]) {
                continuation.resume(throwing: CancellationError())
            }
        }
    }

    /// Writes batches until `close` (or cancellation); completions left over are failed, so the
    /// sweeper requeues their jobs when the leases expire.
    func run() async {
        while let batch = await backlog.next(max: 1000) {
            do {
                let (jobs, leases) = (jobs, batch.map { ($0.job.id, $0.job.leaseToken) })
                let done = try await Deadline.run("ledger completion", limit: timeout) { try await jobs.ledger.succeed(leases, on: jobs.db) }
                for item in batch { item.continuation.resume(returning: done.contains(item.job.id)) }
            } catch {
                for item in batch { item.continuation.resume(throwing: error) }
            }
        }
        for item in backlog.remaining() { item.continuation.resume(throwing: CancellationError()) }
    }

    /// No more completions: `run` writes what is pending and returns.
    func close() { backlog.close() }
}
