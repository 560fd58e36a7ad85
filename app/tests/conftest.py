from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

# The in-process tests use prometheus_client's normal registry: make sure no multiprocess
# directory leaks in from the caller's environment before anything imports prometheus_client.
os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)

import psycopg2
import pytest
from hypothesis import HealthCheck, settings

from titanic_api import create_app, migrations, seed
from titanic_api.settings import Settings

from support import PostgresCluster, execute_sql, write_ca

settings.register_profile(
    "titanic",
    database=None,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile("titanic")

TEMPLATE_DB = "titanic_template"
_counter = itertools.count(1)


@pytest.fixture(scope="session")
def pg() -> Iterator[PostgresCluster]:
    """A real PostgreSQL 15 server for the whole session, removed afterwards."""
    cluster = PostgresCluster()
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="session")
def tls_pg(tmp_path_factory) -> Iterator[tuple[PostgresCluster, Path, Path]]:
    """A PostgreSQL 15 that accepts TCP logins only over TLS and with a password, as RDS does:
    (server, the CA file that verifies it, the file of a CA that did not sign it)."""
    cluster = PostgresCluster()
    try:
        cluster.init()
        ca_file = cluster.start_with_tls()
        other_ca, _, _ = write_ca(tmp_path_factory.mktemp("other-ca"), "other-ca")
        yield cluster, ca_file, other_ca
    finally:
        cluster.destroy()


@pytest.fixture(scope="session")
def template_db(pg: PostgresCluster) -> str:
    """A migrated, empty database used as the template of every test database."""
    pg.create_database(TEMPLATE_DB)
    conn = psycopg2.connect(pg.dsn(TEMPLATE_DB))
    try:
        migrations.upgrade(conn)
    finally:
        conn.close()
    return TEMPLATE_DB


@pytest.fixture(scope="session")
def new_database(pg: PostgresCluster, template_db: str) -> Callable[..., tuple[str, str]]:
    """Factory: a fresh database (migrated unless ``migrated=False``) -> (name, dsn)."""

    def make(*, migrated: bool = True, seeded: bool = False) -> tuple[str, str]:
        name = f"t{os.getpid()}_{next(_counter)}"
        dsn = pg.create_database(name, template=template_db if migrated else None)
        if seeded:
            conn = psycopg2.connect(dsn)
            try:
                seed.seed(conn)
            finally:
                conn.close()
        return name, dsn

    return make


def make_settings(dsn: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_dsn": dsn,
        "db_pool_min": 0,
        "db_pool_max": 4,
        "db_connect_timeout": 2,
        "log_level": "WARNING",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def module_db(new_database) -> tuple[str, str]:
    return new_database()


@pytest.fixture(scope="module")
def app(module_db):
    application = create_app(make_settings(module_db[1]))
    application.config["TESTING"] = True
    yield application
    application.extensions["titanic_db"].close()


@pytest.fixture
def sql(module_db) -> Callable[..., list[tuple]]:
    """Run SQL directly against the module's database (to check what really got stored)."""
    return lambda statement, params=(): execute_sql(module_db[1], statement, params)


@pytest.fixture
def client(app, module_db):
    """A Flask test client on an empty people table."""
    execute_sql(module_db[1], "TRUNCATE people, seed_log")
    return app.test_client()


@pytest.fixture
def seeded_client(app, module_db):
    """A Flask test client on the 887 seeded passengers."""
    execute_sql(module_db[1], "TRUNCATE people, seed_log")
    conn = psycopg2.connect(module_db[1])
    try:
        seed.seed(conn)
    finally:
        conn.close()
    return app.test_client()
