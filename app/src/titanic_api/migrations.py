"""Versioned SQL migrations, recorded in ``schema_migrations``.

Migration files live in the package (``migrations/NNNN_name.sql``) and are applied in version
order, all in one transaction guarded by a transaction-level PostgreSQL advisory lock: replicas
running ``titanic-api db upgrade`` at the same time serialize, the first applies the pending files
and the others then find nothing to do. Each upgrade then stores the serialized document of every
person who has none yet (see ``0002_person_document.sql``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

from psycopg2.extras import execute_values

from .models import SELECT_COLUMNS, row_document

# Arbitrary but fixed 64-bit key for pg_advisory_xact_lock ("titanic" + "mig").
MIGRATION_LOCK_KEY = 0x7469_7461_6E69_636D
_FILE_RE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    sql: str


@functools.cache
def _available() -> tuple[Migration, ...]:
    found = []
    for entry in resources.files("titanic_api").joinpath("migrations").iterdir():
        match = _FILE_RE.match(entry.name)
        if match:
            found.append(Migration(match.group(1), match.group(2), entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    return tuple(found)


def available() -> list[Migration]:
    return list(_available())


def latest_version() -> str:
    return available()[-1].version


def _ensure_table(cur) -> None:
    cur.execute(
        """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version text PRIMARY KEY,
            name text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )


def applied_versions(cur) -> set[str]:
    """Versions recorded in the database (empty if the table does not exist yet)."""
    cur.execute("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not cur.fetchone()[0]:
        return set()
    cur.execute("SELECT version FROM schema_migrations")
    return {row[0] for row in cur.fetchall()}


def pending(conn) -> list[Migration]:
    with conn.cursor() as cur:
        done = applied_versions(cur)
    conn.rollback()
    return [m for m in available() if m.version not in done]


def limit_session(conn, *, lock_timeout_ms: int, statement_timeout_ms: int) -> None:
    """Bound how long this session waits for a lock and how long a statement runs.

    A migration waiting for a table lock behind a long transaction queues every later query of
    that table behind it: better to fail fast and run again. Committed, so it holds for the
    session, whatever later transactions roll back."""
    with conn.cursor() as cur:
        cur.execute("SET lock_timeout = %s", (int(lock_timeout_ms),))
        cur.execute("SET statement_timeout = %s", (int(statement_timeout_ms),))
    conn.commit()


def upgrade(conn) -> list[Migration]:
    """Apply every pending migration; return those applied by this call."""
    try:
        with conn.cursor() as cur:
            # Waiting for another replica's upgrade is expected, not a lock to give up on: the
            # session's lock_timeout is lifted for the advisory lock (statement_timeout still
            # bounds the wait), then applies again to the migrations themselves.
            cur.execute("SELECT current_setting('lock_timeout')")
            lock_timeout = cur.fetchone()[0]
            cur.execute("SET LOCAL lock_timeout = 0")
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
            cur.execute("SELECT set_config('lock_timeout', %s, true)", (lock_timeout,))
            _ensure_table(cur)
            done = applied_versions(cur)
            todo = [m for m in available() if m.version not in done]
            for migration in todo:
                cur.execute(migration.sql)
                cur.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                    (migration.version, migration.name),
                )
            fill_documents(cur)
        conn.commit()
    except BaseException:
        if not conn.closed:
            conn.rollback()
        raise
    return todo


def fill_documents(cur) -> int:
    """Store ``people.doc`` where it is NULL: rows older than migration 0002, or changed by a
    writer that did not set it. Return how many rows were filled."""
    cur.execute(f"SELECT {SELECT_COLUMNS} FROM people WHERE doc IS NULL")  # noqa: S608 - constant
    rows = cur.fetchall()
    if rows:
        # A row changed after the SELECT keeps its newer document, or gets NULL from the guard
        # trigger if this one no longer matches it.
        execute_values(
            cur,
            "UPDATE people SET doc = v.doc FROM (VALUES %s) AS v (uuid, doc) "
            "WHERE people.uuid = v.uuid::uuid AND people.doc IS NULL",
            [(row[0], row_document(row)) for row in rows],
            page_size=1000,
        )
    return len(rows)
