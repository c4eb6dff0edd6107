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
