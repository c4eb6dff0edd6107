-- The job ledger: Postgres is the truth, Redis only the transport (docs/orchestrator.md).

CREATE TABLE jobs (
    id uuid PRIMARY KEY,
    org_id uuid REFERENCES organizations (id) ON DELETE CASCADE,
    pipeline text NOT NULL,
    args jsonb NOT NULL DEFAULT '{}'::jsonb,
    state text NOT NULL,
    priority integer NOT NULL DEFAULT 0,
    -- Attempts started so far (numbering of job_attempts rows).
    attempt integer NOT NULL DEFAULT 0,
    -- Attempts whose lease was handed back at a graceful shutdown: they do not count against max_attempts.
    returned_attempts integer NOT NULL DEFAULT 0,
    max_attempts integer NOT NULL,
    run_at timestamptz NOT NULL DEFAULT now(),
    unique_key text,
    lease_owner text,
    lease_token uuid,
    lease_expires_at timestamptz,
    cancel_requested boolean NOT NULL DEFAULT false,
    progress jsonb,
    last_error text,
    error_fingerprint text,
    request_id text,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT jobs_state_check CHECK (state IN ('scheduled', 'queued', 'running', 'retrying', 'succeeded', 'dead', 'discarded', 'cancelled')),
    CONSTRAINT jobs_max_attempts_check CHECK (max_attempts >= 1),
    CONSTRAINT jobs_lease_check CHECK ((state = 'running') = (lease_token IS NOT NULL))
);

-- One unfinished job per (pipeline, unique_key): enqueueing the same key twice returns the first.
CREATE UNIQUE INDEX jobs_unique_key_unfinished ON jobs (pipeline, unique_key)
    WHERE unique_key IS NOT NULL AND state IN ('scheduled', 'queued', 'running', 'retrying');
-- Promotion of delayed and retrying jobs.
CREATE INDEX jobs_due_idx ON jobs (run_at) WHERE state IN ('scheduled', 'retrying');
-- The reconciler's walk and the queue depth per pipeline.
CREATE INDEX jobs_queued_idx ON jobs (id) WHERE state = 'queued';
CREATE INDEX jobs_queued_pipeline_idx ON jobs (pipeline, run_at) WHERE state = 'queued';
-- The lease sweeper.
CREATE INDEX jobs_running_lease_idx ON jobs (lease_expires_at) WHERE state = 'running';
-- Listings, newest first.
CREATE INDEX jobs_state_created_idx ON jobs (state, created_at DESC, id DESC);
CREATE INDEX jobs_org_created_idx ON jobs (org_id, created_at DESC, id DESC);
CREATE INDEX jobs_pipeline_created_idx ON jobs (pipeline, created_at DESC, id DESC);
CREATE INDEX jobs_fingerprint_created_idx ON jobs (error_fingerprint, created_at DESC, id DESC) WHERE error_fingerprint IS NOT NULL;
-- Dead-letter groups.
-- (org and fingerprint coalesced so a group's newest job is one equality probe away)
CREATE INDEX jobs_dead_groups_idx ON jobs (
    pipeline, (COALESCE(org_id, '00000000-0000-0000-0000-000000000000'::uuid)), (COALESCE(error_fingerprint, '')), finished_at
) WHERE state = 'dead';

-- Jobs by (pipeline, org, state), kept by statement-level triggers (one aggregated upsert per
-- statement, rows locked in key order), so status pages never count the whole ledger.
CREATE TABLE job_state_counts (
    pipeline text NOT NULL,
    org_key text NOT NULL,
    state text NOT NULL,
    n bigint NOT NULL,
    PRIMARY KEY (pipeline, org_key, state)
);

CREATE FUNCTION job_state_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO job_state_counts (pipeline, org_key, state, n)
        SELECT pipeline, COALESCE(org_id::text, ''), state, count(*) FROM new_rows GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (pipeline, org_key, state) DO UPDATE SET n = job_state_counts.n + EXCLUDED.n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO job_state_counts (pipeline, org_key, state, n)
        SELECT pipeline, COALESCE(org_id::text, ''), state, -count(*) FROM old_rows GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (pipeline, org_key, state) DO UPDATE SET n = job_state_counts.n + EXCLUDED.n;
    ELSE
        INSERT INTO job_state_counts (pipeline, org_key, state, n)
        SELECT pipeline, org_key, state, sum(d) FROM (
            SELECT pipeline, COALESCE(org_id::text, '') AS org_key, state, 1 AS d FROM new_rows
            UNION ALL
            SELECT pipeline, COALESCE(org_id::text, ''), state, -1 FROM old_rows
        ) changes GROUP BY 1, 2, 3 HAVING sum(d) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (pipeline, org_key, state) DO UPDATE SET n = job_state_counts.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER jobs_counts_insert AFTER INSERT ON jobs REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION job_state_counts_apply();
CREATE TRIGGER jobs_counts_update AFTER UPDATE ON jobs REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION job_state_counts_apply();
CREATE TRIGGER jobs_counts_delete AFTER DELETE ON jobs REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION job_state_counts_apply();

CREATE TABLE job_attempts (
    job_id uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    attempt integer NOT NULL,
    pipeline text NOT NULL,
    worker_id text NOT NULL,
    lease_token uuid NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    outcome text,
    error text,
    PRIMARY KEY (job_id, attempt),
    CONSTRAINT job_attempts_outcome_check CHECK (outcome IN ('succeeded', 'failed', 'lost', 'cancelled'))
);
-- Done and failed in the last hour, run-time percentiles.
CREATE INDEX job_attempts_finished_idx ON job_attempts (finished_at) INCLUDE (pipeline, started_at, outcome) WHERE finished_at IS NOT NULL;

-- Live worker processes, from their heartbeats.
CREATE TABLE workers (
    id text PRIMARY KEY,
    host text NOT NULL,
    pid integer NOT NULL,
    pipelines text[] NOT NULL,
    -- The shortest lease the worker holds: it is gone from the list after two of these without a heartbeat.
    lease_ms integer NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    last_heartbeat_at timestamptz NOT NULL DEFAULT now(),
    running integer NOT NULL DEFAULT 0
);

-- One row per schedule firing: (schedule, period, org) fires once, whatever the number of schedulers.
CREATE TABLE schedule_runs (
    schedule text NOT NULL,
    period timestamptz NOT NULL,
    -- The org id for per-org schedules, '' for platform ones.
    org_key text NOT NULL,
    job_id uuid REFERENCES jobs (id) ON DELETE SET NULL,
    fired_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (schedule, period, org_key)
);

-- Side effects of the diagnostic `sleep` pipeline when asked to record them (tests, benchmarks):
-- one row per attempt that completed its effect while holding its lease.
CREATE TABLE diagnostic_effects (
    job_id uuid NOT NULL,
    attempt integer NOT NULL,
    org_id uuid,
    worker_id text NOT NULL,
    started_at timestamptz NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (job_id, attempt)
);
