import Foundation
import Logging
import Store

/// Writes how an attempt ended: success through the completion batcher, anything else with one
/// fenced `finish`; then the log line and the metrics.
struct JobOutcome {
    let execution: JobExecution

    var job: ClaimedJob { execution.job }
    var config: PipelineConfig { execution.config }
    var logger: Logger { execution.logger }

    func record(_ result: JobExecution.Result, elapsed: Duration) async {
        let reason = execution.control.reason
        var error: (any Error)?
        let ending: JobLedger.Ending?
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
            ending = self.failure(
                type: String(describing: type(of: failure)),
                message: ErrorDescription.of(failure),
                retryable: !(failure is NonRetryableError)
            )
        case (.notStarted, nil):
            ending = failure(type: "Unknown", message: "the attempt ended before the pipeline ran", retryable: true)
        }
        let ms = Int(elapsed.milliseconds)
        guard let ending else {
            logger.warning("job stopped: this worker no longer holds its lease; nothing recorded", metadata: ["duration_ms": .stringConvertible(ms)])
            return
        }
        if case .succeeded = ending {
            await recordSuccess(ms: ms)
        } else {
            await recordEnding(ending, error: error, ms: ms)
        }
    }

    private func recordSuccess(ms: Int) async {
        do {
            let (completions, job) = (execution.completions, job)
            if try await untilWritten({ try await completions.succeed(job) }) {
                JobMetrics.succeeded(config.name).increment()
                logger.info("job succeeded", metadata: ["duration_ms": .stringConvertible(ms)])
            } else {
                JobMetrics.staleCompletions.increment()
                logger.warning("outcome rejected: the lease was taken over by a later attempt", metadata: ["duration_ms": .stringConvertible(ms)])
            }
        } catch {
            logger.error("cannot record the job's outcome", metadata: ["error": .string(ErrorDescription.of(error))])
        }
    }

    private func recordEnding(_ ending: JobLedger.Ending, error: (any Error)?, ms: Int) async {
        let jobs = execution.jobs
        let job = job
        do {
            let limit = execution.ledgerTimeout
            let written = try await untilWritten {
                try await Deadline.run("ledger outcome", limit: limit) { try await jobs.ledger.finish(job, ending, on: jobs.db) }
            }
            guard let after = written else {
                JobMetrics.staleCompletions.increment()
                logger.warning("outcome rejected: the lease was taken over by a later attempt", metadata: ["duration_ms": .stringConvertible(ms)])
                return
            }
            var metadata: Logger.Metadata = ["duration_ms": .stringConvertible(ms), "state": .string(after.state.rawValue)]
            if let error { metadata["error"] = .string(ErrorDescription.of(error)) }
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
            logger.error("cannot record the job's outcome", metadata: ["error": .string(ErrorDescription.of(error))])
        }
    }

    /// Writes an outcome, trying again while the database does not answer. The attempt is still in flight
    /// meanwhile, so heartbeats keep its lease once the database is back, and the outcome lands the moment the
    /// database answers: finished work is recorded, not re-run after the lease expires. Any other error, and
    /// shutdown (the lease then expires and the sweeper requeues the job), end the tries.
    private func untilWritten<T: Sendable>(_ write: @Sendable () async throws -> T) async throws -> T {
        var delay = Duration.milliseconds(100)
        var failures = 0
        while true {
            do {
                let result = try await write()
                if failures > 0 {
                    logger.info("job outcome written after \(failures) failed tries")
                }
                return result
            } catch where (DatabaseOutage.matches(error) || error is DeadlineExceeded) && !execution.control.isShuttingDown {
                failures += 1
                if failures == 1 {
                    logger.warning("cannot record the job's outcome yet; trying again until the database answers", metadata: ["error": .string(ErrorDescription.of(error))])
                }
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(2))
            }
        }
    }

    private func failure(type: String, message: String, retryable: Bool) -> JobLedger.Ending {
        let fingerprint = ErrorFingerprint.make(pipeline: config.name, errorType: type, message: message)
        let spent = job.countedAttempts >= job.maxAttempts
        let retryAfter = retryable && !spent ? config.backoff.delay(afterAttempt: job.countedAttempts) : nil
        return .failed(error: String(message.prefix(4000)), fingerprint: fingerprint, retryAfter: retryAfter)
    }
}
