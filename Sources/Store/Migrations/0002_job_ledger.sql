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

CREATE TABLE job_attempts (
    job_id uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    attempt integer NOT NULL,
    worker_id text NOT NULL,
    lease_token uuid NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    outcome text,
    error text,
    PRIMARY KEY (job_id, attempt),
    CONSTRAINT job_attempts_outcome_check CHECK (outcome IN ('succeeded', 'failed', 'lost', 'cancelled'))
);

-- Live worker processes, from their heartbeats.
CREATE TABLE workers (
    id text PRIMARY KEY,
    host text NOT NULL,
    pid integer NOT NULL,
    pipelines text[] NOT NULL,
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
