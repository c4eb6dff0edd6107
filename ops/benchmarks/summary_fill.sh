#!/usr/bin/env bash
# Fills a scratch database (bench_summary_wt) with one org of 5,000,000 interactions over 90 days for FieldSummaryBench
# (docs/decisions.md, "Field rollups"). Run it where the stack is reachable; it drops and recreates that database.
set -e
MAIN=postgres://fieldwork@127.0.0.1:55432/fieldwork
B=postgres://fieldwork@127.0.0.1:55432/bench_summary_wt
psql -q $MAIN -c "DROP DATABASE IF EXISTS bench_summary_wt WITH (FORCE)"
psql -q $MAIN -c "CREATE DATABASE bench_summary_wt"
for f in $(dirname "$0")/../../Sources/Store/Migrations/*.sql; do psql -q -v ON_ERROR_STOP=1 $B -f $f >/dev/null; done
start=$(date +%s)
psql -q -v ON_ERROR_STOP=1 $B <<'SQL'
SET session_replication_role = replica;
INSERT INTO organizations (id, name, slug, timezone) VALUES ('00000000-0000-4000-8000-000000000001', 'Bench', 'bench', 'America/Chicago');
INSERT INTO users (id, email, name) SELECT ('00000000-0000-4000-9000-' || lpad(g::text, 12, '0'))::uuid, 'c' || g || '@b.test', 'Canvasser ' || g
  FROM generate_series(1, 40) g;
INSERT INTO voters (org_id, external_id, first_name, last_name)
  SELECT '00000000-0000-4000-8000-000000000001', 'V' || g, 'F', 'L' FROM generate_series(1, 500000) g;
CREATE TEMP TABLE v AS SELECT row_number() OVER () AS n, id FROM voters;
CREATE INDEX ON v (n);
INSERT INTO survey_questions (id, org_id, key, prompt, type) VALUES ('00000000-0000-4000-a000-000000000001', '00000000-0000-4000-8000-000000000001', 'q', 'Q', 'scale');
INSERT INTO interactions (org_id, client_interaction_uuid, voter_id, canvasser_id, channel, result, occurred_at, received_at)
  SELECT '00000000-0000-4000-8000-000000000001', gen_random_uuid(), v.id,
         ('00000000-0000-4000-9000-' || lpad((1 + g % 40)::text, 12, '0'))::uuid, 'door',
         (ARRAY['canvassed','not_home','refused','moved','deceased','inaccessible','vacant','hostile','language_barrier','come_back',
                'wrong_address','do_not_contact','lit_drop'])[1 + (g * 7) % 13],
         t, t + interval '5 minutes'
  FROM generate_series(1::int8, 5000000::int8) g
  JOIN v ON v.n = 1 + (g * 7919) % 500000
  CROSS JOIN LATERAL (SELECT now() - interval '90 days' * ((g * 2654435761::int8) % 5000000)::float8 / 5000000 AS t) x;
INSERT INTO survey_responses (org_id, interaction_id, question_id, answer)
  SELECT org_id, id, '00000000-0000-4000-a000-000000000001', '3' FROM interactions WHERE result = 'canvassed';
INSERT INTO lists (id, org_id, name, created_by, member_count)
  SELECT ('00000000-0000-4000-b000-' || lpad(g::text, 12, '0'))::uuid, '00000000-0000-4000-8000-000000000001', 'List ' || g,
         '00000000-0000-4000-9000-000000000001', 20000 FROM generate_series(1, 5) g;
INSERT INTO list_members (org_id, list_id, voter_id)
  SELECT '00000000-0000-4000-8000-000000000001', ('00000000-0000-4000-b000-' || lpad((1 + (n - 1) / 20000)::text, 12, '0'))::uuid, id
  FROM v WHERE n <= 100000;
VACUUM ANALYZE;
SQL
echo "filled in $(( $(date +%s) - start )) s"
psql -At $B -c "SELECT count(*), min(occurred_at), max(occurred_at) FROM interactions"
