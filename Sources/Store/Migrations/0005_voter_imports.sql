-- Voter-file imports: one row per upload, its progress and checkpoint, and what the loader keeps
-- while it runs (the registration numbers seen so far, the rejected rows).

CREATE TABLE import_jobs (
    id uuid NOT NULL,
    org_id uuid NOT NULL REFERENCES organizations (id),
    kind text NOT NULL DEFAULT 'voters' CHECK (kind = 'voters'),
    created_by uuid NOT NULL REFERENCES users (id),
    format text NOT NULL CHECK (format IN ('louisiana', 'csv')),
    file_name text NOT NULL,
    file_bytes bigint NOT NULL,
    object_key text NOT NULL,
    -- Set by the pipeline; while it is 'queued' or 'running' the orchestrator job's state is what
    -- the API reports (retrying, or failed when the job died without the pipeline saying why).
    status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    job_id uuid,
    cancel_requested boolean NOT NULL DEFAULT false,
    -- Progress, committed with each batch: it is also the checkpoint a retry resumes from
    -- (bytes_read is the file offset of the first row not loaded, next_row that row's number).
    bytes_read bigint NOT NULL DEFAULT 0,
    next_row integer NOT NULL DEFAULT 2,
    rows_read bigint NOT NULL DEFAULT 0,
    inserted bigint NOT NULL DEFAULT 0,
    updated bigint NOT NULL DEFAULT 0,
    unchanged bigint NOT NULL DEFAULT 0,
    rejected bigint NOT NULL DEFAULT 0,
    -- The first 100 rejected rows ({row, column?, message}); error_count counts every one.
    errors jsonb NOT NULL DEFAULT '[]'::jsonb,
    error_count bigint NOT NULL DEFAULT 0,
    failure_reason text,
    -- Unique per org for 24 h: an upload clears an older holder's key before taking it.
    idempotency_key text,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id),
    CONSTRAINT import_jobs_org_id_key UNIQUE (org_id, id)
);
CREATE UNIQUE INDEX import_jobs_idempotency_idx ON import_jobs (org_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX import_jobs_org_page_idx ON import_jobs (org_id, id DESC);

-- The registration numbers an unfinished import has loaded, with the row of each: the later row
-- of a number seen twice in one file is rejected citing the first, across batches and retries,
-- without touching the voter (unchanged voters are not rewritten). Emptied when the import ends.
CREATE TABLE import_row_keys (
    import_id uuid NOT NULL REFERENCES import_jobs (id) ON DELETE CASCADE,
    external_id text NOT NULL,
    row_no integer NOT NULL,
    PRIMARY KEY (import_id, external_id)
);

-- Every rejected row of an unfinished import, committed with its batch; written out as
-- rejected.csv to the object store when the import ends, then emptied.
CREATE TABLE import_rejections (
    seq bigint GENERATED ALWAYS AS IDENTITY,
    import_id uuid NOT NULL REFERENCES import_jobs (id) ON DELETE CASCADE,
    row_no integer NOT NULL,
    column_name text,
    message text NOT NULL,
    raw_text text NOT NULL
);
CREATE INDEX import_rejections_import_idx ON import_rejections (import_id, seq);
