-- Organizations, users, memberships, refresh tokens, the audit log.
-- Every tenant table carries org_id NOT NULL; references between tenant rows use (org_id, id).

CREATE TABLE organizations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    timezone text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX organizations_created ON organizations (created_at DESC, id DESC);

CREATE TABLE users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email text NOT NULL CHECK (email = lower(email)),
    name text NOT NULL,
    password_hash text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE memberships (
    org_id uuid NOT NULL REFERENCES organizations (id),
    user_id uuid NOT NULL REFERENCES users (id),
    role text NOT NULL CHECK (role IN ('admin', 'organizer', 'canvasser')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);
CREATE INDEX memberships_org_created ON memberships (org_id, created_at, user_id);

-- Refresh tokens are stored as SHA-256 hashes. A family is one login's chain of rotations:
-- presenting a token that was already rotated (used_at set) revokes the whole family.
CREATE TABLE refresh_tokens (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id uuid NOT NULL REFERENCES organizations (id),
    user_id uuid NOT NULL REFERENCES users (id),
    family_id uuid NOT NULL,
    token_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id) WHERE revoked_at IS NULL;
CREATE INDEX refresh_tokens_member ON refresh_tokens (org_id, user_id) WHERE revoked_at IS NULL;

-- The audit log. org_id is null only for platform entries that belong to no tenant
-- (a failed login for an unknown email, a staff sign-in); tenant entries always carry it.
CREATE TABLE audit_logs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id uuid REFERENCES organizations (id),
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_id text,
    actor_kind text NOT NULL CHECK (actor_kind IN ('user', 'staff', 'system')),
    action text NOT NULL,
    entity_type text NOT NULL,
    entity_id text,
    request_id text,
    changes jsonb
);
CREATE INDEX audit_logs_org_at ON audit_logs (org_id, at DESC, id DESC);
CREATE INDEX audit_logs_org_action ON audit_logs (org_id, action, at DESC, id DESC);
CREATE INDEX audit_logs_org_entity ON audit_logs (org_id, entity_type, entity_id, at DESC, id DESC);
CREATE INDEX audit_logs_org_actor ON audit_logs (org_id, actor_id, at DESC, id DESC);

CREATE FUNCTION audit_logs_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_logs is append-only: % refused', TG_OP;
END
$$;
CREATE TRIGGER audit_logs_no_change BEFORE UPDATE OR DELETE ON audit_logs
    FOR EACH ROW EXECUTE FUNCTION audit_logs_append_only();
CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON audit_logs
    FOR EACH STATEMENT EXECUTE FUNCTION audit_logs_append_only();
