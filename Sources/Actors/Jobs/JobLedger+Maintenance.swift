import Foundation
import Logging
import PostgresNIO
import Store

/// What every worker's maintenance loop runs. Safe from every worker at once: the writes take
/// their rows `FOR UPDATE SKIP LOCKED`, so they never wait on (or deadlock with) another statement.
extension JobLedger {
    /// Requeues (or dead-letters, when attempts are spent) jobs whose lease expired: their
    /// worker died or stalled. The attempt is recorded as `lost`.
    public func sweepExpiredLeases(limit: Int = 1000, on runner: some QueryRunner) async throws -> [EnqueuedJob] {
        let rows = try await runner.run(
            """
            WITH lost AS (
                SELECT id, lease_owner, lease_token, attempt_started_at FROM jobs WHERE state = 'running' AND lease_expires_at < now()
                ORDER BY lease_expires_at LIMIT \(limit) FOR UPDATE SKIP LOCKED
            ),
            j AS (
                UPDATE jobs SET
                    state = CASE WHEN jobs.cancel_requested THEN 'cancelled'
                                 WHEN jobs.attempt - jobs.returned_attempts >= jobs.max_attempts THEN 'dead' ELSE 'queued' END,
                    finished_at = CASE WHEN jobs.cancel_requested OR jobs.attempt - jobs.returned_attempts >= jobs.max_attempts
                                       THEN now() ELSE NULL END,
                    run_at = now(),
                    last_error = 'lease expired: worker ' || jobs.lease_owner || ' stopped heartbeating',
                    error_fingerprint = left(md5(jobs.pipeline || '|LeaseExpired|lease expired'), 16),
                    lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, attempt_started_at = NULL,
                    cancel_requested = false, updated_at = now()
                FROM lost WHERE jobs.id = lost.id
                RETURNING jobs.id, jobs.org_id, jobs.pipeline, jobs.state, jobs.priority, jobs.run_at, jobs.attempt,
                          lost.lease_owner AS worker_id, lost.lease_token AS attempt_token, lost.attempt_started_at,
                          CASE WHEN jobs.state = 'cancelled' THEN 'cancelled' ELSE 'lost' END AS outcome, jobs.last_error AS error
            ),
            a AS (\(unescaped: Self.attemptRowSQL))
            SELECT id, org_id, pipeline, state, priority, run_at FROM j
            """,
            logger: logger
        )
        var jobs: [EnqueuedJob] = []
        for try await row in rows { jobs.append(try Self.decodeEnqueued(row)) }
        return jobs
    }

    /// Delayed and retrying jobs whose time has come become `queued` (to be published).
    public func promoteDue(limit: Int = 5000, on runner: some QueryRunner) async throws -> [EnqueuedJob] {
        let rows = try await runner.run(
            """
            WITH due AS (
                SELECT id FROM jobs WHERE state IN ('scheduled', 'retrying') AND run_at <= now()
                ORDER BY run_at LIMIT \(limit) FOR UPDATE SKIP LOCKED
            )
            UPDATE jobs SET state = 'queued', updated_at = now() FROM due WHERE jobs.id = due.id
            RETURNING jobs.id, jobs.org_id, jobs.pipeline, jobs.state, jobs.priority, jobs.run_at
            """,
            logger: logger
        )
        var jobs: [EnqueuedJob] = []
        for try await row in rows { jobs.append(try Self.decodeEnqueued(row)) }
        return jobs
    }

    /// A page of queued jobs (by id) that have been queued for at least `olderThan`: what the
    /// transport should hold. The reconciler re-publishes those Redis lost.
    public func queuedPage(after: UUID?, olderThan: Duration, limit: Int, on runner: some QueryRunner) async throws -> [EnqueuedJob] {
        let start = after ?? UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
        let rows = try await runner.run(
            """
            SELECT \(unescaped: Self.jobColumns) FROM jobs
            WHERE state = 'queued' AND id > \(start) AND updated_at < now() - \(olderThan.milliseconds) * interval '1 millisecond'
            ORDER BY id LIMIT \(limit)
            """,
            logger: logger
        )
        var jobs: [EnqueuedJob] = []
        for try await row in rows { jobs.append(try Self.decodeEnqueued(row)) }
        return jobs
    }

    /// Queued jobs per pipeline and the age of the oldest.
    public func queueDepths(on runner: some QueryRunner) async throws -> [(pipeline: String, depth: Int, oldest: Date)] {
        // Counts from the trigger-kept table; the oldest per pipeline is one index probe each.
        let rows = try await runner.run(
            """
            SELECT c.pipeline, c.n, o.run_at FROM (
                SELECT pipeline, sum(n)::int8 AS n FROM job_state_counts WHERE state = 'queued' GROUP BY pipeline HAVING sum(n) > 0
            ) c
            CROSS JOIN LATERAL (
                SELECT run_at FROM jobs WHERE state = 'queued' AND pipeline = c.pipeline ORDER BY run_at LIMIT 1
            ) o
            """,
            logger: logger
        )
        var result: [(String, Int, Date)] = []
        for try await (pipeline, depth, oldest) in rows.decode((String, Int, Date).self) { result.append((pipeline, depth, oldest)) }
        return result
    }
}
