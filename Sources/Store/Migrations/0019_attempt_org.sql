-- An attempt's row carries its job's org (issue 14). The history rollup of every maintenance pass and the tenants
-- view's run time of the last hour read the org of each ended attempt; they joined every attempt row to `jobs` for it
-- (the rollup of 100,000 attempts: 884–1,022 ms with the join, 724–840 ms without, `docs/benchmarks.md`). Rows written
-- before this migration get their org here.
ALTER TABLE job_attempts ADD COLUMN IF NOT EXISTS org_id uuid;
UPDATE job_attempts a SET org_id = j.org_id FROM jobs j WHERE j.id = a.job_id AND a.org_id IS NULL AND j.org_id IS NOT NULL;
