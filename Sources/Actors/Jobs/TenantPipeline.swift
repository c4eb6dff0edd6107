import Foundation
import Logging
import Store
import Telemetry

/// One org's share of one pipeline inside a worker process: runs that org's jobs concurrently up
/// to the pipeline's per-org cap (the transport enforces the same cap across processes), and
/// stops them on request. Made on demand by the `Supervisor`, retired when idle.
actor TenantPipeline {
    let config: PipelineConfig
    let org: String
    let handler: any JobHandler
    let jobs: JobSystem
    let workerId: String
    let logger: Logger
    let onFinish: @Sendable (UUID) async -> Void
    let completions: CompletionBatcher

    private var running: [UUID: (control: JobControl, task: Task<Void, Never>)] = [:]
    private var waiting: [ClaimedJob] = []
    private(set) var idleSince: ContinuousClock.Instant? = .now

    init(
        config: PipelineConfig, org: String, handler: any JobHandler, jobs: JobSystem, workerId: String, logger: Logger,
        completions: CompletionBatcher, onFinish: @escaping @Sendable (UUID) async -> Void
    ) {
        self.completions = completions
        self.config = config
        self.org = org
        self.handler = handler
        self.jobs = jobs
        self.workerId = workerId
        self.logger = logger
        self.onFinish = onFinish
    }

    func submit(_ job: ClaimedJob) {
        idleSince = nil
        if running.count < config.perOrgConcurrency {
            start(job)
        } else {
            waiting.append(job)
        }
    }

    private func start(_ job: ClaimedJob, control: JobControl = JobControl()) {
        let execution = JobExecution(
            job: job, org: org, config: config, handler: handler, jobs: jobs, workerId: workerId, logger: logger, control: control,
            completions: completions)
        let task = Task {
            await execution.run()
            await self.finished(job.leaseToken)
        }
        running[job.leaseToken] = (control, task)
    }

    /// `token`: the lease token of the attempt that ended (a job id can be claimed again by this
    /// worker while a stale attempt of it still runs; the token tells the two apart).
    private func finished(_ token: UUID) async {
        running[token] = nil
        if !waiting.isEmpty {
            start(waiting.removeFirst())
        } else if running.isEmpty {
            idleSince = .now
        }
        await onFinish(token)
    }

    /// Tells the attempt holding `token` to stop. An attempt still waiting for a local slot is
    /// started with the stop already recorded, so it ends at once and writes what that reason says.
    func stop(_ token: UUID, reason: StopReason) {
        if let entry = running[token] {
            if entry.control.stop(reason) { entry.task.cancel() }
        } else if let index = waiting.firstIndex(where: { $0.leaseToken == token }) {
            let job = waiting.remove(at: index)
            let control = JobControl()
            control.stop(reason)
            start(job, control: control)
            running[job.leaseToken]?.task.cancel()
        }
    }

    var isIdle: Bool { running.isEmpty && waiting.isEmpty }
}

/// One attempt of one job: runs the handler under its timeout, then writes the outcome to the
/// ledger (fenced by the lease token), frees the transport slot and records metrics.
struct JobExecution: Sendable {
    let job: ClaimedJob
    let org: String
    let config: PipelineConfig
    let handler: any JobHandler
    let jobs: JobSystem
    let workerId: String
    let logger: Logger
    let control: JobControl
    let completions: CompletionBatcher

    enum Result: Sendable {
        case succeeded
        case failed(any Error)
        case timerFired
        case timerCancelled
    }

    func run() async {
        await LogContext.with({ context in
            context.requestId = job.requestId
            context.orgId = job.orgId?.uuidString.lowercased()
            context.userId = nil
            context.fields = ["job_id": job.id.uuidString.lowercased(), "pipeline": job.pipeline, "attempt": String(job.attempt)]
        }) {
            await execute()
        }
    }

    private func execute() async {
        let clock = ContinuousClock()
        let started = clock.now
        logger.debug("job started", metadata: ["worker_id": .string(workerId)])
        let context = JobContext(job: job, workerId: workerId, logger: logger, db: jobs.db, ledger: jobs.ledger)
        let handler = handler, control = control, timeout = config.timeout
        let result: Result = await withTaskGroup(of: Result.self) { group in
            group.addTask {
                do {
                    try await handler.run(context)
                    return .succeeded
                } catch {
                    return .failed(error)
                }
            }
            group.addTask {
                do {
                    try await Task.sleep(for: timeout)
                    return .timerFired
                } catch {
                    return .timerCancelled
                }
            }
            var outcome: Result = .timerCancelled
            while let next = await group.next() {
                switch next {
                case .timerFired:
                    control.stop(.timeout)
                    group.cancelAll()
                case .timerCancelled:
                    continue
                case .succeeded, .failed:
                    outcome = next
                    group.cancelAll()
                }
            }
            return outcome
        }
        let elapsed = clock.now - started
        JobMetrics.runTime(config.name).recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        // The outcome is written even when this task was cancelled (stop requests cancel it):
        // a new task does not inherit the cancellation, and keeps the log context.
        let execution = self
        await Task {
            if await execution.record(result, elapsed: elapsed) {
                try? await execution.jobs.queue.touchSlots(pipeline: execution.config.name, slots: [(execution.org, execution.job.leaseToken)], lease: nil)
            }
        }.value
    }

    /// Writes the outcome; returns whether the transport slot still needs freeing (the
    /// completion batcher frees the slots of the jobs it completes).
    private func record(_ result: Result, elapsed: Duration) async -> Bool {
        let ending: JobLedger.Ending?
        let reason = control.reason
        var error: (any Error)?
        switch (result, reason) {
        case (.succeeded, _):
            ending = .succeeded
        case (_, .cancelRequested?):
            ending = .cancelled
        case (_, .shutdown?):
            ending = .returned
        case (_, .leaseLost?):
            ending = nil
        case (.failed(let failure), _) where failure is LeaseLostError:
            ending = nil
        case (_, .timeout?):
            let message = "timed out after \(config.timeout)"
            error = TimeoutError(message: message)
            ending = failure(type: "Timeout", message: message, retryable: true)
        case (.failed(let failure), nil):
            error = failure
            let retryable = !(failure is NonRetryableError)
            ending = self.failure(type: String(describing: type(of: failure)), message: String(describing: failure), retryable: retryable)
        default:
            ending = self.failure(type: "Unknown", message: "the handler ended without a result", retryable: true)
        }
        let ms = Int(elapsed.milliseconds)
        guard let ending else {
            logger.warning("job stopped: this worker no longer holds its lease; nothing recorded", metadata: ["duration_ms": .stringConvertible(ms)])
            return true
        }
        if case .succeeded = ending {
            do {
                if try await completions.succeed(job, org: org) {
                    JobMetrics.succeeded(config.name).increment()
                    logger.info("job succeeded", metadata: ["duration_ms": .stringConvertible(ms)])
                } else {
                    JobMetrics.staleCompletions.increment()
                    logger.warning("outcome rejected: the lease was taken over by a later attempt", metadata: ["duration_ms": .stringConvertible(ms)])
                }
            } catch {
                logger.error("cannot record the job's outcome", metadata: ["error": .string("\(error)")])
            }
            return false
        }
        do {
            guard let after = try await jobs.ledger.finish(job, ending, on: jobs.db) else {
                JobMetrics.staleCompletions.increment()
                logger.warning("outcome rejected: the lease was taken over by a later attempt", metadata: ["duration_ms": .stringConvertible(ms)])
                return true
            }
            var metadata: Logger.Metadata = ["duration_ms": .stringConvertible(ms), "state": .string(after.state.rawValue)]
            if let error { metadata["error"] = .string(String(describing: error)) }
            switch after.state {
            case .succeeded:
                JobMetrics.succeeded(config.name).increment()
                logger.info("job succeeded", metadata: metadata)
            case .retrying:
                JobMetrics.failed(config.name).increment()
                metadata["retry_at"] = .string(after.runAt.formatted(.iso8601))
                logger.warning("job failed; will retry", metadata: metadata)
            case .dead:
                JobMetrics.failed(config.name).increment()
                JobMetrics.dead(config.name).increment()
                logger.error("job failed; dead-lettered", metadata: metadata)
            case .cancelled:
                JobMetrics.cancelled(config.name).increment()
                logger.info("job cancelled on request", metadata: metadata)
            case .queued:
                logger.info("lease handed back at shutdown; job queued again", metadata: metadata)
                await jobs.publish([after])
            default:
                logger.info("job finished", metadata: metadata)
            }
        } catch {
            // The lease will expire and the sweeper will requeue the job.
            logger.error("cannot record the job's outcome", metadata: ["error": .string("\(error)")])
        }
        return true
    }

    private func failure(type: String, message: String, retryable: Bool) -> JobLedger.Ending {
        let fingerprint = ErrorFingerprint.make(pipeline: config.name, errorType: type, message: message)
        let spent = job.countedAttempts >= job.maxAttempts
        let retryAfter = retryable && !spent ? config.backoff.delay(afterAttempt: job.countedAttempts) : nil
        return .failed(error: String(message.prefix(4000)), fingerprint: fingerprint, retryAfter: retryAfter)
    }
}

struct TimeoutError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
