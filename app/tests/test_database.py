"""Migrations (versioned, concurrent-safe) and seeding (idempotent, never undoes API changes)."""

from __future__ import annotations

import subprocess
import threading
import time

import psycopg2
import pytest

from titanic_api import create_app, migrations, seed

from conftest import make_settings
from support import CLI, clean_env, migrated_to_0001


def query(dsn: str, sql: str, params: tuple = ()) -> list[tuple]:
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        conn.close()


# -- migrations --------------------------------------------------------------------------------
def test_packaged_migrations_are_versioned_and_ordered():
    found = migrations.available()
    assert [m.version for m in found] == sorted({m.version for m in found})
    assert found[0].version == "0001"
    assert migrations.latest_version() == found[-1].version


def test_upgrade_applies_once_and_records_versions(new_database):
    _, dsn = new_database(migrated=False)
    conn = psycopg2.connect(dsn)
    try:
        assert [m.version for m in migrations.pending(conn)] == ["0001", "0002"]
        assert [m.version for m in migrations.upgrade(conn)] == ["0001", "0002"]
        assert migrations.upgrade(conn) == []
        assert migrations.pending(conn) == []
    finally:
        conn.close()
    assert query(dsn, "SELECT version, name FROM schema_migrations ORDER BY version") == [
        ("0001", "create_people"),
        ("0002", "person_document"),
    ]
    assert query(dsn, "SELECT to_regclass('people') IS NOT NULL") == [(True,)]


def test_concurrent_upgrades_from_several_processes(new_database):
    _, dsn = new_database(migrated=False)
    env = clean_env(DATABASE_URL=dsn)
    procs = [
        subprocess.Popen(
            [CLI, "db", "upgrade"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(4)
    ]
    results = [(p.wait(60), *(s.decode() for s in p.communicate())) for p in procs]
    assert [rc for rc, _, _ in results] == [0, 0, 0, 0], results
    outputs = [out for _, out, _ in results]
    applied = "applied 2 migration(s): 0001_create_people, 0002_person_document"
    assert sum(applied in o for o in outputs) == 1
    assert sum("schema is current" in o for o in outputs) == 3
    assert query(
        dsn, "SELECT version, count(*) FROM schema_migrations GROUP BY version ORDER BY version"
    ) == [("0001", 1), ("0002", 1)]


def test_concurrent_upgrades_from_threads_serialize_on_the_lock(new_database):
    _, dsn = new_database(migrated=False)
    barrier = threading.Barrier(5)
    applied: list[list[str]] = []
    errors: list[BaseException] = []

    def upgrade() -> None:
        conn = psycopg2.connect(dsn)
        try:
            barrier.wait(10)
            applied.append([m.version for m in migrations.upgrade(conn)])
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=upgrade) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(applied) == [[], [], [], [], ["0001", "0002"]]
    assert query(dsn, "SELECT count(*) FROM schema_migrations") == [(2,)]


def test_failed_migration_rolls_back_completely(new_database, monkeypatch):
    _, dsn = new_database(migrated=False)
    broken = [*migrations.available(), migrations.Migration("9999", "broken", "SELECT 1/0")]
    monkeypatch.setattr(migrations, "available", lambda: broken)
    conn = psycopg2.connect(dsn)
    try:
        with pytest.raises(psycopg2.errors.DivisionByZero):
            migrations.upgrade(conn)
    finally:
        conn.close()
    # all or nothing: not even 0001 or the bookkeeping table was left behind
    assert query(dsn, "SELECT to_regclass('people'), to_regclass('schema_migrations')") == [
        (None, None)
    ]


# -- seeding -----------------------------------------------------------------------------------
def test_csv_parsing():
    rows = seed.parse(seed.read_csv_text())
    assert len(rows) == 887
    assert len({r.seed_key for r in rows}) == 887
    assert len({r.uuid for r in rows}) == 887
    first = rows[0]
    assert (first.survived, first.passenger_class, first.name, first.sex) == (
        False,
        3,
        "Mr. Owen Harris Braund",
        "male",
    )
    assert (first.age, first.siblings_or_spouses_aboard, first.fare) == (22.0, 1, 7.25)
    assert min(r.age for r in rows) == 0.42
    with pytest.raises(ValueError, match="unexpected header"):
        seed.parse("a,b\n1,2\n")


def test_seed_twice_via_cli_gives_887(new_database):
    _, dsn = new_database()
    env = clean_env(DATABASE_URL=dsn)
    first = subprocess.run([CLI, "db", "seed"], env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "seeded 887 passenger(s)"
    second = subprocess.run([CLI, "db", "seed"], env=env, capture_output=True, text=True)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "seeded 0 passenger(s)"
    assert query(dsn, "SELECT count(*), count(DISTINCT seed_key) FROM people") == [(887, 887)]


def test_seed_again_keeps_api_changes_and_deletions(new_database):
    _, dsn = new_database(seeded=True)
    app = create_app(make_settings(dsn))
    try:
        client = app.test_client()
        people = client.get("/people").get_json()
        changed, deleted = people[0], people[1]
        replacement = {k: v for k, v in changed.items() if k != "uuid"}
        replacement.update(name="Mr. Owen Harris Braund (corrected)", age=23)
        assert client.put(f"/people/{changed['uuid']}", json=replacement).status_code == 200
        assert client.delete(f"/people/{deleted['uuid']}").status_code == 204
        created = client.post("/people", json=replacement).get_json()

        for _ in range(2):
            done = subprocess.run(
                [CLI, "db", "seed"], env=clean_env(DATABASE_URL=dsn), capture_output=True
            )
            assert done.returncode == 0
            assert done.stdout.decode().strip() == "seeded 0 passenger(s)"

        after = client.get("/people").get_json()
        assert len(after) == 887  # 887 - 1 deleted + 1 created
        by_id = {p["uuid"]: p for p in after}
        assert by_id[changed["uuid"]]["name"] == "Mr. Owen Harris Braund (corrected)"
        assert by_id[changed["uuid"]]["age"] == 23
        assert deleted["uuid"] not in by_id
        assert all(p["name"] != deleted["name"] for p in after)
        assert created["uuid"] in by_id
    finally:
        app.extensions["titanic_db"].close()


def test_seed_ids_are_stable_across_databases(new_database):
    _, a = new_database(seeded=True)
    _, b = new_database(seeded=True)
    sql = "SELECT uuid::text, seed_key FROM people ORDER BY seq"
    assert query(a, sql) == query(b, sql)


def test_concurrent_seeds_do_not_duplicate(new_database):
    _, dsn = new_database()
    barrier = threading.Barrier(4)
    added: list[int] = []

    def run() -> None:
        conn = psycopg2.connect(dsn)
        try:
            barrier.wait(10)
            added.append(seed.seed(conn))
        finally:
            conn.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(added) == [0, 0, 0, 887]
    assert query(dsn, "SELECT count(*) FROM people") == [(887,)]


def test_new_csv_rows_are_added_later_but_old_ones_never_return(new_database):
    _, dsn = new_database()
    rows = seed.parse(seed.read_csv_text())
    conn = psycopg2.connect(dsn)
    try:
        assert seed.seed(conn, rows[:10]) == 10
        with conn, conn.cursor() as cur:
            cur.execute("DELETE FROM people WHERE seed_key = %s", (rows[0].seed_key,))
        assert seed.seed(conn, rows[:12]) == 2
    finally:
        conn.close()
    assert query(dsn, "SELECT count(*) FROM people") == [(11,)]


def test_revision_counts_only_statements_that_change_people(new_database):
    _, dsn = new_database()

    def revision() -> int:
        return query(dsn, "SELECT revision FROM people_revision")[0][0]

    start = revision()
    conn = psycopg2.connect(dsn)
    try:
        seed.seed(conn)  # 887 rows, one statement
    finally:
        conn.close()
    assert revision() == start + 1
    query(dsn, "DELETE FROM people WHERE uuid = gen_random_uuid() RETURNING 1")
    query(dsn, "UPDATE people SET fare = fare WHERE false RETURNING 1")
    assert revision() == start + 1
    first = "(SELECT min(seq) FROM people)"
    query(dsn, f"UPDATE people SET fare = fare + 1 WHERE seq = {first} RETURNING 1")  # noqa: S608
    assert revision() == start + 2


# -- the migration connection's timeouts ---------------------------------------------------------
def upgrade_cli(dsn: str, **env: str) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    done = subprocess.run(
        [CLI, "db", "upgrade"],
        env=clean_env(DATABASE_URL=dsn, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done, time.monotonic() - started


def test_a_migration_blocked_by_a_held_lock_fails_fast_and_changes_nothing(
    new_database, monkeypatch
):
    dsn = migrated_to_0001(new_database, monkeypatch)
    reader = psycopg2.connect(dsn)  # a long transaction that has read the table
    try:
        reader.cursor().execute("SELECT count(*) FROM people")
        done, elapsed = upgrade_cli(dsn, TITANIC_MIGRATION_LOCK_TIMEOUT_MS="300")
    finally:
        reader.rollback()
        reader.close()
    assert done.returncode == 1, done.stdout
    assert done.stderr == (
        "titanic-api: db upgrade: a table lock was not granted within "
        "TITANIC_MIGRATION_LOCK_TIMEOUT_MS (300 ms): another session holds it (a long "
        "transaction?); nothing was changed, run it again once that session is done\n"
    )
    assert elapsed < 10
    assert query(dsn, "SELECT version FROM schema_migrations") == [("0001",)]
    no_doc = (
        "SELECT count(*) FROM pg_attribute WHERE attrelid = 'people'::regclass AND attname = 'doc'"
    )
    assert query(dsn, no_doc) == [(0,)]
    done, _ = upgrade_cli(dsn, TITANIC_MIGRATION_LOCK_TIMEOUT_MS="300")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "applied 1 migration(s): 0002_person_document"


def test_waiting_for_another_upgrade_is_bounded_by_the_statement_timeout_only(new_database):
    """Replicas wait for the one applying the migrations (the advisory lock), longer than the
    lock timeout, but not for ever."""
    _, dsn = new_database(migrated=False)
    other = psycopg2.connect(dsn)
    other.autocommit = True
    try:
        other.cursor().execute("SELECT pg_advisory_lock(%s)", (migrations.MIGRATION_LOCK_KEY,))
        done, elapsed = upgrade_cli(
            dsn,
            TITANIC_MIGRATION_LOCK_TIMEOUT_MS="100",
            TITANIC_MIGRATION_STATEMENT_TIMEOUT_MS="1500",
        )
        assert done.returncode == 1, done.stdout
        assert done.stderr == (
            "titanic-api: db upgrade: a statement ran longer than "
            "TITANIC_MIGRATION_STATEMENT_TIMEOUT_MS (1500 ms) and was cancelled; "
            "nothing was changed\n"
        )
        assert 1.4 < elapsed < 15
        assert query(dsn, "SELECT to_regclass('schema_migrations')") == [(None,)]
        waiting = subprocess.Popen(
            [CLI, "db", "upgrade"],
            env=clean_env(DATABASE_URL=dsn, TITANIC_MIGRATION_LOCK_TIMEOUT_MS="100"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(1)  # ten times the lock timeout: still waiting, not failed
        assert waiting.poll() is None
    finally:
        other.close()  # releases the advisory lock
    out, err = waiting.communicate(timeout=60)
    assert waiting.returncode == 0, err
    assert out.startswith("applied 2 migration(s)")
