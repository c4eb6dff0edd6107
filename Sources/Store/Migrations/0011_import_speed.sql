-- Voter imports at volume (issue 11).
--
-- Time-ordered voter ids: a new voter's id is a UUID version 7 (RFC 9562: 48 bits of Unix milliseconds, then random
-- bits), so the id indexes (the primary key, (org_id, id)) and the (org_id, <column>, id) filter indexes take new voters
-- at their right edge instead of at a random page each. With random ids a 1M-row import dirtied a random leaf of each
-- index per row and rewrote those pages whole after every checkpoint. Existing ids stay as they are.
CREATE OR REPLACE FUNCTION uuid_v7() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
    SELECT encode(
        set_bit(set_bit(
            overlay(uuid_send(gen_random_uuid())
                    PLACING substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                    FROM 1 FOR 6),
            52, 1), 53, 1),
        'hex')::uuid
$$;
ALTER TABLE voters ALTER COLUMN id SET DEFAULT uuid_v7();

-- The importer remembers each registration number's first row in the worker (rebuilt from the file on a resume),
-- so the logged key table, one row and one index entry per voter, goes.
DROP TABLE IF EXISTS import_row_keys;
