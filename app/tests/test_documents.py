"""The stored person documents (migration 0002) and the prepared hot reads.

``people.doc`` holds each person's exact GET body. It must never disagree with the columns: every
write the app makes stores it, the guard trigger nulls a document that does not match its row (a
writer that does not know the column), a NULL document is served from the columns, and
``db upgrade`` fills NULL documents. The hot reads are prepared per connection, lazily.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import orjson
import psycopg2
import pytest

from titanic_api import api, create_app, migrations, seed
from titanic_api.db import Database
from titanic_api.models import SELECT_COLUMNS, row_document, row_to_person

from conftest import make_settings
from support import CLI, clean_env, execute_sql, migrated_to_0001, valid_person

PERSON = valid_person()


def documents(dsn: str) -> dict[str, tuple[str | None, str]]:
    """uuid -> (stored document, the document its columns give)."""
    rows = execute_sql(dsn, f"SELECT {SELECT_COLUMNS}, doc FROM people")  # noqa: S608 - constant
    return {row[0]: (row[-1], row_document(row[:-1])) for row in rows}


def assert_documents_in_sync(dsn: str) -> None:
    for person_id, (stored, expected) in documents(dsn).items():
        assert stored == expected, person_id


@pytest.fixture
def seeded(new_database) -> Iterator[tuple[str, object]]:
    """(dsn, Flask test client) on a fresh seeded database."""
    _, dsn = new_database(seeded=True)
    app = create_app(make_settings(dsn))
    try:
        yield dsn, app.test_client()
    finally:
        app.extensions["titanic_db"].close()


def test_seed_stores_every_document(seeded):
    dsn, client = seeded
    docs = documents(dsn)
    assert len(docs) == 887
    assert all(stored is not None for stored, _ in docs.values())
    assert_documents_in_sync(dsn)
    listed = client.get("/people").get_json()
    for person in listed[:50]:
        r = client.get(f"/people/{person['uuid']}")
        assert r.status_code == 200
        assert r.data == docs[person["uuid"]][0].encode()
        assert r.get_json() == person


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"age": 22, "fare": 7},  # integers in float columns: served as 22.0 and 7.0
        {"age": 30.000000000000004, "fare": 1e300},  # 17 significant digits, huge
        {"age": 0.0, "fare": 0, "name": '  Ünïcödé "quoted" \\ name \u2028 😀  '},
        {"siblingsOrSpousesAboard": 2**31 - 1, "passengerClass": 3.0},
    ],
)
def test_every_write_keeps_the_document_in_sync(seeded, changes):
    dsn, client = seeded
    body = {**PERSON, **changes}
    created = client.post("/people", json=body)
    assert created.status_code == 201
    person_id = created.get_json()["uuid"]
    stored, expected = documents(dsn)[person_id]
    assert stored == expected
    r = client.get(f"/people/{person_id}")
    assert r.data == stored.encode()
    assert r.get_json() == created.get_json()

    someone = client.get("/people").get_json()[3]["uuid"]
    assert client.put(f"/people/{someone}", json=body).status_code == 200
    stored, expected = documents(dsn)[someone]
    assert stored == expected
    assert client.get(f"/people/{someone}").data == stored.encode()

    assert client.delete(f"/people/{person_id}").status_code == 204
    assert client.get(f"/people/{person_id}").status_code == 404
    assert_documents_in_sync(dsn)
    assert all(stored is not None for stored, _ in documents(dsn).values())


def test_a_write_that_leaves_the_document_alone_nulls_it_and_reads_use_the_columns(seeded):
    dsn, client = seeded
    someone = client.get("/people").get_json()[7]
    before = client.get(f"/people/{someone['uuid']}").data
    # ad-hoc SQL (or the previous app version in a rolling deploy) knows nothing of doc
    execute_sql(
        dsn,
        "UPDATE people SET fare = fare + 1, name = 'Changed' WHERE uuid = %s",
        (someone["uuid"],),
    )
    assert documents(dsn)[someone["uuid"]][0] is None
    after = client.get(f"/people/{someone['uuid']}")
    assert after.status_code == 200
    assert after.get_json() == {**someone, "fare": someone["fare"] + 1, "name": "Changed"}
    assert after.data != before
    assert after.get_json() in client.get("/people").get_json()
    # a document that does not match its row is never stored
    execute_sql(
        dsn,
        "UPDATE people SET doc = %s WHERE uuid = %s",
        (orjson.dumps({**someone, "age": someone["age"] + 1}).decode(), someone["uuid"]),
    )
    execute_sql(
        dsn,
        "INSERT INTO people (uuid, survived, passenger_class, name, sex, age,"
        " siblings_or_spouses_aboard, parents_or_children_aboard, fare, doc)"
        " VALUES (gen_random_uuid(), true, 1, 'Sql Insert', 'male', 1, 0, 0, 1, %s)",
        (before.decode(),),
    )
    docs = documents(dsn)
    assert docs[someone["uuid"]][0] is None
    assert sum(stored is None for stored, _ in docs.values()) == 2
    # `db upgrade` fills the missing documents
    done = subprocess.run(
        [CLI, "db", "upgrade"], env=clean_env(DATABASE_URL=dsn), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert_documents_in_sync(dsn)
    assert all(stored is not None for stored, _ in documents(dsn).values())
    assert client.get(f"/people/{someone['uuid']}").data == after.data


def test_the_guard_keeps_exact_documents(new_database):
    """Documents whose floats need all 17 digits are kept (numeric would round them)."""
    _, dsn = new_database()
    doc = orjson.dumps(
        row_to_person(
            ("5d4c2f3e-1111-4222-8333-444455556666", False, 1, "X", "male", 0.1 + 0.2, 0, 0, 1e-7)
        )
    ).decode()
    execute_sql(
        dsn,
        "INSERT INTO people (uuid, survived, passenger_class, name, sex, age,"
        " siblings_or_spouses_aboard, parents_or_children_aboard, fare, doc)"
        " VALUES ('5d4c2f3e-1111-4222-8333-444455556666', false, 1, 'X', 'male', %s, 0, 0, %s, %s)",
        (0.1 + 0.2, 1e-7, doc),
    )
    assert execute_sql(dsn, "SELECT doc FROM people") == [(doc,)]
    for wrong in (
        doc.replace('"survived":false', '"survived":true'),
        doc.replace('"passengerClass":1', '"passengerClass":1.0'),
        doc.replace('"age":0.30000000000000004', '"age":0.3'),
        doc.replace('"fare":1e-7', '"fare":"1e-7"'),
        doc[:-1] + ',"extra":1}',
        "[]",
    ):
        assert wrong != doc
        execute_sql(dsn, "UPDATE people SET doc = %s", (wrong,))
        assert execute_sql(dsn, "SELECT doc FROM people") == [(None,)], wrong


def test_upgrade_from_0001_fills_the_documents_of_existing_rows(new_database, monkeypatch):
    _, dsn = new_database(migrated=False)
    first = migrations.available()[:1]
    rows = seed.parse(seed.read_csv_text())[:20]
    conn = psycopg2.connect(dsn)
    try:
        with monkeypatch.context() as m:
            m.setattr(migrations, "available", lambda: first)
            m.setattr(migrations, "fill_documents", lambda cur: 0)
            assert [x.version for x in migrations.upgrade(conn)] == ["0001"]
        with conn, conn.cursor() as cur:  # rows written by the app before 0002
            for r in rows:
                cur.execute(
                    "INSERT INTO people (uuid, survived, passenger_class, name, sex, age,"
                    " siblings_or_spouses_aboard, parents_or_children_aboard, fare)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (
                        str(r.uuid),
                        r.survived,
                        r.passenger_class,
                        r.name,
                        r.sex,
                        r.age,
                        r.siblings_or_spouses_aboard,
                        r.parents_or_children_aboard,
                        r.fare,
                    ),
                )
        revision = execute_sql(dsn, "SELECT revision FROM people_revision")[0][0]
        assert [x.version for x in migrations.upgrade(conn)] == ["0002"]
    finally:
        conn.close()
    docs = documents(dsn)
    assert len(docs) == 20
    assert all(stored is not None for stored, _ in docs.values())
    assert_documents_in_sync(dsn)
    # the list caches of running workers see the change
    assert execute_sql(dsn, "SELECT revision FROM people_revision")[0][0] > revision


# -- prepared statements -------------------------------------------------------------------------
def test_prepared_reads_survive_a_database_restart(seeded, pg):
    dsn, client = seeded
    people = client.get("/people").get_json()
    someone = people[11]
    for _ in range(3):
        assert client.get(f"/people/{someone['uuid']}").get_json() == someone
    dbname = dsn.rsplit("/", 1)[1]
    # what a restart does to the pool: every server session (and its prepared statements) gone
    killed = execute_sql(
        pg.dsn(),
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = %s AND application_name = 'titanic-api'",
        (dbname,),
    )
    assert killed and all(ok for (ok,) in killed)
    for _ in range(3):
        r = client.get(f"/people/{someone['uuid']}")
        assert r.status_code == 200
        assert r.get_json() == someone
    assert client.get("/people").get_json() == people


def test_prepared_reads_work_once_the_migrations_ran(new_database):
    """Prepared on first use, not at connect time: a pool opened before `db upgrade` recovers."""
    _, dsn = new_database(migrated=False)
    app = create_app(make_settings(dsn))
    try:
        client = app.test_client()
        someone = "6ba7b810-9dad-41d1-80b4-00c04fd430c8"
        for _ in range(2):
            assert client.get(f"/people/{someone}").status_code == 503
            assert client.get("/people").status_code == 503
        conn = psycopg2.connect(dsn)
        try:
            migrations.upgrade(conn)
        finally:
            conn.close()
        assert client.get(f"/people/{someone}").status_code == 404
        assert client.get("/people").get_json() == []
        created = client.post("/people", json=PERSON).get_json()
        assert client.get(f"/people/{created['uuid']}").get_json() == created
    finally:
        app.extensions["titanic_db"].close()


def test_prepared_reads_follow_a_schema_change(new_database):
    """A new result type invalidates a prepared statement: it is prepared again, and not one read
    fails (asked of the query function itself: the fast path would hide a failure by handing the
    request on to Flask)."""
    _, dsn = new_database(seeded=True)
    db = Database(dsn, minconn=0, maxconn=1)
    try:
        person_id = execute_sql(dsn, "SELECT uuid::text FROM people ORDER BY seq LIMIT 1")[0][0]
        body = api.person_body(db, person_id)
        assert body is not None
        execute_sql(dsn, "ALTER TABLE people ALTER COLUMN doc TYPE varchar(4000)")
        for _ in range(3):
            assert api.person_body(db, person_id) == body
        assert db.stats()["idle"] == 1  # the same connection all along
    finally:
        db.close()


def test_a_database_without_migration_0002_is_503_not_500(new_database, monkeypatch):
    dsn = migrated_to_0001(new_database, monkeypatch)
    app = create_app(make_settings(dsn))
    try:
        client = app.test_client()
        for r in (
            client.get("/people/6ba7b810-9dad-41d1-80b4-00c04fd430c8"),
            client.post("/people", json=PERSON),
            client.get("/readyz"),
        ):
            assert r.status_code == 503
            assert r.mimetype == "application/problem+json"
            assert "db upgrade" in r.get_json()["detail"]
        assert client.get("/people").get_json() == []  # the list reads only the columns
    finally:
        app.extensions["titanic_db"].close()
