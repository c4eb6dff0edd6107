import Foundation
import PostgresNIO

/// The worker's two hottest statements, the claim and the batched success, as named prepared
/// statements: each connection parses and plans them once, then only binds and executes them.
/// As unnamed statements they were planned at every call, 8–10 % of their time in Postgres
/// (`docs/benchmarks.md`). Their plans do not depend on the values: the input arrays are unnested
/// and every job is reached through the primary key.
extension JobLedger {
    /// `claim`: each `queued` job of the input becomes `running` under its lease token.
    struct ClaimStatement: PostgresPreparedStatement {
        static let name = "fieldwork_claim_v1"
        static let sql = """
            WITH input AS (SELECT * FROM unnest($1::uuid[], $2::uuid[]) AS t(id, token)),
            locked AS (
                SELECT jobs.id FROM jobs WHERE jobs.id IN (SELECT id FROM input) AND jobs.state = 'queued'
                ORDER BY jobs.id FOR NO KEY UPDATE
            )
            UPDATE jobs SET state = 'running', attempt = jobs.attempt + 1, lease_owner = $3::text, lease_token = input.token,
                   lease_expires_at = now() + $4::int8 * interval '1 millisecond',
                   started_at = COALESCE(jobs.started_at, now()), attempt_started_at = now(), cancel_requested = false, updated_at = now()
            FROM input, locked WHERE jobs.id = input.id AND jobs.id = locked.id
            RETURNING jobs.id, jobs.org_id, jobs.pipeline, jobs.args::text, jobs.attempt, jobs.returned_attempts,
                      jobs.max_attempts, jobs.priority, jobs.request_id, jobs.lease_token
            """
        typealias Row = PostgresRow

        let ids: [UUID]
        let tokens: [UUID]
        let worker: String
        let leaseMs: Int64

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 4)
            bindings.append(ids)
            bindings.append(tokens)
            bindings.append(worker)
            bindings.append(leaseMs)
            return bindings
        }
    }

    /// `succeed`: each running job whose lease token still matches becomes `succeeded`, and its
    /// attempt's row is written.
    struct SucceedStatement: PostgresPreparedStatement {
        static let name = "fieldwork_succeed_v1"
        static let sql = """
            WITH input AS (SELECT * FROM unnest($1::uuid[], $2::uuid[]) AS t(id, token)),
            held AS (
                SELECT jobs.id, jobs.lease_owner, jobs.lease_token, jobs.attempt_started_at
                FROM jobs JOIN input ON jobs.id = input.id AND jobs.lease_token = input.token
                WHERE jobs.state = 'running'
                ORDER BY jobs.id FOR NO KEY UPDATE OF jobs
            ),
            j AS (
                UPDATE jobs SET state = 'succeeded', finished_at = now(), updated_at = now(),
                       lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, attempt_started_at = NULL, cancel_requested = false
                FROM held WHERE jobs.id = held.id
                RETURNING jobs.id, jobs.org_id, jobs.attempt, jobs.pipeline, held.lease_owner AS worker_id, held.lease_token AS attempt_token,
                          held.attempt_started_at, 'succeeded' AS outcome, NULL::text AS error
            ),
            a AS (\(JobLedger.attemptRowSQL))
            SELECT id FROM j
            """
        typealias Row = PostgresRow

        let ids: [UUID]
        let tokens: [UUID]

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 2)
            bindings.append(ids)
            bindings.append(tokens)
            return bindings
        }
    }
}
