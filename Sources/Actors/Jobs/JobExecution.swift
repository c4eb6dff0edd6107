import Foundation
import Logging
import Telemetry

/// One attempt of one job: runs the pipeline under its timeout and stop requests, then writes the
/// outcome to the ledger (fenced by the lease token) and records metrics. An attempt stopped
/// before it started writes its outcome without running the pipeline.
struct JobExecution: Sendable {
    let job: ClaimedJob
    let config: PipelineConfig
    let pipeline: PipelineEntry
    let jobs: JobSystem
    let workerId: String
    let logger: Logger
    let control: JobControl
    let completions: CompletionBatcher
    /// Longest wait for the outcome's ledger write.
    let ledgerTimeout: Duration

    enum Result: Sendable {
        case succeeded
        case failed(any Error)
        /// Stopped while waiting for a local slot: the pipeline never ran.
        case notStarted
    }

    /// What one child of the execution's task group reports.
    enum Step: Sendable {
        case finished(Result)
        case timerFired
        case stopRequested
        case quiet
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
        let result: Result
        if control.reason != nil {
            result = .notStarted
        } else {
            logger.debug("job started", metadata: ["worker_id": .string(workerId)])
            result = await runPipeline()
            let elapsed = clock.now - started
            JobMetrics.runTime(config.name).recordNanoseconds(
                elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
            )
        }
        await JobOutcome(execution: self).record(result, elapsed: clock.now - started)
    }

    /// The pipeline, its timer and a stop watcher race in one task group; stops and the timer
    /// cancel the pipeline's task, and the outcome is the pipeline's own result.
    private func runPipeline() async -> Result {
        let context = JobContext(job: job, workerId: workerId, logger: logger, db: jobs.db, ledger: jobs.ledger)
        let pipeline = pipeline
        let control = control
        let timeout = config.timeout
        let argsJSON = job.argsJSON
        return await withTaskGroup(of: Step.self) { group in
            group.addTask {
                do {
                    try await pipeline.run(argsJSON: argsJSON, context: context)
                    return .finished(.succeeded)
                } catch {
                    return .finished(.failed(error))
                }
            }
            group.addTask {
                do {
                    try await Task.sleep(for: timeout)
                    return .timerFired
                } catch {
                    return .quiet
                }
            }
            group.addTask { await control.stopRequested() == nil ? .quiet : .stopRequested }
            var outcome: Result?
            while let step = await group.next() {
                switch step {
                case .finished(let result):
                    outcome = result
                    group.cancelAll()
                case .timerFired:
                    control.stop(.timeout)
                    group.cancelAll()
                case .stopRequested:
                    group.cancelAll()
                case .quiet:
                    continue
                }
            }
            return outcome ?? .failed(CancellationError())
        }
    }
}

struct TimeoutError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
