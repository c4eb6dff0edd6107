-- The operator dashboard (issue 13).

-- `GET /internal/jobs?args=key:value`: jsonb containment (`args @> …`). jsonb_path_ops is smaller and
-- faster than the default opclass and serves exactly @>.
CREATE INDEX jobs_args_idx ON jobs USING gin (args jsonb_path_ops);

-- Dashboard sign-ins. The cookie holds a random token; only its SHA-256 is stored, so a leaked
-- table does not hand out sessions. The CSRF token every changing form carries is per session.
CREATE TABLE dashboard_sessions (
    token_hash text PRIMARY KEY,
    staff_email text NOT NULL,
    csrf_token text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX dashboard_sessions_expires_idx ON dashboard_sessions (expires_at);

-- History: done and failed attempts and a run-time histogram per (hour, pipeline, org), rolled up from
-- job_attempts by the workers' maintenance pass past a watermark, so the 7-day view never scans the ledger.
-- Bucket i of run_buckets counts runs up to 10 ms * sqrt(2)^i (i = 0..47; the last also takes longer runs):
-- a percentile read from it is within a factor of sqrt(2).
CREATE TABLE IF NOT EXISTS job_history_hourly (
    hour timestamptz NOT NULL,
    pipeline text NOT NULL,
    -- '' for platform jobs.
    org_key text NOT NULL,
    done bigint NOT NULL,
    failed bigint NOT NULL,
    run_buckets bigint[] NOT NULL,
    PRIMARY KEY (hour, pipeline, org_key)
);
CREATE INDEX IF NOT EXISTS job_history_hourly_org_idx ON job_history_hourly (org_key, hour);

-- Attempts that finished up to `through` are in job_history_hourly. One row; the pass that holds its lock rolls up.
CREATE TABLE IF NOT EXISTS job_history_watermark (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    through timestamptz NOT NULL
);
INSERT INTO job_history_watermark (through) VALUES (now()) ON CONFLICT DO NOTHING;

CREATE OR REPLACE FUNCTION int8_array_add(a bigint[], b bigint[]) RETURNS bigint[] LANGUAGE sql IMMUTABLE AS $$
    SELECT array_agg(COALESCE(a[i], 0) + COALESCE(b[i], 0) ORDER BY i)
    FROM generate_series(1, greatest(cardinality(a), cardinality(b))) AS i
$$;

CREATE OR REPLACE AGGREGATE int8_array_sum(bigint[]) (SFUNC = int8_array_add, STYPE = bigint[]);

-- A 48-bucket histogram from parallel arrays of bucket numbers and counts.
CREATE OR REPLACE FUNCTION job_history_histogram(buckets int[], counts bigint[]) RETURNS bigint[] LANGUAGE sql IMMUTABLE AS $$
    SELECT array_agg(COALESCE((SELECT sum(u.c) FROM unnest(buckets, counts) AS u(b, c) WHERE u.b = i), 0)::int8 ORDER BY i)
    FROM generate_series(0, 47) AS i
$$;

-- Paused pipelines: workers claim nothing new of these (running jobs finish). Every worker reads the
-- table twice a second, so a pause holds everywhere within a second.
CREATE TABLE IF NOT EXISTS pipeline_pauses (
    pipeline text PRIMARY KEY,
    paused_by text NOT NULL,
    paused_at timestamptz NOT NULL DEFAULT now()
);
