-- Nightly field rollups: per org and per day in the org's time zone (see docs/decisions.md,
-- "Field rollups"). A rollup covers every day up to `rolled_through` for the interactions received
-- up to `cutoff`; the summary adds, live, what came after (today, and late arrivals for rolled days).
-- Distinct voters are not rolled up: distinct counts do not add across days, so the summary counts
-- them from the raw rows through interactions_org_occurred_voter_idx (an index-only scan).

CREATE TABLE field_rollup_state (
    org_id uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    -- The zone the days were cut in; rollups of another zone are ignored and rebuilt.
    timezone text NOT NULL,
    -- Every interaction received at or before this instant, of a day up to rolled_through, is rolled up.
    cutoff timestamptz NOT NULL,
    rolled_through date NOT NULL,
    -- The start of the day after rolled_through in `timezone`: live rows begin here.
    open_from timestamptz NOT NULL,
    rolled_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE field_rollup_results (
    org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    day date NOT NULL,
    result text NOT NULL,
    attempts integer NOT NULL,
    last_received_at timestamptz NOT NULL,
    PRIMARY KEY (org_id, day, result)
);

CREATE TABLE field_rollup_canvassers (
    org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    day date NOT NULL,
    canvasser_id uuid NOT NULL,
    attempts integer NOT NULL,
    contacts integer NOT NULL,
    survey_responses integer NOT NULL,
    PRIMARY KEY (org_id, day, canvasser_id)
);

-- The summary's distinct voters over a range, without touching the heap.
CREATE INDEX interactions_org_occurred_voter_idx ON interactions (org_id, occurred_at) INCLUDE (voter_id);
-- What arrived after a rollup's cutoff: the next rollup's work and the summary's late arrivals.
CREATE INDEX interactions_org_received_idx ON interactions (org_id, received_at);
