import Foundation
import Logging
import PostgresNIO
import Store

/// Filters of the job listings (all optional). Which orgs' jobs are listed is the listing
/// function's business: one org's (`list(_:in:)`) or, for staff, any (`listAll(_:org:)`).
public struct JobFilter: Sendable {
    /// Jobs in this state.
    public var state: JobState?
    /// Jobs of this pipeline.
    public var pipeline: String?
    /// Jobs whose last error has this fingerprint.
    public var errorFingerprint: String?
    /// Jobs whose arguments contain this JSON object (`args @> …`, served by `jobs_args_idx`).
    public var argsContaining: String?

    public init(state: JobState? = nil, pipeline: String? = nil, errorFingerprint: String? = nil, argsContaining: String? = nil) {
        self.state = state
        self.pipeline = pipeline
        self.errorFingerprint = errorFingerprint
        self.argsContaining = argsContaining
    }
}

/// Which dead jobs a (staff-wide) bulk retry takes; `orgId` narrows it to one org.
public struct BulkRetryFilter: Sendable {
    public var pipeline: String?
    public var orgId: UUID?
    public var errorFingerprint: String?
    public var deadSince: Date?

    public init(pipeline: String? = nil, orgId: UUID? = nil, errorFingerprint: String? = nil, deadSince: Date? = nil) {
        self.pipeline = pipeline
        self.orgId = orgId
        self.errorFingerprint = errorFingerprint
        self.deadSince = deadSince
    }
}

public struct PipelineStats: Sendable {
    public var counts: [JobState: Int] = [:]
    public var succeededLastHour = 0
    public var failedLastHour = 0
    public var p50RunMs: Double?
    public var p95RunMs: Double?
    public var oldestQueuedAt: Date?

    public init() {}
}

public struct DeadLetterGroup: Sendable {
    public let pipeline: String
    public let orgId: UUID?
    public let errorFingerprint: String?
    public let count: Int
    public let firstAt: Date
    public let lastAt: Date
    public let sampleError: String?
}

/// The read side and bulk actions of the operator surface.
extension JobLedger {
    static let recordColumns = """
        id, org_id, pipeline, state, attempt, max_attempts, priority, run_at, progress::text, last_error, error_fingerprint,
        args::text, unique_key, request_id, cancel_requested, created_at, started_at, finished_at,
        (extract(epoch FROM created_at) * 1000000)::int8
        """

    /// A row of `recordColumns`: the job and its keyset position (creation time in microseconds).
    static func decodeRecord(_ row: PostgresRow) throws -> (JobRecord, Int64) {
        let r = try row.decode(
            (UUID, UUID?, String, String, Int, Int, Int, Date, String?, String?, String?, String, String?, String?, Bool, Date, Date?, Date?, Int64)
                .self
        )
        let record = JobRecord(
            id: r.0,
            orgId: r.1,
            pipeline: r.2,
            state: JobState(rawValue: r.3) ?? .dead,
            attempt: r.4,
            maxAttempts: r.5,
            priority: r.6,
            runAt: r.7,
            progressJSON: r.8,
            lastError: r.9,
            errorFingerprint: r.10,
            argsJSON: r.11,
            uniqueKey: r.12,
            requestId: r.13,
            cancelRequested: r.14,
            createdAt: r.15,
            startedAt: r.16,
            finishedAt: r.17
        )
        return (record, r.18)
    }

    /// One org's jobs, newest first, keyset-paged over `(created_at, id)`.
    public func list(
        _ filter: JobFilter,
        in scope: OrgScope,
        limit: Int,
        after cursor: PageCursor?,
        on runner: some QueryRunner
    ) async throws -> Page<JobRecord> {
        try await page(filter, org: scope.orgId, limit: limit, after: cursor, on: runner)
    }

    /// Staff: jobs of every org and platform jobs (or of `org` alone), newest first.
    public func listAll(
        _ filter: JobFilter,
        org: UUID?,
        limit: Int,
        after cursor: PageCursor?,
        on runner: some QueryRunner
    ) async throws -> Page<JobRecord> {
        try await page(filter, org: org, limit: limit, after: cursor, on: runner)
    }

    /// Unnamed statements are planned with their values, so the `IS NULL OR` filters collapse and
    /// the matching index is used.
    private func page(
        _ filter: JobFilter,
        org: UUID?,
        limit: Int,
        after cursor: PageCursor?,
        on runner: some QueryRunner
    ) async throws -> Page<JobRecord> {
        let rows = try await runner.run(
            """
            SELECT \(unescaped: Self.recordColumns)
            FROM jobs
            WHERE (\(filter.state?.rawValue)::text IS NULL OR state = \(filter.state?.rawValue))
              AND (\(filter.pipeline)::text IS NULL OR pipeline = \(filter.pipeline))
              AND (\(org)::uuid IS NULL OR org_id = \(org))
              AND (\(filter.errorFingerprint)::text IS NULL OR error_fingerprint = \(filter.errorFingerprint))
              AND (\(filter.argsContaining)::jsonb IS NULL OR args @> \(filter.argsContaining)::jsonb)
              AND \(page: cursor, time: "created_at", id: "id")
            ORDER BY created_at DESC, id DESC
            LIMIT \(limit + 1)
            """,
            logger: logger
        )
        var out: [(JobRecord, PageCursor)] = []
        for try await row in rows {
            let (record, micros) = try Self.decodeRecord(row)
            out.append((record, PageCursor(micros: micros, id: record.id)))
        }
        return Page.from(rows: out, limit: limit)
    }

    /// Counts by state (from the trigger-kept counts), the last hour's outcomes and run-time
    /// percentiles, and the oldest queued job, per pipeline.
    public func pipelineStats(on runner: some QueryRunner) async throws -> [String: PipelineStats] {
        var stats: [String: PipelineStats] = [:]
        let counts = try await runner.run(
            "SELECT pipeline, state, sum(n)::int8 FROM job_state_counts GROUP BY pipeline, state HAVING sum(n) <> 0",
            logger: logger
        )
        for try await (pipeline, state, n) in counts.decode((String, String, Int).self) {
            if let state = JobState(rawValue: state) { stats[pipeline, default: .init()].counts[state] = n }
        }
        let hour = try await runner.run(
            """
            SELECT pipeline,
                   count(*) FILTER (WHERE outcome = 'succeeded')::int8,
                   count(*) FILTER (WHERE outcome = 'failed')::int8,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY date_part('epoch', finished_at - started_at)) * 1000,
                   percentile_cont(0.95) WITHIN GROUP (ORDER BY date_part('epoch', finished_at - started_at)) * 1000
            FROM job_attempts
            WHERE finished_at IS NOT NULL AND finished_at > now() - interval '1 hour'
            GROUP BY pipeline
            """,
            logger: logger
        )
        for try await (pipeline, succeeded, failed, p50, p95) in hour.decode((String, Int, Int, Double?, Double?).self) {
            stats[pipeline, default: .init()].succeededLastHour = succeeded
            stats[pipeline, default: .init()].failedLastHour = failed
            stats[pipeline, default: .init()].p50RunMs = p50
            stats[pipeline, default: .init()].p95RunMs = p95
        }
        for (pipeline, _, oldest) in try await queueDepths(on: runner) {
            stats[pipeline, default: .init()].oldestQueuedAt = oldest
        }
        return stats
    }

    /// One org's unfinished and dead jobs by state and its oldest queued job.
    public func jobCounts(in scope: OrgScope, on runner: some QueryRunner) async throws -> (counts: [JobState: Int], oldestQueuedAt: Date?) {
        let orgId = scope.orgId
        var counts: [JobState: Int] = [:]
        let rows = try await runner.run(
            "SELECT state, sum(n)::int8 FROM job_state_counts WHERE org_key = \(orgId.uuidString.lowercased()) GROUP BY state",
            logger: logger
        )
        for try await (state, n) in rows.decode((String, Int).self) {
            if let state = JobState(rawValue: state) { counts[state] = n }
        }
        var oldest: Date?
        let queued = try await runner.run(
            "SELECT min(run_at) FROM jobs WHERE state = 'queued' AND org_id = \(orgId)",
            logger: logger
        )
        for try await value in queued.decode(Date?.self) { oldest = value }
        return (counts, oldest)
    }

    /// Dead jobs grouped by `(pipeline, org, fingerprint)`, most recent group first, with one sample error.
    public func deadLetterGroups(limit: Int, on runner: some QueryRunner) async throws -> [DeadLetterGroup] {
        let rows = try await runner.run(
            """
            WITH g AS (
                SELECT pipeline, COALESCE(org_id, '00000000-0000-0000-0000-000000000000'::uuid) AS org_key,
                       COALESCE(error_fingerprint, '') AS fp_key, count(*)::int8 AS n, min(finished_at) AS first_at, max(finished_at) AS last_at
                FROM jobs WHERE state = 'dead'
                GROUP BY 1, 2, 3
                ORDER BY last_at DESC, 1, 2, 3
                LIMIT \(limit)
            )
            SELECT g.pipeline, NULLIF(g.org_key, '00000000-0000-0000-0000-000000000000'::uuid), NULLIF(g.fp_key, ''), g.n, g.first_at, g.last_at,
                   s.last_error
            FROM g LEFT JOIN LATERAL (
                SELECT last_error FROM jobs j
                WHERE j.state = 'dead' AND j.pipeline = g.pipeline
                  AND COALESCE(j.org_id, '00000000-0000-0000-0000-000000000000'::uuid) = g.org_key
                  AND COALESCE(j.error_fingerprint, '') = g.fp_key
                ORDER BY j.finished_at DESC LIMIT 1
            ) s ON true
            ORDER BY g.last_at DESC, 1, 2, 3
            """,
            logger: logger
        )
        var groups: [DeadLetterGroup] = []
        for try await (pipeline, orgId, fingerprint, n, first, last, sample) in rows.decode((String, UUID?, String?, Int, Date, Date, String?).self) {
            groups.append(
                DeadLetterGroup(
                    pipeline: pipeline,
                    orgId: orgId,
                    errorFingerprint: fingerprint,
                    count: n,
                    firstAt: first,
                    lastAt: last,
                    sampleError: sample
                )
            )
        }
        return groups
    }

    /// Staff: retries the dead jobs matching `filter`. A dry run only counts. A real run moves them all
    /// to `scheduled` with `run_at` spread at `rate` jobs per second (so 50,000 dead jobs do not
    /// stampede the workers; the promoter releases them as they come due), each with a fresh
    /// allowance of its pipeline's `max_attempts`, ids and history kept. Jobs whose unique key an
    /// unfinished job now holds are skipped (counted in `matched`, not in `retried`). Rows are
    /// locked in id order, as the worker's claims lock theirs, so the two never deadlock.
    public func bulkRetry(
        _ filter: BulkRetryFilter,
        dryRun: Bool,
        rate: Int,
        catalog: PipelineCatalog,
        on runner: some QueryRunner
    ) async throws -> (matched: Int, retried: Int, ids: [UUID]) {
        let matchSQL: PostgresQuery = """
            SELECT id FROM jobs
            WHERE state = 'dead'
              AND (\(filter.pipeline)::text IS NULL OR pipeline = \(filter.pipeline))
              AND (\(filter.orgId)::uuid IS NULL OR org_id = \(filter.orgId))
              AND (\(filter.errorFingerprint)::text IS NULL OR error_fingerprint = \(filter.errorFingerprint))
              AND (\(filter.deadSince)::timestamptz IS NULL OR finished_at >= \(filter.deadSince))
            """
        if dryRun {
            var count = 0
            for try await _ in try await runner.run(matchSQL, logger: logger) { count += 1 }
            return (count, 0, [])
        }
        let names = catalog.names
        let allowances = names.map { catalog[$0]!.maxAttempts }
        let perJobMs = 1000.0 / Double(max(rate, 1))
        let rows = try await runner.run(
            """
            WITH matched AS (
                SELECT id, finished_at FROM jobs
                WHERE state = 'dead'
                  AND (\(filter.pipeline)::text IS NULL OR pipeline = \(filter.pipeline))
                  AND (\(filter.orgId)::uuid IS NULL OR org_id = \(filter.orgId))
                  AND (\(filter.errorFingerprint)::text IS NULL OR error_fingerprint = \(filter.errorFingerprint))
                  AND (\(filter.deadSince)::timestamptz IS NULL OR finished_at >= \(filter.deadSince))
                ORDER BY id FOR UPDATE
            ),
            candidates AS (
                SELECT m.id, m.finished_at,
                       row_number() OVER (PARTITION BY j.pipeline, COALESCE(j.unique_key, j.id::text) ORDER BY m.finished_at DESC, m.id) AS per_key
                FROM matched m JOIN jobs j ON j.id = m.id
                WHERE j.unique_key IS NULL OR NOT EXISTS (
                    SELECT 1 FROM jobs o WHERE o.pipeline = j.pipeline AND o.unique_key = j.unique_key AND o.id <> j.id
                      AND o.state IN ('scheduled', 'queued', 'running', 'retrying'))
            ),
            free AS (
                -- Two dead jobs with one unique key: only the newest comes back (the key allows one unfinished job).
                SELECT id, row_number() OVER (ORDER BY finished_at, id) - 1 AS position FROM candidates WHERE per_key = 1
            ),
            retried AS (
                UPDATE jobs SET state = 'scheduled', finished_at = NULL, cancel_requested = false, updated_at = now(),
                       run_at = now() + free.position * \(perJobMs) * interval '1 millisecond',
                       max_attempts = jobs.attempt - jobs.returned_attempts + COALESCE(
                           (SELECT c.m FROM unnest(\(names)::text[], \(allowances)::int8[]) AS c(n, m) WHERE c.n = jobs.pipeline), jobs.max_attempts)
                FROM free WHERE jobs.id = free.id
                RETURNING jobs.id
            )
            SELECT (SELECT count(*) FROM matched)::int8, id FROM retried
            UNION ALL SELECT (SELECT count(*) FROM matched)::int8, NULL WHERE NOT EXISTS (SELECT 1 FROM retried)
            """,
            logger: logger
        )
        var matched = 0
        var ids: [UUID] = []
        for try await (count, id) in rows.decode((Int, UUID?).self) {
            matched = count
            if let id { ids.append(id) }
        }
        return (matched, ids.count, ids)
    }
}
