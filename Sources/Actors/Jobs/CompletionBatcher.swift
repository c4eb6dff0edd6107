import Foundation
import Logging
import Store

/// Writes successful completions in batches: while one batch is in flight the next one gathers,
/// so a busy worker completes hundreds of jobs per statement and an idle one still writes each at
/// once. Each completion stays fenced by its lease token; the transport slots are freed in the
/// same pass.
actor CompletionBatcher {
    struct Pending {
        let job: ClaimedJob
        let org: String
        let continuation: CheckedContinuation<Bool, any Error>
    }

    let jobs: JobSystem
    private var pending: [Pending] = []
    private var flushing = false

    init(jobs: JobSystem) {
        self.jobs = jobs
    }

    /// Marks `job` succeeded; false when its lease was taken over (a stale worker).
    func succeed(_ job: ClaimedJob, org: String) async throws -> Bool {
        try await withCheckedThrowingContinuation { continuation in
            pending.append(Pending(job: job, org: org, continuation: continuation))
            if !flushing {
                flushing = true
                Task { await self.flush() }
            }
        }
    }

    private func flush() async {
        while !pending.isEmpty {
            let batch = Array(pending.prefix(1000))
            pending.removeFirst(batch.count)
            do {
                let done = try await jobs.ledger.succeed(batch.map { ($0.job.id, $0.job.leaseToken) }, on: jobs.db)
                for item in batch { item.continuation.resume(returning: done.contains(item.job.id)) }
            } catch {
                for item in batch { item.continuation.resume(throwing: error) }
            }
            for (pipeline, group) in Dictionary(grouping: batch, by: \.job.pipeline) {
                try? await jobs.queue.touchSlots(pipeline: pipeline, slots: group.map { ($0.org, $0.job.leaseToken) }, lease: nil)
            }
        }
        flushing = false
    }
}
