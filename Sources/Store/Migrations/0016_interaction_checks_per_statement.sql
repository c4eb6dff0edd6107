-- An interaction's voter, canvasser, assignment and list are checked once per statement, not once per row (issue 14's
-- bulk interactions), as migration 0015 did for list members.
--
-- The four foreign keys of migration 0003 (and the latest-result table's key to voters) ran up to five row-level
-- checks per interaction, two of them locking the voter's row FOR KEY SHARE: a batch of 100 wrote a lock into 100
-- voter rows. The guarantees stay, in raw SQL too, with the old constraint names on their violations:
-- * an interaction's voter, assignment and list belong to its org, and its canvasser is a user;
-- * deleting a voter or a user that interactions refer to fails (NO ACTION);
-- * deleting an assignment or a list sets the interactions' reference to NULL (ON DELETE SET NULL).
-- The statement's assignments, lists and canvassers are locked FOR KEY SHARE once each, as the keys did per row, so
-- none of them can be deleted under a running insert. Voters are not locked: a statement deleting voters first takes
-- a SHARE ROW EXCLUSIVE lock on interactions (as on list_members), so it waits for every transaction that is adding
-- interactions, and its check then sees them all. voter_latest_results is derived from interactions by their
-- trigger, so its voters are the interactions' voters, and a voter with any cannot be deleted.

ALTER TABLE interactions DROP CONSTRAINT interactions_org_id_voter_id_fkey;
ALTER TABLE interactions DROP CONSTRAINT interactions_org_id_assignment_id_fkey;
ALTER TABLE interactions DROP CONSTRAINT interactions_org_id_list_id_fkey;
ALTER TABLE interactions DROP CONSTRAINT interactions_canvasser_id_fkey;
ALTER TABLE voter_latest_results DROP CONSTRAINT voter_latest_results_org_id_voter_id_fkey;

CREATE FUNCTION interactions_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
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
CREATE TRIGGER interactions_references_insert AFTER INSERT ON interactions
    REFERENCING NEW TABLE AS new_interactions FOR EACH STATEMENT EXECUTE FUNCTION interactions_check_references();
CREATE TRIGGER interactions_references_update AFTER UPDATE ON interactions
    REFERENCING NEW TABLE AS new_interactions FOR EACH STATEMENT EXECUTE FUNCTION interactions_check_references();

-- Deleting voters: wait for and keep out every transaction adding members or interactions (see above), then refuse
-- if an interaction refers to one of them (the key was NO ACTION), and remove their memberships (0015) and latest results.
DROP TRIGGER voters_members_lock ON voters;
DROP TRIGGER voters_members_cascade ON voters;
DROP FUNCTION voters_lock_members();
DROP FUNCTION voters_delete_members();
CREATE FUNCTION voters_lock_referrers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE list_members, interactions IN SHARE ROW EXCLUSIVE MODE;
    RETURN NULL;
END
$$;
CREATE TRIGGER voters_referrers_lock BEFORE DELETE ON voters
    FOR EACH STATEMENT EXECUTE FUNCTION voters_lock_referrers();
CREATE FUNCTION voters_delete_referrers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
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
CREATE TRIGGER voters_referrers_delete AFTER DELETE ON voters
    REFERENCING OLD TABLE AS gone_voters FOR EACH STATEMENT EXECUTE FUNCTION voters_delete_referrers();

-- Deleting users: refused while interactions name them as their canvasser (the key was NO ACTION).
CREATE FUNCTION users_check_interactions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM interactions i JOIN gone_users g ON i.canvasser_id = g.id) THEN
        RAISE EXCEPTION 'update or delete on table "users" violates the reference from table "interactions": the user recorded interactions'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'interactions_canvasser_id_fkey';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER users_interactions_check AFTER DELETE ON users
    REFERENCING OLD TABLE AS gone_users FOR EACH STATEMENT EXECUTE FUNCTION users_check_interactions();

-- Deleting assignments or lists: their interactions stay, without the reference (ON DELETE SET NULL).
CREATE FUNCTION assignments_release_interactions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE interactions i SET assignment_id = NULL FROM gone_assignments g WHERE i.org_id = g.org_id AND i.assignment_id = g.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER assignments_interactions_release AFTER DELETE ON assignments
    REFERENCING OLD TABLE AS gone_assignments FOR EACH STATEMENT EXECUTE FUNCTION assignments_release_interactions();

CREATE FUNCTION lists_release_interactions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE interactions i SET list_id = NULL FROM gone_lists g WHERE i.org_id = g.org_id AND i.list_id = g.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER lists_interactions_release AFTER DELETE ON lists
    REFERENCING OLD TABLE AS gone_lists FOR EACH STATEMENT EXECUTE FUNCTION lists_release_interactions();
