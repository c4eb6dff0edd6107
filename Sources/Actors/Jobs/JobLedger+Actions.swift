import Foundation
import Logging
import PostgresNIO
import Store

/// Staff actions on single jobs (the operator surface exposes them over HTTP) and reading one
/// job. The actions are staff-wide: no tenant route may call them.
extension JobLedger {
    /// Queues a dead, retrying (failed, waiting for its backoff) or cancelled job again at once:
    /// same id, attempt history kept, and a fresh allowance of its pipeline's `max_attempts`.
    public func retry(jobId: UUID, catalog: PipelineCatalog, on runner: some QueryRunner) async throws -> EnqueuedJob {
        let allowed: [JobState] = [.dead, .retrying, .cancelled]
        let names = catalog.names
        let allowances = names.map { catalog[$0]!.maxAttempts }
        do {
            let rows = try await runner.run(
                """
                UPDATE jobs SET state = 'queued', run_at = now(), finished_at = NULL, cancel_requested = false, updated_at = now(),
                       max_attempts = attempt - returned_attempts + COALESCE(
                           (SELECT c.m FROM unnest(\(names)::text[], \(allowances)::int8[]) AS c(n, m) WHERE c.n = jobs.pipeline), max_attempts)
                WHERE id = \(jobId) AND state IN ('dead', 'retrying', 'cancelled')
                RETURNING \(unescaped: Self.jobColumns)
                """,
                logger: logger
            )
            for try await row in rows { return try Self.decodeEnqueued(row) }
        } catch  where error.isUniqueViolation {
            throw JobActionError.uniqueKeyTaken("another unfinished job of this pipeline holds the same unique key")
        }
        throw try await refusal(jobId: jobId, allowed: allowed, on: runner)
    }

    /// Marks a dead job discarded: kept for the record, out of the dead letters.
    public func discard(jobId: UUID, on runner: some QueryRunner) async throws -> EnqueuedJob {
        let rows = try await runner.run(
            """
            UPDATE jobs SET state = 'discarded', finished_at = now(), updated_at = now()
            WHERE id = \(jobId) AND state = 'dead'
            RETURNING \(unescaped: Self.jobColumns)
            """,
            logger: logger
        )
        for try await row in rows { return try Self.decodeEnqueued(row) }
        throw try await refusal(jobId: jobId, allowed: [.dead], on: runner)
    }

    /// Cancels a job: one waiting to run is cancelled at once; a running one is asked to stop
    /// (its worker sees the request at its next heartbeat, stops the pipeline, and records the
    /// attempt as `cancelled`). Returns the job's state after the call.
    public func cancel(jobId: UUID, on runner: some QueryRunner) async throws -> EnqueuedJob {
        let rows = try await runner.run(
            """
            UPDATE jobs SET state = CASE WHEN state = 'running' THEN 'running' ELSE 'cancelled' END,
                   finished_at = CASE WHEN state = 'running' THEN NULL ELSE now() END,
                   cancel_requested = (state = 'running'), updated_at = now()
            WHERE id = \(jobId) AND state IN ('scheduled', 'queued', 'retrying', 'running')
            RETURNING \(unescaped: Self.jobColumns)
            """,
            logger: logger
        )
        for try await row in rows { return try Self.decodeEnqueued(row) }
        throw try await refusal(jobId: jobId, allowed: [.scheduled, .queued, .retrying, .running], on: runner)
    }

    func refusal(jobId: UUID, allowed: [JobState], on runner: some QueryRunner) async throws -> JobActionError {
        let rows = try await runner.run("SELECT state FROM jobs WHERE id = \(jobId)", logger: logger)
        for try await state in rows.decode(String.self) {
            return .wrongState(current: JobState(rawValue: state) ?? .dead, allowed: allowed)
        }
        return .notFound
    }

    /// One job of `scope`'s org with its attempts; nil if that org has none with this id.
    public func job(id: UUID, in scope: OrgScope, on runner: some QueryRunner) async throws -> JobRecord? {
        try await record(id: id, org: scope.orgId, on: runner)
    }

    /// Staff: any org's (or a platform) job with its attempts; nil if there is none.
    public func job(id: UUID, on runner: some QueryRunner) async throws -> JobRecord? {
        try await record(id: id, org: nil, on: runner)
    }

    private func record(id: UUID, org: UUID?, on runner: some QueryRunner) async throws -> JobRecord? {
        let rows = try await runner.run(
            """
            SELECT \(unescaped: Self.recordColumns)
            FROM jobs WHERE id = \(id) AND (\(org)::uuid IS NULL OR org_id = \(org))
            """,
            logger: logger
        )
        var record: JobRecord?
        for try await row in rows { record = try Self.decodeRecord(row).0 }
        guard var found = record else { return nil }
        let attempts = try await runner.run(
            // Ended attempts have their rows; the running one is read off the job row.
            """
            SELECT attempt, worker_id, started_at, finished_at, outcome, error FROM job_attempts WHERE job_id = \(id)
            UNION ALL
            SELECT j.attempt, j.lease_owner, j.attempt_started_at, NULL, NULL, NULL FROM jobs j
            WHERE j.id = \(id) AND j.state = 'running' AND j.attempt_started_at IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM job_attempts a WHERE a.job_id = j.id AND a.attempt = j.attempt)
            ORDER BY 1
            """,
            logger: logger
        )
        for try await (attempt, worker, started, finished, outcome, error) in attempts.decode((Int, String, Date, Date?, String?, String?).self) {
            found.attempts.append(
                AttemptRecord(
                    attempt: attempt,
                    workerId: worker,
                    startedAt: started,
                    finishedAt: finished,
                    outcome: outcome.flatMap(AttemptOutcome.init),
                    error: error
                )
            )
        }
        return found
    }
}
