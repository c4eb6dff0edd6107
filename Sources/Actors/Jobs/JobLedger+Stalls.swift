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
        let rows = try await runner.run(
            """
            SELECT pipeline, org_id, count(*) FILTER (WHERE state = 'queued')::int8, count(*) FILTER (WHERE state = 'running')::int8,
                   min(run_at) FILTER (WHERE state = 'queued')
            FROM jobs WHERE state IN ('queued', 'running')
            GROUP BY pipeline, org_id
            HAVING count(*) FILTER (WHERE state = 'running') = 0
               AND min(run_at) FILTER (WHERE state = 'queued') < now() - \(olderThan.milliseconds) * interval '1 millisecond'
            ORDER BY 5 LIMIT \(limit)
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
