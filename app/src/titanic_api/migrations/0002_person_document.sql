-- The serialized GET /people/{uuid} body of each person, so that the hot read returns one text
-- value instead of nine columns to convert and serialize again on every request.
--
-- The app writes it with every INSERT and UPDATE (from the same values, through the same
-- serializer as the read path). PostgreSQL cannot produce those exact bytes itself (its float
-- text differs from the API's, e.g. 22 vs 22.0), so it only guards them: a document that does not
-- match its row's columns is replaced by NULL, and readers then build the body from the columns.
-- That covers writers who do not know about the column: ad-hoc SQL, or the previous app version
-- during a rolling deploy. `titanic-api db upgrade` fills the documents that are NULL.
ALTER TABLE people ADD COLUMN doc text;

CREATE FUNCTION people_guard_doc() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    d jsonb;
BEGIN
    IF NEW.doc IS NULL THEN
        RETURN NEW;
    END IF;
    d := NEW.doc::jsonb;
    -- Integers and strings compare as text, numbers as float8 (the column type; numeric would
    -- round to 15 digits), and the object must have the nine fields and no other. One plain
    -- expression, no subquery, so that PL/pgSQL evaluates it without the SPI executor.
    IF NOT coalesce(
        jsonb_typeof(d) = 'object'
        AND d - ARRAY['uuid', 'survived', 'passengerClass', 'name', 'sex', 'age',
                      'siblingsOrSpousesAboard', 'parentsOrChildrenAboard', 'fare'] = '{}'::jsonb
        AND d->>'uuid' = NEW.uuid::text
        AND d->'survived' = to_jsonb(NEW.survived)
        AND jsonb_typeof(d->'passengerClass') = 'number'
        AND d->>'passengerClass' = NEW.passenger_class::text
        AND d->>'name' = NEW.name
        AND d->>'sex' = NEW.sex
        AND jsonb_typeof(d->'age') = 'number'
        AND (d->>'age')::float8 = NEW.age
        AND jsonb_typeof(d->'siblingsOrSpousesAboard') = 'number'
        AND d->>'siblingsOrSpousesAboard' = NEW.siblings_or_spouses_aboard::text
        AND jsonb_typeof(d->'parentsOrChildrenAboard') = 'number'
        AND d->>'parentsOrChildrenAboard' = NEW.parents_or_children_aboard::text
        AND jsonb_typeof(d->'fare') = 'number'
        AND (d->>'fare')::float8 = NEW.fare,
        false
    ) THEN
        NEW.doc := NULL;
    END IF;
    RETURN NEW;
END;
$$;

-- Also on an UPDATE that leaves doc alone: then it still holds the old row's document.
CREATE TRIGGER people_guard_doc
    BEFORE INSERT OR UPDATE ON people
    FOR EACH ROW EXECUTE FUNCTION people_guard_doc();
