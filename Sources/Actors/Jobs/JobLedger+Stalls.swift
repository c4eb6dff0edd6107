import Foundation
import Logging
import PostgresNIO
import Store

/// An org whose queue of one pipeline does not move.
public struct StalledQueue: Sendable {
    public let pipeline: String
    /// nil: platform jobs.
    public let orgId: UUID?
    public let queued: Int
    public let running: Int
    public let oldestQueuedAt: Date
}

extension JobLedger {
    /// How long an org's oldest queued job waits, none of its jobs running, before its queue
    /// counts as stalled: longer than any claim round trip or lease hand-over takes.
    public static let stalledAfter: Duration = .seconds(60)

    /// Orgs (per pipeline) with queued jobs, none running, the oldest queued for longer than
    /// `olderThan`: what a wedged transport (or no worker at all) leaves. Oldest first.
    public func stalledQueues(olderThan: Duration = stalledAfter, limit: Int = 100, on runner: some QueryRunner) async throws -> [StalledQueue] {
        // Candidates from the trigger-kept counts (in a healthy system few orgs have queued jobs and
        // none running); then one index probe each for the oldest queued job.
        let rows = try await runner.run(
            """
            WITH c AS (
                SELECT pipeline, org_key, sum(n) FILTER (WHERE state = 'queued')::int8 AS queued,
                       coalesce(sum(n) FILTER (WHERE state = 'running'), 0)::int8 AS running
                FROM job_state_counts WHERE state IN ('queued', 'running')
                GROUP BY pipeline, org_key
                HAVING sum(n) FILTER (WHERE state = 'queued') > 0 AND coalesce(sum(n) FILTER (WHERE state = 'running'), 0) = 0
            )
            SELECT c.pipeline, NULLIF(c.org_key, '')::uuid, c.queued, c.running, o.run_at FROM c
            CROSS JOIN LATERAL (
                SELECT run_at FROM jobs
                WHERE state = 'queued' AND pipeline = c.pipeline AND org_id IS NOT DISTINCT FROM NULLIF(c.org_key, '')::uuid
                ORDER BY run_at LIMIT 1
            ) o
            WHERE o.run_at < now() - \(olderThan.milliseconds) * interval '1 millisecond'
            ORDER BY o.run_at LIMIT \(limit)
            """,
            logger: logger
        )
        var stalled: [StalledQueue] = []
        for try await (pipeline, orgId, queued, running, oldest) in rows.decode((String, UUID?, Int, Int, Date).self) {
            stalled.append(StalledQueue(pipeline: pipeline, orgId: orgId, queued: queued, running: running, oldestQueuedAt: oldest))
        }
        return stalled
    }
}
