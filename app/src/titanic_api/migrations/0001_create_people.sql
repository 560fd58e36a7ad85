-- The passengers, plus what keeps seeding idempotent and the list cache coherent.

CREATE TABLE people (
    uuid uuid PRIMARY KEY,
    -- insertion order: GET /people lists passengers in CSV order, then in creation order
    seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    survived boolean NOT NULL,
    passenger_class smallint NOT NULL CHECK (passenger_class IN (1, 2, 3)),
    name varchar(255) NOT NULL CHECK (char_length(btrim(name)) BETWEEN 1 AND 255),
    sex text NOT NULL CHECK (sex IN ('male', 'female')),
    age double precision NOT NULL CHECK (age >= 0 AND age <= 150),
    siblings_or_spouses_aboard integer NOT NULL CHECK (siblings_or_spouses_aboard >= 0),
    parents_or_children_aboard integer NOT NULL CHECK (parents_or_children_aboard >= 0),
    fare double precision NOT NULL CHECK (fare >= 0 AND fare < 'Infinity'::double precision),
    -- stable natural key of a seeded passenger ('titanic.csv:<row>'); NULL for API-created ones
    seed_key text UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Every seed key ever loaded. Seeding skips keys listed here, so a passenger deleted or changed
-- through the API is never re-created or reverted by a later seed run.
CREATE TABLE seed_log (
    seed_key text PRIMARY KEY,
    seeded_at timestamptz NOT NULL DEFAULT now()
);

-- A revision counter bumped by every statement that changes people. Workers cache the serialized
-- GET /people body keyed on it, which stays correct across workers and replicas.
CREATE TABLE people_revision (
    id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    revision bigint NOT NULL,
    -- identifies this database instance, so a cache never confuses a recreated database's
    -- revision numbers with the old one's
    epoch uuid NOT NULL DEFAULT gen_random_uuid()
);
INSERT INTO people_revision (id, revision) VALUES (1, 1);

-- Statement-level triggers with transition tables: one bump per changing statement (seeding 887
-- rows bumps once), and none for a statement that changed no row (e.g. DELETE of an unknown uuid).
CREATE FUNCTION people_bump_revision() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM changed) THEN
        UPDATE people_revision SET revision = revision + 1 WHERE id = 1;
    END IF;
    RETURN NULL;
END;
$$;

CREATE FUNCTION people_bump_revision_always() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE people_revision SET revision = revision + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER people_revision_on_insert
    AFTER INSERT ON people REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION people_bump_revision();

CREATE TRIGGER people_revision_on_update
    AFTER UPDATE ON people REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION people_bump_revision();

CREATE TRIGGER people_revision_on_delete
    AFTER DELETE ON people REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION people_bump_revision();

CREATE TRIGGER people_revision_on_truncate
    AFTER TRUNCATE ON people
    FOR EACH STATEMENT EXECUTE FUNCTION people_bump_revision_always();
