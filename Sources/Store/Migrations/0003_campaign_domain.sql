-- The campaign domain: voters, lists, assignments, survey questions, interactions, events.
-- Every table carries org_id; references between tenant rows are composite (org_id, id), so a
-- row can never point at another org's row, even through a bug.

CREATE TABLE voters (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    org_id uuid NOT NULL REFERENCES organizations (id),
    external_id text NOT NULL,
    first_name text NOT NULL,
    middle_name text,
    last_name text NOT NULL,
    suffix text,
    birth_year integer,
    sex text,
    race text,
    party text,
    res_house_number text,
    res_house_fraction text,
    res_street_direction text,
    res_street_name text,
    res_unit text,
    res_city text,
    res_state text,
    res_zip5 text,
    res_zip4 text,
    mailing jsonb,
    parish text,
    ward text,
    precinct text,
    congressional_district text,
    senate_district text,
    house_district text,
    registration_date date,
    status text NOT NULL DEFAULT 'active',
    phone text,
    latitude double precision,
    longitude double precision,
    -- Columns a voter file has and the contract does not.
    extra jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- Walk order sorts house numbers as numbers ("12" before "102").
    res_house_sort integer GENERATED ALWAYS AS (NULLIF(substring(res_house_number FROM '^[0-9]{1,9}'), '')::integer) STORED,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id),
    CONSTRAINT voters_org_id_key UNIQUE (org_id, id),
    CONSTRAINT voters_external_id_key UNIQUE (org_id, external_id),
    CONSTRAINT voters_status_check CHECK (status IN ('active', 'inactive'))
);
-- Paging (by id within the org), filters, name and externalId prefix search, walk order.
CREATE INDEX voters_org_last_name_idx ON voters (org_id, lower(last_name) text_pattern_ops, id);
CREATE INDEX voters_org_first_name_idx ON voters (org_id, lower(first_name) text_pattern_ops);
CREATE INDEX voters_org_full_name_idx ON voters (org_id, lower(first_name || ' ' || last_name) text_pattern_ops);
CREATE INDEX voters_org_external_prefix_idx ON voters (org_id, external_id text_pattern_ops);
CREATE INDEX voters_org_parish_idx ON voters (org_id, parish, id);
CREATE INDEX voters_org_precinct_idx ON voters (org_id, precinct, id);
CREATE INDEX voters_org_party_idx ON voters (org_id, party, id);
CREATE INDEX voters_org_zip5_idx ON voters (org_id, res_zip5, id);
CREATE INDEX voters_org_status_idx ON voters (org_id, status, id);
CREATE INDEX voters_walk_idx ON voters (org_id, precinct, res_street_name, res_house_sort, res_unit, id);

CREATE TABLE lists (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    org_id uuid NOT NULL REFERENCES organizations (id),
    name text NOT NULL,
    description text,
    source text NOT NULL DEFAULT 'manual',
    criteria jsonb,
    population_job_id uuid REFERENCES jobs (id) ON DELETE SET NULL,
    -- Kept by the statements that add and remove members, in their transaction.
    member_count integer NOT NULL DEFAULT 0,
    created_by uuid NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id),
    CONSTRAINT lists_org_id_key UNIQUE (org_id, id),
    CONSTRAINT lists_source_check CHECK (source IN ('manual', 'criteria'))
);
CREATE INDEX lists_org_created_idx ON lists (org_id, created_at DESC, id DESC);

CREATE TABLE list_members (
    org_id uuid NOT NULL,
    list_id uuid NOT NULL,
    voter_id uuid NOT NULL,
    added_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (list_id, voter_id),
    FOREIGN KEY (org_id, list_id) REFERENCES lists (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, voter_id) REFERENCES voters (org_id, id) ON DELETE CASCADE
);
CREATE INDEX list_members_voter_idx ON list_members (org_id, voter_id);

CREATE TABLE assignments (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    org_id uuid NOT NULL,
    list_id uuid NOT NULL,
    canvasser_id uuid NOT NULL,
    status text NOT NULL DEFAULT 'active',
    assigned_by uuid NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id),
    CONSTRAINT assignments_org_id_key UNIQUE (org_id, id),
    FOREIGN KEY (org_id, list_id) REFERENCES lists (org_id, id),
    -- Removing a member removes their assignments with the membership (their interactions stay).
    FOREIGN KEY (org_id, canvasser_id) REFERENCES memberships (org_id, user_id) ON DELETE CASCADE,
    CONSTRAINT assignments_status_check CHECK (status IN ('active', 'completed', 'revoked'))
);
CREATE INDEX assignments_org_created_idx ON assignments (org_id, created_at DESC, id DESC);
CREATE INDEX assignments_canvasser_idx ON assignments (org_id, canvasser_id, status);
CREATE INDEX assignments_list_idx ON assignments (org_id, list_id, status);

CREATE TABLE survey_questions (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    org_id uuid NOT NULL REFERENCES organizations (id),
    key text NOT NULL,
    prompt text NOT NULL,
    type text NOT NULL,
    choices text[],
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id),
    CONSTRAINT survey_questions_org_id_key UNIQUE (org_id, id),
    CONSTRAINT survey_questions_key_key UNIQUE (org_id, key),
    CONSTRAINT survey_questions_type_check CHECK (type IN ('single_choice', 'multi_choice', 'scale', 'text'))
);
CREATE INDEX survey_questions_org_created_idx ON survey_questions (org_id, created_at DESC, id DESC);

CREATE TABLE interactions (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    org_id uuid NOT NULL,
    client_interaction_uuid uuid NOT NULL,
    voter_id uuid NOT NULL,
    assignment_id uuid,
    list_id uuid,
    canvasser_id uuid NOT NULL REFERENCES users (id),
    channel text NOT NULL,
    result text NOT NULL,
    occurred_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    notes text,
    latitude double precision,
    longitude double precision,
    PRIMARY KEY (id),
    CONSTRAINT interactions_org_id_key UNIQUE (org_id, id),
    -- The idempotency key: resubmissions and concurrent duplicates resolve here.
    CONSTRAINT interactions_client_uuid_key UNIQUE (org_id, client_interaction_uuid),
    FOREIGN KEY (org_id, voter_id) REFERENCES voters (org_id, id),
    FOREIGN KEY (org_id, assignment_id) REFERENCES assignments (org_id, id) ON DELETE SET NULL (assignment_id),
    FOREIGN KEY (org_id, list_id) REFERENCES lists (org_id, id) ON DELETE SET NULL (list_id),
    CONSTRAINT interactions_channel_check CHECK (channel IN ('door', 'phone')),
    CONSTRAINT interactions_result_check CHECK (result IN ('canvassed', 'not_home', 'refused', 'moved', 'deceased', 'inaccessible',
        'vacant', 'hostile', 'language_barrier', 'come_back', 'wrong_address', 'do_not_contact', 'lit_drop'))
);
-- The latest interaction per voter (lastResult, progress), listings, and metrics.
CREATE INDEX interactions_voter_idx ON interactions (org_id, voter_id, occurred_at DESC, id DESC);
CREATE INDEX interactions_org_occurred_idx ON interactions (org_id, occurred_at DESC, id DESC);
CREATE INDEX interactions_canvasser_idx ON interactions (org_id, canvasser_id, occurred_at DESC);
CREATE INDEX interactions_assignment_idx ON interactions (org_id, assignment_id) WHERE assignment_id IS NOT NULL;

CREATE TABLE survey_responses (
    org_id uuid NOT NULL,
    interaction_id uuid NOT NULL,
    question_id uuid NOT NULL,
    answer jsonb NOT NULL,
    PRIMARY KEY (interaction_id, question_id),
    FOREIGN KEY (org_id, interaction_id) REFERENCES interactions (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, question_id) REFERENCES survey_questions (org_id, id)
);
CREATE INDEX survey_responses_question_idx ON survey_responses (org_id, question_id);

-- Platform events (an outbox): one row per notable change, for consumers outside this service.
CREATE TABLE events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id uuid REFERENCES organizations (id),
    type text NOT NULL,
    payload jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_org_created_idx ON events (org_id, created_at);

-- The contract's JSON for a voter, built where the row is (absent fields are left out).
CREATE FUNCTION iso_utc(t timestamptz) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

CREATE FUNCTION voter_json(v voters) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'id', v.id, 'externalId', v.external_id,
        'firstName', v.first_name, 'middleName', v.middle_name, 'lastName', v.last_name, 'suffix', v.suffix,
        'birthYear', v.birth_year, 'sex', v.sex, 'race', v.race, 'party', v.party,
        'residence', jsonb_build_object(
            'houseNumber', v.res_house_number, 'houseFraction', v.res_house_fraction, 'streetDirection', v.res_street_direction,
            'streetName', v.res_street_name, 'unit', v.res_unit, 'city', v.res_city, 'state', v.res_state,
            'zip5', v.res_zip5, 'zip4', v.res_zip4),
        'mailing', v.mailing,
        'parish', v.parish, 'ward', v.ward, 'precinct', v.precinct,
        'congressionalDistrict', v.congressional_district, 'senateDistrict', v.senate_district, 'houseDistrict', v.house_district,
        'registrationDate', to_char(v.registration_date, 'YYYY-MM-DD'), 'status', v.status,
        'phone', v.phone, 'latitude', v.latitude, 'longitude', v.longitude,
        'createdAt', iso_utc(v.created_at), 'updatedAt', iso_utc(v.updated_at)))
$$;
