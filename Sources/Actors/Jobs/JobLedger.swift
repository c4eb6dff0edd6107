import Foundation
import Logging
import PostgresNIO
import Store

/// The job ledger in Postgres: every state change of a job is one statement here. Functions
/// that belong in a caller's transaction take a `QueryRunner` (a client or an open connection).
public struct JobLedger: Sendable {
    public let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    static let unfinishedSQL = "('scheduled', 'queued', 'running', 'retrying')"

    /// Writes the row of each attempt that ended in the statement's `j` (columns id, attempt, pipeline,
    /// worker_id, attempt_token, attempt_started_at, outcome, error): one insert per attempt. A row left by an
    /// attempt that started before migration 0010 (rows were inserted at the claim then) is completed instead.
    static let attemptRowSQL = """
        INSERT INTO job_attempts (job_id, attempt, pipeline, org_id, worker_id, lease_token, started_at, finished_at, outcome, error)
        SELECT j.id, j.attempt, j.pipeline, j.org_id, COALESCE(j.worker_id, ''), j.attempt_token, COALESCE(j.attempt_started_at, now()), now(),
               j.outcome, j.error
        FROM j WHERE j.attempt_token IS NOT NULL
        ON CONFLICT (job_id, attempt) DO UPDATE SET finished_at = EXCLUDED.finished_at, outcome = EXCLUDED.outcome, error = EXCLUDED.error
        """
    static let jobColumns = "id, org_id, pipeline, state, priority, run_at"

    static func decodeEnqueued(_ row: PostgresRow, inserted: Bool = true) throws -> EnqueuedJob {
        let (id, orgId, pipeline, state, priority, runAt) = try row.decode((UUID, UUID?, String, String, Int, Date).self)
        guard let jobState = JobState(rawValue: state) else { throw StoreError.unexpected("job state \(state)") }
        return EnqueuedJob(id: id, orgId: orgId, pipeline: pipeline, state: jobState, priority: priority, runAt: runAt, inserted: inserted)
    }

    // MARK: Enqueue

    /// Inserts `specs` in one statement on `runner` (pass the connection of an open transaction
    /// so that the jobs commit or roll back with the caller's rows). A spec whose `uniqueKey`
    /// matches an unfinished job of its pipeline yields that job (`inserted == false`).
    /// Results are in the order of `specs`.
    public func enqueue(_ specs: [JobSpec], catalog: PipelineCatalog, on runner: some QueryRunner) async throws -> [EnqueuedJob] {
        guard !specs.isEmpty else { return [] }
        var results = [EnqueuedJob?](repeating: nil, count: specs.count)
        var pending = Array(specs.indices)
        for _ in 0..<5 where !pending.isEmpty {
            var ids: [UUID] = []
            var orgs: [String] = []
            var pipelines: [String] = []
            var args: [String] = []
            var priorities: [Int] = []
            var maxAttempts: [Int] = []
            var runAts: [Double] = []
            var keys: [String] = []
            var requests: [String] = []
            var indexById: [UUID: Int] = [:]
            for index in pending {
                let spec = specs[index]
                guard let config = catalog[spec.pipeline] else { throw JobSpecError.unknownPipeline(spec.pipeline) }
                let id = UUID.timeOrdered()
                indexById[id] = index
                ids.append(id)
                orgs.append(spec.orgId?.uuidString ?? "")
                pipelines.append(spec.pipeline)
                args.append(spec.argsJSON)
                priorities.append(min(100, max(-100, spec.priority ?? config.priority)))
                maxAttempts.append(spec.maxAttempts ?? config.maxAttempts)
                runAts.append(spec.runAt?.timeIntervalSince1970 ?? 0)
                keys.append(spec.uniqueKey ?? "")
                requests.append(spec.requestId ?? "")
            }
            let rows = try await runner.run(
                """
                INSERT INTO jobs (id, org_id, pipeline, args, state, priority, max_attempts, run_at, unique_key, request_id)
                SELECT t.id, NULLIF(t.org, '')::uuid, t.pipeline, t.args::jsonb,
                       CASE WHEN t.run_at > 0 AND to_timestamp(t.run_at) > now() THEN 'scheduled' ELSE 'queued' END,
                       t.priority, t.max_attempts,
                       CASE WHEN t.run_at > 0 AND to_timestamp(t.run_at) > now() THEN to_timestamp(t.run_at) ELSE now() END,
                       NULLIF(t.unique_key, ''), NULLIF(t.request_id, '')
                FROM unnest(\(ids)::uuid[], \(orgs)::text[], \(pipelines)::text[], \(args)::text[], \(priorities)::int8[],
                            \(maxAttempts)::int8[], \(runAts)::float8[], \(keys)::text[], \(requests)::text[])
                     WITH ORDINALITY AS t(id, org, pipeline, args, priority, max_attempts, run_at, unique_key, request_id, ord)
                ORDER BY t.ord
                ON CONFLICT (pipeline, unique_key) WHERE unique_key IS NOT NULL AND state IN \(unescaped: Self.unfinishedSQL) DO NOTHING
                RETURNING \(unescaped: Self.jobColumns)
                """,
                logger: logger
            )
            for try await row in rows {
                let job = try Self.decodeEnqueued(row)
                if let index = indexById[job.id] { results[index] = job }
            }
            pending = pending.filter { results[$0] == nil }
            guard !pending.isEmpty else { break }
            // Each remaining spec lost to an unfinished job with its unique key: return that job.
            let wanted = pending.map { (specs[$0].pipeline, specs[$0].uniqueKey ?? "") }
            let existing = try await runner.run(
                """
                SELECT \(unescaped: Self.jobColumns), unique_key FROM jobs
                WHERE (pipeline, unique_key) IN (SELECT * FROM unnest(\(wanted.map(\.0))::text[], \(wanted.map(\.1))::text[]))
                  AND state IN \(unescaped: Self.unfinishedSQL)
                """,
                logger: logger
            )
            var byKey: [String: EnqueuedJob] = [:]
            for try await row in existing {
                let job = try Self.decodeEnqueued(row, inserted: false)
                let key = try row.decode((UUID, UUID?, String, String, Int, Date, String).self).6
                byKey["\(job.pipeline)\u{0}\(key)"] = job
            }
            for index in pending {
                results[index] = byKey["\(specs[index].pipeline)\u{0}\(specs[index].uniqueKey ?? "")"]
            }
            // A job that finished between the two statements frees its key: insert again.
            pending = pending.filter { results[$0] == nil }
        }
        guard pending.isEmpty else { throw StoreError.unexpected("unique-key enqueue did not settle after 5 rounds") }
        return results.map { $0! }
    }

    /// Inserts `count` identical queued jobs of `payload` per org of `scopes` (nil: a platform job)
    /// in one set-based statement: the bulk path of diagnostics and benchmarks, with no unique key.
    public func enqueueCopies(
        _ payload: JobPayload,
        pipeline config: PipelineConfig,
        scopes: [OrgScope?],
        count: Int,
        requestId: String?,
        on runner: some QueryRunner
    ) async throws -> [EnqueuedJob] {
        guard count > 0, !scopes.isEmpty else { return [] }
        if payload.needsOrg && scopes.contains(nil) { throw JobSpecError.needsOrg(payload.pipeline) }
        let orgIds = scopes.map { $0?.orgId }
        var ids: [UUID] = []
        var orgs: [String] = []
        ids.reserveCapacity(count * orgIds.count)
        orgs.reserveCapacity(count * orgIds.count)
        for org in orgIds {
            let text = org?.uuidString ?? ""
            for _ in 0..<count {
                ids.append(.timeOrdered())
                orgs.append(text)
            }
        }
        let rows = try await runner.run(
            """
            WITH inserted AS (
                INSERT INTO jobs (id, org_id, pipeline, args, state, priority, max_attempts, run_at, request_id)
                SELECT t.id, NULLIF(t.org, '')::uuid, \(config.name), \(payload.argsJSON)::jsonb, 'queued', \(config.priority),
                       \(config.maxAttempts), now(), \(requestId)
                FROM unnest(\(ids)::uuid[], \(orgs)::text[]) AS t(id, org)
                RETURNING 1
            )
            SELECT count(*), now() FROM inserted
            """,
            logger: logger
        )
        var runAt = Date()
        for try await row in rows {
            let (inserted, at) = try row.decode((Int, Date).self)
            guard inserted == ids.count else { throw StoreError.unexpected("inserted \(inserted) of \(ids.count) jobs") }
            runAt = at
        }
        var jobs: [EnqueuedJob] = []
        jobs.reserveCapacity(ids.count)
        for (id, org) in zip(ids, orgIds.flatMap { Array(repeating: $0, count: count) }) {
            jobs.append(
                EnqueuedJob(id: id, orgId: org, pipeline: config.name, state: .queued, priority: config.priority, runAt: runAt, inserted: true)
            )
        }
        return jobs
    }

    // MARK: Worker side

    /// Claims jobs a worker popped from the transport: each `queued` one becomes `running` with
    /// the given lease token, its attempt counted and started (the attempt's row is written when it
    /// ends, see `attemptRowSQL`). Ids no longer queued are skipped. Rows are
    /// locked in id order, like every multi-row write of the ledger, so two statements over
    /// overlapping jobs (another worker's claim of an id Redis handed out twice, a staff bulk
    /// action) queue behind each other instead of deadlocking.
    public func claim(_ ids: [(UUID, UUID)], worker: String, lease: Duration, on runner: some QueryRunner) async throws -> [ClaimedJob] {
        guard !ids.isEmpty else { return [] }
        let statement = ClaimStatement(
            ids: ids.map(\.0), tokens: ids.map(\.1), worker: worker, leaseMs: Int64(lease.milliseconds))
        let rows = try await runner.run(statement, logger: logger)
        var claimed: [ClaimedJob] = []
        for try await row in rows {
            let (id, orgId, pipeline, args, attempt, returned, maxAttempts, priority, requestId, token) = try row.decode(
                (UUID, UUID?, String, String, Int, Int, Int, Int, String?, UUID).self
            )
            claimed.append(
                ClaimedJob(
                    id: id,
                    orgId: orgId,
                    pipeline: pipeline,
                    argsJSON: args,
                    attempt: attempt,
                    returnedAttempts: returned,
                    maxAttempts: maxAttempts,
                    priority: priority,
                    requestId: requestId,
                    leaseToken: token
                )
            )
        }
        return claimed
    }

    /// Extends the leases this worker still holds. Returns, for each job whose token still
    /// matches, whether staff asked for it to be cancelled; a job missing from the answer has lost its lease.
    /// Rows are locked in id order (`FOR NO KEY UPDATE`): a pipeline's open `fenced` transaction,
    /// which holds its job row `FOR KEY SHARE`, does not hold the heartbeat up.
    public func heartbeat(_ leases: [(id: UUID, token: UUID, lease: Duration)], on runner: some QueryRunner) async throws -> [UUID: Bool] {
        guard !leases.isEmpty else { return [:] }
        let rows = try await runner.run(
            """
            WITH input AS (
                SELECT * FROM unnest(\(leases.map(\.id))::uuid[], \(leases.map(\.token))::uuid[],
                                     \(leases.map { Int($0.lease.milliseconds) })::int8[]) AS t(id, token, ms)
            ),
            locked AS (
                SELECT jobs.id FROM jobs JOIN input ON jobs.id = input.id AND jobs.lease_token = input.token
                WHERE jobs.state = 'running'
                ORDER BY jobs.id FOR NO KEY UPDATE OF jobs
            )
            UPDATE jobs SET lease_expires_at = now() + input.ms * interval '1 millisecond', updated_at = now()
            FROM input, locked
            WHERE jobs.id = input.id AND jobs.id = locked.id
            RETURNING jobs.id, jobs.cancel_requested
            """,
            logger: logger
        )
        var alive: [UUID: Bool] = [:]
        for try await (id, cancel) in rows.decode((UUID, Bool).self) { alive[id] = cancel }
        return alive
    }

    /// Records progress (any JSON object) while the lease is held; false if it is not.
    public func progress(jobId: UUID, token: UUID, json: String, on runner: some QueryRunner) async throws -> Bool {
        let rows = try await runner.run(
            "UPDATE jobs SET progress = \(json)::jsonb, updated_at = now() WHERE id = \(jobId) AND lease_token = \(token) AND state = 'running' RETURNING id",
            logger: logger
        )
        for try await _ in rows { return true }
        return false
    }

    /// Locks the job row if `token` still holds its lease (inside a transaction): a fenced write.
    /// `FOR KEY SHARE` keeps the sweeper (`FOR UPDATE SKIP LOCKED`) from taking the lease away
    /// until the transaction ends, and lets heartbeats, progress and cancel requests (`FOR NO KEY
    /// UPDATE`) through, so a transaction longer than the lease does not let the lease expire.
    public func lockLease(jobId: UUID, token: UUID, on connection: PostgresConnection) async throws -> Bool {
        let rows = try await connection.run(
            """
            SELECT 1 FROM jobs WHERE id = \(jobId) AND lease_token = \(token) AND state = 'running' AND lease_expires_at > now()
            FOR KEY SHARE
            """,
            logger: logger
        )
        for try await _ in rows { return true }
        return false
    }

    /// How an attempt ends.
    public enum Ending: Sendable {
        case succeeded
        /// `delay` nil: dead (attempts spent or not retryable); otherwise retry after `delay`.
        case failed(error: String, fingerprint: String, retryAfter: Duration?)
        case cancelled
        /// Graceful shutdown hands the lease back: queued again at once, the attempt does not count.
        case returned
    }

    /// Ends the attempt holding `token`. Returns the job's new state, or nil when the token no
    /// longer holds the lease (a stale worker): nothing is changed then.
    public func finish(_ job: ClaimedJob, _ ending: Ending, on runner: some QueryRunner) async throws -> EnqueuedJob? {
        let state: JobState
        let outcome: AttemptOutcome
        var error: String?
        var fingerprint: String?
        var delayMs: Int64 = 0
        var returned = 0
        switch ending {
        case .succeeded: (state, outcome) = (.succeeded, .succeeded)
        case .failed(let message, let print, let retryAfter):
            (state, outcome, error, fingerprint) = (retryAfter == nil ? .dead : .retrying, .failed, message, print)
            delayMs = retryAfter?.milliseconds ?? 0
        case .cancelled: (state, outcome, error) = (.cancelled, .cancelled, "cancelled on request")
        case .returned: (state, outcome, error, returned) = (.queued, .lost, "lease returned at worker shutdown", 1)
        }
        let rows = try await runner.run(
            """
            WITH held AS (
                SELECT id, lease_owner, lease_token, attempt_started_at FROM jobs
                WHERE id = \(job.id) AND lease_token = \(job.leaseToken) AND state = 'running' FOR NO KEY UPDATE
            ),
            j AS (
                UPDATE jobs SET state = CASE WHEN cancel_requested AND \(state.rawValue) IN ('retrying', 'queued') THEN 'cancelled' ELSE \(state.rawValue) END,
                       finished_at = CASE WHEN \(state.isFinished) OR (cancel_requested AND \(state.rawValue) IN ('retrying', 'queued'))
                                          THEN now() ELSE NULL END,
                       run_at = CASE WHEN \(state.rawValue) IN ('retrying', 'queued') THEN now() + \(delayMs) * interval '1 millisecond' ELSE run_at END,
                       last_error = COALESCE(\(error)::text, last_error), error_fingerprint = COALESCE(\(fingerprint)::text, error_fingerprint),
                       returned_attempts = returned_attempts + \(returned),
                       lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, attempt_started_at = NULL,
                       cancel_requested = false, updated_at = now()
                FROM held WHERE jobs.id = held.id
                RETURNING jobs.id, jobs.org_id, jobs.pipeline, jobs.state, jobs.priority, jobs.run_at, jobs.attempt,
                          held.lease_owner AS worker_id, held.lease_token AS attempt_token, held.attempt_started_at,
                          CASE WHEN jobs.state = 'cancelled' THEN 'cancelled' ELSE \(outcome.rawValue) END AS outcome, \(error)::text AS error
            ),
            a AS (\(unescaped: Self.attemptRowSQL))
            SELECT \(unescaped: Self.jobColumns) FROM j
            """,
            logger: logger
        )
        for try await row in rows { return try Self.decodeEnqueued(row) }
        return nil
    }

    /// Marks many running jobs succeeded in one statement, each fenced by its lease token;
    /// returns the ids that were still held (the others belonged to stale attempts).
    public func succeed(_ leases: [(UUID, UUID)], on runner: some QueryRunner) async throws -> Set<UUID> {
        guard !leases.isEmpty else { return [] }
        let rows = try await runner.run(SucceedStatement(ids: leases.map(\.0), tokens: leases.map(\.1)), logger: logger)
        var done: Set<UUID> = []
        for try await id in rows.decode(UUID.self) { done.insert(id) }
        return done
    }
}
