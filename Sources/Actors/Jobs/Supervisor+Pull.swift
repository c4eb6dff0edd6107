import Foundation
import Logging
import Store

/// Pulling: each served pipeline has a loop that claims up to its free slots from Redis, claims
/// those ids in the ledger and hands the jobs out.
extension Supervisor {
    enum Pull {
        case empty, dispatched, handedBack
    }

    func freeSlots(_ config: PipelineConfig) -> Int {
        guard !stopping else { return 0 }
        return max(0, min(config.globalConcurrency, settings.concurrency) - perPipeline[config.name, default: 0])
    }

    func beginClaim() { claiming += 1 }
    func endClaim() { claiming -= 1 }

    /// Returns once `config`'s pipeline has a free local slot (or the worker is stopping).
    func waitForSlot(_ config: PipelineConfig) async {
        guard freeSlots(config) == 0, !stopping else { return }
        await withCheckedContinuation { continuation in
            slotWaiters[config.name]?.resume()
            slotWaiters[config.name] = continuation
        }
    }

    nonisolated func pullLoop(_ config: PipelineConfig) async {
        var idle = Duration.milliseconds(5)
        var failures = 0
        while !Task.isCancelled {
            if await paused.contains(config.name) {
                if await stopping { return }
                try? await Task.sleep(for: .milliseconds(100))
                continue
            }
            let free = await freeSlots(config)
            if free == 0 {
                if await stopping { return }
                await waitForSlot(config)
                continue
            }
            await beginClaim()
            let pulled: Result<Pull, any Error>
            do {
                pulled = .success(try await pull(config, max: free))
            } catch {
                pulled = .failure(error)
            }
            await endClaim()
            switch pulled {
            case .success(let outcome):
                if failures > 0 {
                    logger.info("pull recovered after \(failures) failures", metadata: ["pipeline": .string(config.name)])
                    failures = 0
                }
                switch outcome {
                case .handedBack:
                    return
                case .dispatched:
                    idle = .milliseconds(5)
                case .empty:
                    try? await Task.sleep(for: idle)
                    idle = min(idle * 2, .milliseconds(50))
                }
            case .failure(let error):
                failures += 1
                if failures == 1 || failures % 50 == 0 {
                    logger.warning(
                        "cannot pull work; retrying with backoff",
                        metadata: ["pipeline": .string(config.name), "error": .string(ErrorDescription.of(error)), "failures": .stringConvertible(failures)]
                    )
                }
                try? await Task.sleep(for: .milliseconds(min(2000, 50 << min(failures, 6))))
            }
        }
    }

    /// One claim: ids from Redis, then the ledger's claim of them; the jobs go to their tenants.
    nonisolated func pull(_ config: PipelineConfig, max: Int) async throws -> Pull {
        let claims = try await jobs.queue.claim(config, max: max)
        guard !claims.isEmpty else { return .empty }
        let slotOf = { (claim: JobQueue.Claim) in SlotReleaser.Slot(pipeline: config.name, org: claim.org, token: claim.token) }
        let claimed: [ClaimedJob]
        let (ledger, db, worker, lease) = (jobs.ledger, jobs.db, settings.id, config.lease)
        do {
            claimed = try await Deadline.run("ledger claim", limit: settings.ledgerTimeout) {
                try await ledger.claim(claims.map { ($0.jobId, $0.token) }, worker: worker, lease: lease, on: db)
            }
        } catch {
            // The ledger did not take the claim (or did not say so in time): the ids go back to the
            // queue and the slots are freed at once. Should the claim have committed after all, a
            // later claim of those ids skips them and the sweeper requeues them when the lease passes.
            do {
                try await jobs.queue.requeue(pipeline: config.name, claims)
            } catch {
                // Redis is away too: the slots expire with their lease, the reconciler republishes the ids.
                slots.release(claims.map(slotOf))
            }
            throw error
        }
        let ids = Set(claimed.map(\.id))
        // Ids Redis held twice or for jobs already finished: free their slots.
        slots.release(claims.filter { !ids.contains($0.jobId) }.map(slotOf))
        let orgs = Dictionary(claims.map { ($0.jobId, $0.org) }, uniquingKeysWith: { a, _ in a })
        if await stopping {
            // Shutdown began during the claim: hand these back at once rather than run them.
            var returned: [EnqueuedJob] = []
            for job in claimed {
                let back = try? await Deadline.run("ledger hand-back", limit: settings.ledgerTimeout) {
                    try await ledger.finish(job, .returned, on: db)
                }
                if let back = back ?? nil { returned.append(back) }
            }
            slots.release(claims.filter { ids.contains($0.jobId) }.map(slotOf))
            await jobs.publish(returned)
            return .handedBack
        }
        for job in claimed {
            JobMetrics.started(config.name).increment()
            await dispatch(job, org: orgs[job.id] ?? JobQueue.orgKey(job.orgId), config: config)
        }
        return .dispatched
    }
}
