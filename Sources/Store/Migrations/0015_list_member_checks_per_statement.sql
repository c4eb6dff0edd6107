-- A list member's list and voter are checked once per statement, not once per row (issue 12's list fill).
--
-- Migration 0003's two composite foreign keys ran two row-level checks per member, and each check locked its
-- referenced row FOR KEY SHARE: a population of 500,000 members wrote a lock into 500,000 voter rows, and two
-- chunks filling the same list in parallel turned the list row's lock into a multixact that every member extended.
-- Measured on 500,000 of 1,000,000 voters: 9.6 s with the keys, 2.9 s without (1.9 s on two connections).
--
-- The guarantee is the same: a member's list and voter exist and belong to the member's org, in raw SQL too, and
-- deleting a list or a voter deletes its memberships. What changes is how:
-- * after each statement that inserts or updates members, one set-based check of the new rows; the statement's
--   lists are locked FOR KEY SHARE (once per list), so a list cannot be deleted under a running insert;
-- * voters are not locked per row. A statement deleting voters first takes a SHARE ROW EXCLUSIVE lock on
--   list_members, so it waits for every transaction that is adding members and keeps new ones out until it ends;
--   then its cascade sees every committed member. (The product never deletes voters; an operator may.)
-- The violations are raised as foreign_key_violation with the old constraint names, which the routes map.

ALTER TABLE list_members DROP CONSTRAINT list_members_org_id_list_id_fkey;
ALTER TABLE list_members DROP CONSTRAINT list_members_org_id_voter_id_fkey;

CREATE FUNCTION list_members_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
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
CREATE TRIGGER list_members_references_insert AFTER INSERT ON list_members
    REFERENCING NEW TABLE AS new_members FOR EACH STATEMENT EXECUTE FUNCTION list_members_check_references();
CREATE TRIGGER list_members_references_update AFTER UPDATE ON list_members
    REFERENCING NEW TABLE AS new_members FOR EACH STATEMENT EXECUTE FUNCTION list_members_check_references();

-- ON DELETE CASCADE, per statement.
CREATE FUNCTION lists_delete_members() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM list_members m USING gone_lists g WHERE m.list_id = g.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER lists_members_cascade AFTER DELETE ON lists
    REFERENCING OLD TABLE AS gone_lists FOR EACH STATEMENT EXECUTE FUNCTION lists_delete_members();

CREATE FUNCTION voters_lock_members() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE list_members IN SHARE ROW EXCLUSIVE MODE;
    RETURN NULL;
END
$$;
CREATE TRIGGER voters_members_lock BEFORE DELETE ON voters
    FOR EACH STATEMENT EXECUTE FUNCTION voters_lock_members();

CREATE FUNCTION voters_delete_members() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM list_members m USING gone_voters g WHERE m.org_id = g.org_id AND m.voter_id = g.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER voters_members_cascade AFTER DELETE ON voters
    REFERENCING OLD TABLE AS gone_voters FOR EACH STATEMENT EXECUTE FUNCTION voters_delete_members();
