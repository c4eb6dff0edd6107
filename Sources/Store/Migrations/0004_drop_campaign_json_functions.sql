-- Campaign reads decode rows into Swift models now; nothing builds the contract's JSON in Postgres.
DROP FUNCTION IF EXISTS voter_json(voters);
DROP FUNCTION IF EXISTS iso_utc(timestamptz);
