"""A statement the database aborts on a healthy session is not a lost connection.

Each case is reproduced on the suite's real PostgreSQL: a statement timeout (a read waiting for a
table lock, and a write held up by pg_sleep in a trigger), a lock timeout, a deadlock between two
sessions, and a serialization failure. Each time the client gets a 503 problem with Retry-After,
the statement reached the database once (counted in the server's own log: the test database logs
every statement), and the pool kept its idle connections: the same server sessions before and
after, and the one that failed serves the next request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import orjson
import psycopg2
import pytest

from titanic_api import api, create_app
from titanic_api.db import Database, StatementAborted

from conftest import make_settings
from support import PostgresCluster, execute_sql, valid_person, wait_until

POOL_MAX = 4


@dataclass
class Stage:
    """The app on a database of its own, one person stored, two idle pooled connections."""

    pg: PostgresCluster
    name: str
    dsn: str
    app: object
    person: dict

    @property
    def db(self) -> Database:
        return self.app.extensions["titanic_db"]

    @property
    def client(self):
        return self.app.test_client()

    @property
    def path(self) -> str:
        return f"/people/{self.person['uuid']}"

    def sessions(self) -> list[int]:
        """The server processes of the app's pooled connections."""
        rows = execute_sql(
            self.pg.dsn(),
            "SELECT pid FROM pg_stat_activity WHERE datname = %s"
            " AND application_name = 'titanic-api' ORDER BY pid",
            (self.name,),
        )
        return [pid for (pid,) in rows]

    def statements(self, *fragments: str) -> int:
        """How many statements holding every fragment the server logged as received."""
        text = self.pg.logfile.read_text(errors="replace")
        return sum(
            1
            for line in text.splitlines()
            if "statement: " in line and all(f in line for f in fragments)
        )

    def app_waits_for_a_lock(self) -> bool:
        rows = execute_sql(
            self.pg.dsn(),
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
            " AND application_name = 'titanic-api' AND wait_event_type = 'Lock'",
            (self.name,),
        )
        return rows[0][0] == 1

    def other_session(self):
        conn = psycopg2.connect(self.dsn)
        conn.autocommit = False
        return conn

    def warm_pool(self) -> list[int]:
        """Two idle connections, each with the hot read prepared on it; their server pids."""
        held = [self.db.getconn()[0] for _ in range(2)]
        for conn in held:
            cursor = conn.shared_cursor()
            api._SELECT_DOC.execute(cursor, (self.person["uuid"],))
            cursor.fetchall()
        for conn in held:
            self.db.putconn(conn)
        return sorted(conn.get_backend_pid() for conn in held)


@pytest.fixture
def stage(pg, new_database) -> Iterator[Callable[..., Stage]]:
    apps = []

    def make(database_settings: dict[str, str] | None = None, **app_settings) -> Stage:
        name, dsn = new_database()
        for setting, value in {"log_statement": "all", **(database_settings or {})}.items():
            execute_sql(pg.dsn(), f'ALTER DATABASE "{name}" SET {setting} = %s', (value,))
        app = create_app(make_settings(dsn, db_pool_max=POOL_MAX, **app_settings))
        apps.append(app)
        created = app.test_client().post("/people", json=valid_person())
        assert created.status_code == 201
        return Stage(pg, name, dsn, app, created.get_json())

    yield make
    for app in apps:
        app.extensions["titanic_db"].close()


def assert_aborted(response) -> None:
    assert response.status_code == 503, response.data
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == "1"
    body = orjson.loads(response.data)
    assert body["type"] == "urn:titanic-api:problem:service-unavailable"
    assert "nothing was changed" in body["detail"]
    assert "psycopg2" not in response.data.decode() and "SELECT" not in response.data.decode()


def assert_pool_kept(stage: Stage, sessions: list[int]) -> None:
    assert stage.db.stats() == {"in_use": 0, "idle": 2, "max": POOL_MAX}
    assert stage.sessions() == sessions


# -- reads ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("database_settings", "app_settings"),
    [
        ({}, {"db_statement_timeout_ms": 300}),  # 57014 query_canceled
        ({"lock_timeout": "300ms"}, {}),  # 55P03 lock_not_available
    ],
    ids=["statement-timeout", "lock-timeout"],
)
def test_a_read_cancelled_while_waiting_for_a_lock_runs_once(
    stage, database_settings, app_settings
):
    s = stage(database_settings, **app_settings)
    sessions = s.warm_pool()
    read = api._SELECT_DOC.name  # in its PREPARE (on a new connection) and EXECUTE alike
    holder = s.other_session()
    try:
        holder.cursor().execute("LOCK TABLE people IN ACCESS EXCLUSIVE MODE")
        before = s.statements(read)
        assert_aborted(s.client.get(s.path))  # the fast path
        assert s.statements(read) == before + 1  # not retried on a fresh connection
        assert_pool_kept(s, sessions)
    finally:
        holder.rollback()
        holder.close()
    # the connection that was cancelled is healthy: the same two sessions serve on
    assert s.client.get(s.path).get_json() == s.person
    assert s.client.get("/people").get_json() == [s.person]
    assert_pool_kept(s, sessions)


# -- writes --------------------------------------------------------------------------------------
def test_a_write_cut_by_the_statement_timeout_changes_nothing_and_keeps_the_pool(stage):
    s = stage(db_statement_timeout_ms=300)
    execute_sql(
        s.dsn,
        "CREATE FUNCTION slow_write() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN PERFORM pg_sleep(10); RETURN NEW; END $$",
    )
    execute_sql(
        s.dsn,
        "CREATE TRIGGER slow_write BEFORE UPDATE ON people FOR EACH ROW"
        f" WHEN (OLD.uuid = '{s.person['uuid']}') EXECUTE FUNCTION slow_write()",
    )
    sessions = s.warm_pool()
    write = ("UPDATE people SET survived", s.person["uuid"])
    before = s.statements(*write)
    assert_aborted(s.client.put(s.path, json=valid_person(name="Mr. Too Slow")))
    assert s.statements(*write) == before + 1
    assert_pool_kept(s, sessions)
    assert s.client.get(s.path).get_json() == s.person  # nothing changed
    created = s.client.post("/people", json=valid_person(name="Mrs. Next Write"))
    assert created.status_code == 201
    assert_pool_kept(s, sessions)


def test_a_deadlock_victim_gets_503_and_the_other_session_goes_on(stage):
    s = stage()
    sessions = s.warm_pool()
    write = ("UPDATE people SET survived", s.person["uuid"])
    before = s.statements(*write)
    other = s.other_session()
    try:
        cursor = other.cursor()
        # the app's session runs the deadlock check first (after its 1 s deadlock_timeout)
        cursor.execute("SET deadlock_timeout = '30s'")
        # Holds the revision counter, which the app's UPDATE bumps after locking its row.
        cursor.execute("UPDATE people_revision SET revision = revision WHERE id = 1")
        with ThreadPoolExecutor(max_workers=1) as pool:
            replacing = pool.submit(s.client.put, s.path, json=valid_person(name="Mr. Deadlocked"))
            assert wait_until(s.app_waits_for_a_lock, timeout=10), "the app never waited"
            # now wait for the row the app holds: a cycle, and the app's statement is aborted
            cursor.execute("UPDATE people SET fare = fare + 1 WHERE uuid = %s", (s.person["uuid"],))
            response = replacing.result(timeout=30)
        other.commit()  # the other session was not the victim
    finally:
        other.close()
    assert_aborted(response)
    assert s.statements(*write) == before + 1
    assert_pool_kept(s, sessions)
    assert s.client.get(s.path).get_json() == {**s.person, "fare": s.person["fare"] + 1}


def test_a_serialization_failure_gets_503_once(stage):
    s = stage({"default_transaction_isolation": "repeatable read"})
    sessions = s.warm_pool()
    write = ("UPDATE people SET survived", s.person["uuid"])
    before = s.statements(*write)
    other = s.other_session()
    try:
        other.cursor().execute(
            "UPDATE people SET fare = fare + 1 WHERE uuid = %s", (s.person["uuid"],)
        )
        with ThreadPoolExecutor(max_workers=1) as pool:
            replacing = pool.submit(s.client.put, s.path, json=valid_person(name="Mr. Serialized"))
            assert wait_until(s.app_waits_for_a_lock, timeout=10), "the app never waited"
            # the app's snapshot predates this commit: repeatable read cannot apply its update
            other.commit()
            response = replacing.result(timeout=30)
    finally:
        other.close()
    assert_aborted(response)
    assert s.statements(*write) == before + 1
    assert_pool_kept(s, sessions)
    assert s.client.get(s.path).get_json() == {**s.person, "fare": s.person["fare"] + 1}


def test_a_transaction_cut_by_the_statement_timeout_is_rolled_back_and_its_connection_kept(stage):
    s = stage(db_statement_timeout_ms=300)
    sessions = s.warm_pool()
    with pytest.raises(StatementAborted) as info, s.db.transaction() as cursor:  # noqa: PT012
        cursor.execute("DELETE FROM people")
        cursor.execute("SELECT pg_sleep(10)")
    assert info.value.sqlstate == "57014"
    assert_pool_kept(s, sessions)
    assert s.client.get("/people").get_json() == [s.person]  # the DELETE was rolled back
