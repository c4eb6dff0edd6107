-- Two indexes fewer on voters (issue 11: an import's cost is index maintenance, 13 entries per new voter).
--
-- The first-name prefix index served `lower(first_name) LIKE 'q%'`, which the full-name prefix search already
-- covers: a first name that starts with q makes `first_name || ' ' || last_name` start with q too.
DROP INDEX IF EXISTS voters_org_first_name_idx;

-- One index for the registration number: unique per org and, with text_pattern_ops (whose equality is the same
-- byte equality), also the prefix search's index. `ON CONFLICT (org_id, external_id)` infers it as before.
ALTER TABLE voters DROP CONSTRAINT IF EXISTS voters_external_id_key;
DROP INDEX IF EXISTS voters_org_external_prefix_idx;
CREATE UNIQUE INDEX IF NOT EXISTS voters_external_id_key ON voters (org_id, external_id text_pattern_ops);
