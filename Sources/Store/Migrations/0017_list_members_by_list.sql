-- list_members keeps one index, its primary key (list_id, voter_id) (issue 12's list fill).
--
-- The (org_id, voter_id) index served "which lists hold this voter", asked by a canvasser's reads and bulk writes
-- (is the voter on one of my active assignments' lists?) and by the field rollup (which lists hold a newly
-- attempted voter?). Those questions now start from the few lists in play (the canvasser's active assignments, the
-- org's lists) and probe the primary key per list. The index cost each new member a second index entry: measured on
-- 500,000 members over two connections, 2.6–2.9 s with it, 1.9–2.0 s without.
DROP INDEX list_members_voter_idx;
