-- The field summary's distinct voters from rollups (issue 12 §2, p99 < 50 ms over 5,000,000 interactions):
-- distinct counts do not add across days, sets do. Each attempted voter gets a dense per-org ordinal; each rolled day
-- keeps the set of its voters as a bit string indexed by ordinal, so a range's distinct voters are the popcount of
-- the OR of its days, and a list's attempted members the popcount of (list AND range). See docs/decisions.md,
-- "Field rollups".

-- Ordinals 0, 1, 2 … in the order the rollups first saw each voter's interactions. Only attempted voters have one.
CREATE TABLE field_voter_ordinals (
    org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    voter_id uuid NOT NULL,
    ordinal integer NOT NULL,
    PRIMARY KEY (org_id, voter_id),
    -- The next ordinal is max + 1 (a backward scan of this index).
    CONSTRAINT field_voter_ordinals_ordinal_key UNIQUE (org_id, ordinal)
);

-- Every bit string of an org (its days, its lists, its union) has the same length, `capacity` (a power of two, at
-- least the number of ordinals): AND and OR need equal lengths, and a summary never pads.
ALTER TABLE field_rollup_state
    ADD COLUMN capacity integer NOT NULL DEFAULT 0,
    -- The OR of every rolled day: the voters attempted on or before rolled_through.
    ADD COLUMN attempted varbit;

-- The voters with a rolled interaction that day (bit n = ordinal n).
CREATE TABLE field_rollup_voters (
    org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    day date NOT NULL,
    voters varbit NOT NULL,
    PRIMARY KEY (org_id, day)
);
-- Dense bit strings do not compress: keep them uncompressed, out of line.
ALTER TABLE field_rollup_voters ALTER COLUMN voters SET STORAGE EXTERNAL;

-- A list's members that have an ordinal, as of its `members_version`; the summary uses it only while the list's
-- version still matches, and counts a changed list from its rows.
ALTER TABLE lists ADD COLUMN members_version bigint NOT NULL DEFAULT 0;
CREATE TABLE field_rollup_lists (
    list_id uuid PRIMARY KEY REFERENCES lists (id) ON DELETE CASCADE,
    org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    members_version bigint NOT NULL,
    members varbit NOT NULL
);
ALTER TABLE field_rollup_lists ALTER COLUMN members SET STORAGE EXTERNAL;
CREATE INDEX field_rollup_lists_org_idx ON field_rollup_lists (org_id);

-- Any change of a list's members (population, the members routes, a voter's deletion, plain SQL) moves its version:
-- one set-based update per statement.
CREATE FUNCTION list_members_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE lists SET members_version = members_version + 1 WHERE id IN (SELECT DISTINCT list_id FROM changed_members);
    RETURN NULL;
END
$$;
CREATE TRIGGER list_members_version_insert AFTER INSERT ON list_members
    REFERENCING NEW TABLE AS changed_members FOR EACH STATEMENT EXECUTE FUNCTION list_members_bump_version();
CREATE TRIGGER list_members_version_delete AFTER DELETE ON list_members
    REFERENCING OLD TABLE AS changed_members FOR EACH STATEMENT EXECUTE FUNCTION list_members_bump_version();

-- A bit string of `n` bits with the given ordinals set, from the bytes the rollup builds (8 bits per byte, the
-- first bit is ordinal 0).
CREATE FUNCTION field_bits(bytes bytea, n integer) RETURNS varbit LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT substring(('x' || encode(bytes, 'hex'))::varbit FROM 1 FOR n)
$$;

-- `bits` lengthened to `n` bits with zeros (when an org's capacity grows).
CREATE FUNCTION field_bits_pad(bits varbit, n integer) RETURNS varbit LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN length(bits) >= n THEN bits ELSE bits || repeat('0', n - length(bits))::varbit END
$$;

-- Whether `ordinal` is set in `bits` (false for a voter without an ordinal, or no set).
CREATE FUNCTION field_bits_has(bits varbit, ordinal integer) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(CASE WHEN ordinal < length(bits) THEN get_bit(bits, ordinal) = 1 END, false)
$$;

-- Existing rollups have no voter sets: the next run of each org recomputes every day.
DELETE FROM field_rollup_state;
