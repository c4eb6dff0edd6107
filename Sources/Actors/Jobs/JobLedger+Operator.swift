import Foundation
import Logging
import PostgresNIO
import Store

/// One tenant's share of the orchestrator: its unfinished and dead jobs, the run time of its
/// attempts that finished in the last hour, and its oldest queued job. `orgId` nil: platform jobs.
public struct TenantLoad: Sendable {
    public let orgId: UUID?
    public let name: String?
    public var queued = 0
    public var running = 0
    public var retrying = 0
    public var dead = 0
    public var runSecondsLastHour = 0.0
    public var oldestQueuedAt: Date?
}

/// Which dead jobs a bulk discard takes. `exact`: a nil org or fingerprint means "jobs without
/// one" (one dead-letter group), not "any".
public struct BulkDiscardFilter: Sendable {
    public var pipeline: String
    public var orgId: UUID?
    public var errorFingerprint: String?
    public var exact: Bool

    public init(pipeline: String, orgId: UUID?, errorFingerprint: String?, exact: Bool) {
        self.pipeline = pipeline
        self.orgId = orgId
        self.errorFingerprint = errorFingerprint
        self.exact = exact
    }
}

/// The operator actions and views the dashboard added: fix-and-retry, discarding a dead-letter
/// group, the tenants view.
extension JobLedger {
    /// Replaces a dead job's arguments (already checked against its pipeline) and returns the old
    /// ones; the caller retries it in the same transaction. Locks the row, so a concurrent retry
    /// either sees the new arguments or makes this one refuse (no longer dead).
    public func replaceDeadArgs(jobId: UUID, argsJSON: String, on runner: some QueryRunner) async throws -> String {
        let rows = try await runner.run(
            """
            WITH old AS (SELECT id, args FROM jobs WHERE id = \(jobId) AND state = 'dead' FOR UPDATE)
            UPDATE jobs SET args = \(argsJSON)::jsonb, updated_at = now() FROM old WHERE jobs.id = old.id
            RETURNING old.args::text
            """,
            logger: logger
        )
        for try await old in rows.decode(String.self) { return old }
        throw try await refusal(jobId: jobId, allowed: [.dead], on: runner)
    }

    /// The pipeline a job belongs to, if the job exists.
    public func pipeline(ofJob jobId: UUID, on runner: some QueryRunner) async throws -> String? {
        for try await name in try await runner.run("SELECT pipeline FROM jobs WHERE id = \(jobId)", logger: logger).decode(String.self) {
            return name
        }
        return nil
    }

    /// Discards the dead jobs matching `filter` (a dry run only counts them).
    public func bulkDiscard(_ filter: BulkDiscardFilter, dryRun: Bool, on runner: some QueryRunner) async throws -> (matched: Int, discarded: Int) {
        let zero = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
        let orgKey = filter.orgId ?? (filter.exact ? zero : nil)
        let fingerprintKey = filter.errorFingerprint ?? (filter.exact ? "" : nil)
        // The coalesced keys are those of jobs_dead_groups_idx, so one group is one index range.
        if dryRun {
            let rows = try await runner.run(
                """
                SELECT count(*)::int8 FROM jobs
                WHERE state = 'dead' AND pipeline = \(filter.pipeline)
                  AND (\(orgKey)::uuid IS NULL OR COALESCE(org_id, '00000000-0000-0000-0000-000000000000'::uuid) = \(orgKey))
                  AND (\(fingerprintKey)::text IS NULL OR COALESCE(error_fingerprint, '') = \(fingerprintKey))
                """,
                logger: logger
            )
            for try await n in rows.decode(Int.self) { return (n, 0) }
            return (0, 0)
        }
        let rows = try await runner.run(
            """
            WITH matched AS (
                SELECT id FROM jobs
                WHERE state = 'dead' AND pipeline = \(filter.pipeline)
                  AND (\(orgKey)::uuid IS NULL OR COALESCE(org_id, '00000000-0000-0000-0000-000000000000'::uuid) = \(orgKey))
                  AND (\(fingerprintKey)::text IS NULL OR COALESCE(error_fingerprint, '') = \(fingerprintKey))
                ORDER BY id FOR UPDATE
            )
            UPDATE jobs SET state = 'discarded', finished_at = now(), updated_at = now() FROM matched WHERE jobs.id = matched.id
            RETURNING jobs.id
            """,
            logger: logger
        )
        var n = 0
        for try await _ in rows { n += 1 }
        return (n, n)
    }

    /// Per org (and platform jobs): unfinished and dead jobs from the trigger-kept counts, the last
    /// hour's run time, the oldest queued job; the busiest (by queued, then run time) first.
    public func tenantLoads(on runner: some QueryRunner) async throws -> [TenantLoad] {
        var loads: [String: TenantLoad] = [:]
        let counts = try await runner.run(
            """
            SELECT c.org_key, o.name, c.state, sum(c.n)::int8
            FROM job_state_counts c LEFT JOIN organizations o ON o.id = NULLIF(c.org_key, '')::uuid
            WHERE c.state IN ('queued', 'running', 'retrying', 'dead')
            GROUP BY 1, 2, 3 HAVING sum(c.n) <> 0
            """,
            logger: logger
        )
        for try await (key, name, state, n) in counts.decode((String, String?, String, Int).self) {
            var load = loads[key] ?? TenantLoad(orgId: UUID(uuidString: key), name: name)
            switch state {
            case "queued": load.queued = n
            case "running": load.running = n
            case "retrying": load.retrying = n
            default: load.dead = n
            }
            loads[key] = load
        }
        let hour = try await runner.run(
            """
            SELECT COALESCE(a.org_id::text, ''), o.name, sum(date_part('epoch', a.finished_at - a.started_at))
            FROM job_attempts a LEFT JOIN organizations o ON o.id = a.org_id
            WHERE a.finished_at IS NOT NULL AND a.finished_at > now() - interval '1 hour'
            GROUP BY 1, 2
            """,
            logger: logger
        )
        for try await (key, name, seconds) in hour.decode((String, String?, Double).self) {
            loads[key, default: TenantLoad(orgId: UUID(uuidString: key), name: name)].runSecondsLastHour = seconds
        }
        let oldest = try await runner.run(
            "SELECT COALESCE(org_id::text, ''), min(run_at) FROM jobs WHERE state = 'queued' GROUP BY 1",
            logger: logger
        )
        for try await (key, at) in oldest.decode((String, Date).self) {
            loads[key]?.oldestQueuedAt = at
        }
        return loads.values.sorted {
            ($0.queued, $0.runSecondsLastHour, $0.orgId?.uuidString ?? "") > ($1.queued, $1.runSecondsLastHour, $1.orgId?.uuidString ?? "")
        }
    }
}
