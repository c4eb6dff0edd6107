-- List population from criteria (issue 12 §1): each voter's latest interaction result, kept as interactions
-- arrive, so `excludeTerminal` is one index probe per voter instead of a scan of the voter's interactions.

CREATE TABLE voter_latest_results (
    org_id uuid NOT NULL,
    voter_id uuid NOT NULL,
    interaction_id uuid NOT NULL,
    result text NOT NULL,
    occurred_at timestamptz NOT NULL,
    -- The contract's terminal results, written once here so no query spells them again.
    terminal boolean GENERATED ALWAYS AS (
        result IN ('moved', 'deceased', 'vacant', 'hostile', 'wrong_address', 'do_not_contact')) STORED,
    PRIMARY KEY (org_id, voter_id),
    FOREIGN KEY (org_id, voter_id) REFERENCES voters (org_id, id) ON DELETE CASCADE
);
-- The voters excludeTerminal drops: usually a small share of an org's voters.
CREATE INDEX voter_latest_results_terminal_idx ON voter_latest_results (org_id, voter_id) WHERE terminal;

-- Latest is the greatest (occurred_at, id), the order the walk's lastResult reads. A phone that syncs an older
-- interaction late must not replace a newer one, hence the WHERE on the update. A statement-level trigger with
-- a transition table: one set-based upsert per INSERT statement, whatever path inserted (API, seed, benchmark).
CREATE FUNCTION interactions_keep_latest_result() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO voter_latest_results AS r (org_id, voter_id, interaction_id, result, occurred_at)
    SELECT DISTINCT ON (n.org_id, n.voter_id) n.org_id, n.voter_id, n.id, n.result, n.occurred_at
    FROM new_interactions n
    ORDER BY n.org_id, n.voter_id, n.occurred_at DESC, n.id DESC
    ON CONFLICT (org_id, voter_id) DO UPDATE
        SET interaction_id = EXCLUDED.interaction_id, result = EXCLUDED.result, occurred_at = EXCLUDED.occurred_at
        WHERE (EXCLUDED.occurred_at, EXCLUDED.interaction_id) > (r.occurred_at, r.interaction_id);
    RETURN NULL;
END
$$;

CREATE TRIGGER interactions_latest_result AFTER INSERT ON interactions
    REFERENCING NEW TABLE AS new_interactions
    FOR EACH STATEMENT EXECUTE FUNCTION interactions_keep_latest_result();

-- Interactions are never updated or deleted by the application; the trigger covers every way they arrive.
INSERT INTO voter_latest_results (org_id, voter_id, interaction_id, result, occurred_at)
SELECT DISTINCT ON (org_id, voter_id) org_id, voter_id, id, result, occurred_at
FROM interactions
ORDER BY org_id, voter_id, occurred_at DESC, id DESC;
