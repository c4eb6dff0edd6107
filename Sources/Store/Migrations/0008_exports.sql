-- Exports (issue 12 §3): one row per requested CSV. The export job writes the object, then the counts and
-- finished_at; expires_at moves to finished_at + EXPORT_TTL; the expiry job deletes the object and sets purged_at.
CREATE TABLE exports (
    id uuid NOT NULL,
    org_id uuid NOT NULL REFERENCES organizations (id),
    kind text NOT NULL,
    list_id uuid,
    from_at timestamptz,
    to_at timestamptz,
    job_id uuid REFERENCES jobs (id) ON DELETE SET NULL,
    object_key text NOT NULL,
    file_name text NOT NULL,
    row_count bigint,
    byte_size bigint,
    created_by uuid NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    expires_at timestamptz NOT NULL,
    purged_at timestamptz,
    PRIMARY KEY (id),
    CONSTRAINT exports_org_id_key UNIQUE (org_id, id),
    FOREIGN KEY (org_id, list_id) REFERENCES lists (org_id, id) ON DELETE SET NULL (list_id),
    CONSTRAINT exports_kind_check CHECK (kind IN ('voters', 'list_members', 'interactions'))
);
CREATE INDEX exports_expiry_idx ON exports (expires_at) WHERE purged_at IS NULL;
