-- Cheaper interaction inserts (issue 14, the bulk route is Postgres-bound).
--
-- Time-ordered ids (as voters, 0011): the primary key and (org_id, id) take new interactions at their right edge.
ALTER TABLE interactions ALTER COLUMN id SET DEFAULT uuid_v7();

-- One index for time order instead of two: (org_id, occurred_at DESC, id DESC) for newest-first pages and
-- (org_id, occurred_at) INCLUDE (voter_id) for the summary's distinct voters become one (org_id, occurred_at, id)
-- INCLUDE (voter_id), which a backward scan reads newest first.
CREATE INDEX IF NOT EXISTS interactions_org_occurred_id_idx ON interactions (org_id, occurred_at, id) INCLUDE (voter_id);
DROP INDEX IF EXISTS interactions_org_occurred_idx;
DROP INDEX IF EXISTS interactions_org_occurred_voter_idx;
