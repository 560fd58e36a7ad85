"""The API's way to the database, as on RDS: TLS verified against a given CA bundle
(POSTGRES_SSLMODE, POSTGRES_SSLROOTCERT) and a password that can be rotated under it
(POSTGRES_PASSWORD_PREVIOUS). Against a real PostgreSQL that takes TCP logins only over TLS and
only with a password (the session's ``tls_pg``)."""

from __future__ import annotations

import itertools
import subprocess

import pytest

from titanic_api import create_app
from titanic_api.settings import load_settings

from support import CLI, clean_env, execute_sql, valid_person

OLD_PASSWORD = "old-Password-1"
NEW_PASSWORD = "new-Password-2"
_numbers = itertools.count(1)


@pytest.fixture
def login(tls_pg) -> dict[str, str]:
    """A login of the test's own (password OLD_PASSWORD) owning a migrated database: its env."""
    cluster, ca_file, _ = tls_pg
    number = next(_numbers)
    user, database = f"api_user_{number}", f"api_db_{number}"
    cluster.execute_admin(f"CREATE ROLE {user} LOGIN PASSWORD '{OLD_PASSWORD}'")
    cluster.execute_admin(f"CREATE DATABASE {database} OWNER {user}")
    env = {
        "POSTGRES_HOST": "127.0.0.1",
        "POSTGRES_PORT": str(cluster.port),
        "POSTGRES_USER": user,
        "POSTGRES_PASSWORD": OLD_PASSWORD,
        "POSTGRES_DB": database,
        "POSTGRES_SSLMODE": "verify-full",
        "POSTGRES_SSLROOTCERT": str(ca_file),
        "TITANIC_DB_CONNECT_TIMEOUT": "2",
        "TITANIC_LOG_LEVEL": "WARNING",
    }
    done = cli("upgrade", env)
    assert done.returncode == 0, done.stderr
    return env


def cli(action: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CLI, "db", action], env=clean_env(**env), capture_output=True, text=True, timeout=60
    )


def serving(env: dict[str, str]):
    app = create_app(load_settings(env))
    app.config["TESTING"] = True
    return app


def ssl_of_the_app_sessions(cluster, database: str) -> list[tuple]:
    return execute_sql(
        cluster.dsn(),
        "SELECT s.ssl, s.version IS NOT NULL FROM pg_stat_ssl s JOIN pg_stat_activity a"
        " USING (pid) WHERE a.datname = %s AND a.application_name = 'titanic-api'",
        (database,),
    )


# -- TLS -----------------------------------------------------------------------------------------
def test_verify_full_with_the_right_ca_serves_over_tls(tls_pg, login):
    app = serving(login)
    try:
        client = app.test_client()
        assert client.get("/readyz").status_code == 200
        created = client.post("/people", json=valid_person())
        assert created.status_code == 201
        assert client.get("/people").get_json() == [created.get_json()]
        assert ssl_of_the_app_sessions(tls_pg[0], login["POSTGRES_DB"]) == [(True, True)]
    finally:
        app.extensions["titanic_db"].close()
    done = cli("check", login)
    assert done.returncode == 0, done.stderr


def test_a_server_the_ca_did_not_sign_is_refused(tls_pg, login):
    _, _, other_ca = tls_pg
    env = {**login, "POSTGRES_SSLROOTCERT": str(other_ca)}
    app = serving(env)
    try:
        response = app.test_client().get("/readyz")
        assert response.status_code == 503
        assert response.mimetype == "application/problem+json"
    finally:
        app.extensions["titanic_db"].close()
    done = cli("check", env)
    assert done.returncode == 1
    assert done.stderr.startswith("titanic-api: database unavailable:")
    assert "certificate verify failed" in done.stderr


def test_verify_full_checks_the_host_name_and_verify_ca_does_not(tls_pg, login):
    """The certificate names 127.0.0.1 and localhost: reached as db.invalid (hostaddr keeps the
    address), only verify-ca accepts it."""
    cluster, ca_file, _ = tls_pg
    url = (
        f"postgresql://{login['POSTGRES_USER']}:{OLD_PASSWORD}@db.invalid:{cluster.port}"
        f"/{login['POSTGRES_DB']}?hostaddr=127.0.0.1"
    )
    tls = {"DATABASE_URL": url, "POSTGRES_SSLROOTCERT": str(ca_file)}
    done = cli("check", {**tls, "POSTGRES_SSLMODE": "verify-full"})
    assert done.returncode == 1
    assert 'does not match host name "db.invalid"' in done.stderr
    done = cli("check", {**tls, "POSTGRES_SSLMODE": "verify-ca"})
    assert done.returncode == 0, done.stderr


# -- password rotation ---------------------------------------------------------------------------
def test_the_previous_password_keeps_the_api_working_until_the_database_changes(tls_pg, login):
    cluster = tls_pg[0]
    rotated = {
        **login,
        "POSTGRES_PASSWORD": NEW_PASSWORD,
        "POSTGRES_PASSWORD_PREVIOUS": OLD_PASSWORD,
    }
    # 1. pods rolled with the new password; the database still has the old one
    app = serving(rotated)
    try:
        client = app.test_client()
        assert client.get("/readyz").status_code == 200
        assert client.post("/people", json=valid_person()).status_code == 201
        assert cli("check", rotated).returncode == 0
        # 2. the database gets the new password; sessions already open stay, new ones use it
        cluster.execute_admin(f"ALTER ROLE {login['POSTGRES_USER']} PASSWORD '{NEW_PASSWORD}'")
        execute_sql(
            cluster.dsn(),
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND application_name = 'titanic-api'",
            (login["POSTGRES_DB"],),
        )
        assert client.get("/readyz").status_code == 200
        assert len(client.get("/people").get_json()) == 1
    finally:
        app.extensions["titanic_db"].close()
    # 3. the previous password is dropped from the deployment
    done = cli("check", {**login, "POSTGRES_PASSWORD": NEW_PASSWORD})
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    "previous", ["", "wrong-Previous-3"], ids=["no-previous", "wrong-previous"]
)
def test_without_a_password_the_database_accepts_it_is_503_as_before(login, previous):
    env = {**login, "POSTGRES_PASSWORD": "wrong-Password-4", "POSTGRES_PASSWORD_PREVIOUS": previous}
    app = serving(env)
    try:
        client = app.test_client()
        for response in (client.get("/readyz"), client.get("/people")):
            assert response.status_code == 503
            assert "wrong" not in response.data.decode()
    finally:
        app.extensions["titanic_db"].close()
    done = cli("check", env)
    assert done.returncode == 1
    assert "password authentication failed" in done.stderr
    assert "wrong-P" not in done.stderr
