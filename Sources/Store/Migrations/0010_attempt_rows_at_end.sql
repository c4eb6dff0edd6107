-- An attempt's row is written once, when the attempt ends (issue 14: one insert instead of an insert
-- at the claim and an update at the end). While an attempt runs, the job row holds what its row will
-- say: the worker (lease_owner), the lease token and, here, when the attempt started.
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS attempt_started_at timestamptz;

-- Attempts running across the upgrade keep their start; their rows exist already and are completed
-- in place when they end (the writes upsert on the attempt's key).
UPDATE jobs j SET attempt_started_at = a.started_at
FROM job_attempts a
WHERE j.state = 'running' AND j.attempt_started_at IS NULL AND a.job_id = j.id AND a.attempt = j.attempt;
