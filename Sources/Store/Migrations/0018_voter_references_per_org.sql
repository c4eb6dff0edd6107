-- A voter delete waits only for its own org's writers (replaces migration 0016's table locks).
--
-- 0015/0016 check a statement's voters without locking them, so a delete of voters had to wait for every transaction
-- adding list members or interactions, and 0016 did that with SHARE ROW EXCLUSIVE locks on both tables: one org's
-- voter delete held up every org's bulk submissions until it committed. Now each org has an advisory lock for its
-- voters' references: the statements that add members or interactions take it shared (once per org, before their
-- check), a statement deleting voters takes it exclusive (before its own check and cascade). Whichever comes second
-- waits for the first to commit and then reads afresh: an insert sees the voter gone and is refused, a delete sees
-- the committed rows and refuses (interactions) or cascades (members). Keys: hashtextextended('voter-references:' ||
-- org_id); two orgs sharing a hash only wait for each other.

CREATE FUNCTION lock_voter_references(orgs uuid[], exclusive boolean) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    org uuid;
BEGIN
    FOR org IN SELECT DISTINCT o FROM unnest(orgs) o ORDER BY o LOOP
        IF exclusive THEN
            PERFORM pg_advisory_xact_lock(hashtextextended('voter-references:' || org::text, 0));
        ELSE
            PERFORM pg_advisory_xact_lock_shared(hashtextextended('voter-references:' || org::text, 0));
        END IF;
    END LOOP;
END
$$;

DROP TRIGGER voters_referrers_lock ON voters;
DROP FUNCTION voters_lock_referrers();

CREATE OR REPLACE FUNCTION list_members_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM lock_voter_references(ARRAY(SELECT DISTINCT org_id FROM new_members), false);
    IF EXISTS (
        SELECT 1 FROM (SELECT DISTINCT org_id, list_id FROM new_members) n
        WHERE NOT EXISTS (SELECT 1 FROM lists l WHERE l.org_id = n.org_id AND l.id = n.list_id FOR KEY SHARE OF l)
    ) THEN
        RAISE EXCEPTION 'insert or update on table "list_members" violates its list reference: no such list in the member''s organization'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'list_members_org_id_list_id_fkey';
    END IF;
    IF EXISTS (
        SELECT 1 FROM new_members n WHERE NOT EXISTS (SELECT 1 FROM voters v WHERE v.org_id = n.org_id AND v.id = n.voter_id)
    ) THEN
        RAISE EXCEPTION 'insert or update on table "list_members" violates its voter reference: no such voter in the member''s organization'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'list_members_org_id_voter_id_fkey';
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION interactions_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM lock_voter_references(ARRAY(SELECT DISTINCT org_id FROM new_interactions), false);
    IF EXISTS (
        SELECT 1 FROM (SELECT DISTINCT org_id, assignment_id FROM new_interactions WHERE assignment_id IS NOT NULL) n
        WHERE NOT EXISTS (SELECT 1 FROM assignments a WHERE a.org_id = n.org_id AND a.id = n.assignment_id FOR KEY SHARE OF a)
    ) THEN
        RAISE EXCEPTION 'insert or update on table "interactions" violates its assignment reference: no such assignment in the org'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'interactions_org_id_assignment_id_fkey';
    END IF;
    IF EXISTS (
        SELECT 1 FROM (SELECT DISTINCT org_id, list_id FROM new_interactions WHERE list_id IS NOT NULL) n
        WHERE NOT EXISTS (SELECT 1 FROM lists l WHERE l.org_id = n.org_id AND l.id = n.list_id FOR KEY SHARE OF l)
    ) THEN
        RAISE EXCEPTION 'insert or update on table "interactions" violates its list reference: no such list in the org'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'interactions_org_id_list_id_fkey';
    END IF;
    IF EXISTS (
        SELECT 1 FROM (SELECT DISTINCT canvasser_id FROM new_interactions) n
        WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = n.canvasser_id FOR KEY SHARE OF u)
    ) THEN
        RAISE EXCEPTION 'insert or update on table "interactions" violates its canvasser reference: no such user'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'interactions_canvasser_id_fkey';
    END IF;
    IF EXISTS (
        SELECT 1 FROM new_interactions n WHERE NOT EXISTS (SELECT 1 FROM voters v WHERE v.org_id = n.org_id AND v.id = n.voter_id)
    ) THEN
        RAISE EXCEPTION 'insert or update on table "interactions" violates its voter reference: no such voter in the org'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'interactions_org_id_voter_id_fkey';
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION voters_delete_referrers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM lock_voter_references(ARRAY(SELECT DISTINCT org_id FROM gone_voters), true);
    IF EXISTS (SELECT 1 FROM interactions i JOIN gone_voters g ON i.org_id = g.org_id AND i.voter_id = g.id) THEN
        RAISE EXCEPTION 'update or delete on table "voters" violates the reference from table "interactions": the voter has interactions'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'interactions_org_id_voter_id_fkey';
    END IF;
    DELETE FROM voter_latest_results r USING gone_voters g WHERE r.org_id = g.org_id AND r.voter_id = g.id;
    -- Through the org's lists: list_members is keyed by (list_id, voter_id) only (migration 0017).
    DELETE FROM list_members m USING lists l, gone_voters g WHERE l.org_id = g.org_id AND m.list_id = l.id AND m.voter_id = g.id;
    RETURN NULL;
END
$$;
