"""Configuration from the environment and the `titanic-api` command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from psycopg2.extensions import parse_dsn

from titanic_api import __version__
from titanic_api.server import build_config
from titanic_api.settings import ConfigError, default_workers, load_settings

from support import CLI, clean_env, free_port

BASE = {"POSTGRES_USER": "titanic", "POSTGRES_PASSWORD": "pw", "POSTGRES_DB": "titanic"}


def run(*args: str, env: dict[str, str], timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CLI, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


# -- settings (in-process) ---------------------------------------------------------------------
def test_defaults_from_the_original_postgres_variables():
    s = load_settings(BASE)
    assert "user=titanic" in s.database_dsn
    assert "password=pw" in s.database_dsn
    assert "dbname=titanic" in s.database_dsn
    assert "host=localhost" in s.database_dsn
    assert "port=5432" in s.database_dsn
    assert (s.host, s.port) == ("0.0.0.0", 8080)
    assert s.workers == default_workers() == min(2 * (os.cpu_count() or 1) + 1, 8)
    assert s.threads == 1
    assert s.log_level == "INFO"
    assert s.max_body_bytes == 65536
    assert (s.db_pool_min, s.db_pool_max) == (1, 2)  # one thread: max(2, threads + 1)
    assert s.revision == "unknown"
    assert "sslmode" not in s.database_dsn  # libpq's default, prefer
    assert s.database_previous_dsn is None
    assert s.write_tokens == ()
    assert (s.keepalive_seconds, s.reuse_port) == (75, False)
    assert (s.migration_lock_timeout_ms, s.migration_statement_timeout_ms) == (5000, 300000)


def test_every_variable_is_read():
    s = load_settings(
        {
            **BASE,
            "POSTGRES_HOST": "db.internal",
            "POSTGRES_PORT": "6543",
            "TITANIC_HOST": "127.0.0.1",
            "TITANIC_PORT": "9000",
            "TITANIC_WORKERS": "3",
            "TITANIC_THREADS": "4",
            "TITANIC_LOG_LEVEL": "debug",
            "TITANIC_MAX_BODY_BYTES": "2048",
            "TITANIC_DB_POOL_MIN": "2",
            "TITANIC_DB_POOL_MAX": "6",
            "TITANIC_DB_CONNECT_TIMEOUT": "7",
            "TITANIC_REVISION": "deadbeef",
            "TITANIC_KEEPALIVE_SECONDS": "90",
            "TITANIC_REUSE_PORT": "True",
            "TITANIC_MIGRATION_LOCK_TIMEOUT_MS": "2000",
            "TITANIC_MIGRATION_STATEMENT_TIMEOUT_MS": "60000",
            "POSTGRES_SSLMODE": "require",
            "POSTGRES_PASSWORD_PREVIOUS": "old pw",
        }
    )
    assert "host=db.internal" in s.database_dsn and "port=6543" in s.database_dsn
    assert (s.host, s.port, s.workers, s.threads) == ("127.0.0.1", 9000, 3, 4)
    assert s.log_level == "DEBUG"
    assert s.max_body_bytes == 2048
    assert (s.db_pool_min, s.db_pool_max, s.db_connect_timeout) == (2, 6, 7)
    assert s.revision == "deadbeef"
    assert (s.keepalive_seconds, s.reuse_port) == (90, True)
    assert (s.migration_lock_timeout_ms, s.migration_statement_timeout_ms) == (2000, 60000)
    assert parse_dsn(s.database_dsn)["sslmode"] == "require"
    assert s.database_previous_dsn is not None
    previous = parse_dsn(s.database_previous_dsn)
    assert previous == {**parse_dsn(s.database_dsn), "password": "old pw"}


def test_database_url_wins_over_postgres_variables():
    url = "postgresql://u:p@h:1234/d"
    assert load_settings({"DATABASE_URL": url}).database_dsn == url
    assert load_settings({**BASE, "DATABASE_URL": url}).database_dsn == url


def test_password_with_special_characters_is_quoted():
    s = load_settings({**BASE, "POSTGRES_PASSWORD": "p w'\\x"})
    assert "password='p w\\'\\\\x'" in s.database_dsn


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        ({}, "POSTGRES_USER"),
        ({"POSTGRES_USER": "u", "POSTGRES_DB": "d"}, "POSTGRES_PASSWORD"),
        ({"POSTGRES_USER": "u", "POSTGRES_PASSWORD": "p"}, "POSTGRES_DB"),
        ({**BASE, "POSTGRES_PASSWORD": "  "}, "POSTGRES_PASSWORD"),
        ({**BASE, "POSTGRES_PORT": "x"}, "POSTGRES_PORT"),
        ({**BASE, "POSTGRES_PORT": "70000"}, "POSTGRES_PORT"),
        ({"DATABASE_URL": "not a dsn at all"}, "DATABASE_URL"),
        ({**BASE, "TITANIC_PORT": "abc"}, "TITANIC_PORT"),
        ({**BASE, "TITANIC_PORT": "0"}, "TITANIC_PORT"),
        ({**BASE, "TITANIC_PORT": "8080.5"}, "TITANIC_PORT"),
        ({**BASE, "TITANIC_WORKERS": "0"}, "TITANIC_WORKERS"),
        ({**BASE, "TITANIC_WORKERS": "many"}, "TITANIC_WORKERS"),
        ({**BASE, "TITANIC_THREADS": "-1"}, "TITANIC_THREADS"),
        ({**BASE, "TITANIC_LOG_LEVEL": "LOUD"}, "TITANIC_LOG_LEVEL"),
        ({**BASE, "TITANIC_MAX_BODY_BYTES": "-5"}, "TITANIC_MAX_BODY_BYTES"),
        ({**BASE, "TITANIC_MAX_BODY_BYTES": "64k"}, "TITANIC_MAX_BODY_BYTES"),
        ({**BASE, "TITANIC_DB_POOL_MAX": "0"}, "TITANIC_DB_POOL_MAX"),
        (
            {**BASE, "TITANIC_DB_POOL_MIN": "5", "TITANIC_DB_POOL_MAX": "2"},
            "TITANIC_DB_POOL_MIN",
        ),
        ({**BASE, "TITANIC_DB_CONNECT_TIMEOUT": "0"}, "TITANIC_DB_CONNECT_TIMEOUT"),
        ({**BASE, "TITANIC_KEEPALIVE_SECONDS": "0"}, "TITANIC_KEEPALIVE_SECONDS"),
        ({**BASE, "TITANIC_KEEPALIVE_SECONDS": "75s"}, "TITANIC_KEEPALIVE_SECONDS"),
        ({**BASE, "TITANIC_REUSE_PORT": "maybe"}, "TITANIC_REUSE_PORT"),
        ({**BASE, "TITANIC_MIGRATION_LOCK_TIMEOUT_MS": "0"}, "TITANIC_MIGRATION_LOCK_TIMEOUT_MS"),
        (
            {**BASE, "TITANIC_MIGRATION_STATEMENT_TIMEOUT_MS": "5m"},
            "TITANIC_MIGRATION_STATEMENT_TIMEOUT_MS",
        ),
        ({**BASE, "POSTGRES_SSLMODE": "verify"}, "POSTGRES_SSLMODE"),
        ({**BASE, "POSTGRES_SSLMODE": "verify-full"}, "POSTGRES_SSLROOTCERT"),
        ({**BASE, "POSTGRES_SSLMODE": "verify-ca"}, "POSTGRES_SSLROOTCERT"),
        (
            {**BASE, "POSTGRES_SSLMODE": "verify-full", "POSTGRES_SSLROOTCERT": "/nonexistent"},
            "POSTGRES_SSLROOTCERT",
        ),
        (
            {**BASE, "POSTGRES_SSLMODE": "verify-full", "POSTGRES_SSLROOTCERT": "/etc/hostname"},
            "POSTGRES_SSLROOTCERT",
        ),
    ],
)
def test_invalid_settings_name_the_variable(env, setting):
    with pytest.raises(ConfigError) as info:
        load_settings(env)
    assert info.value.setting == setting
    assert str(info.value).startswith(setting)


def test_tls_settings_reach_the_connection_string(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    tls = {"POSTGRES_SSLMODE": "VERIFY-FULL", "POSTGRES_SSLROOTCERT": str(bundle)}
    expected = {"sslmode": "verify-full", "sslrootcert": str(bundle)}
    from_parts = parse_dsn(load_settings({**BASE, **tls}).database_dsn)
    assert from_parts.items() >= expected.items()
    url = "postgresql://u:p@db.example:5432/d?sslmode=disable"
    from_url = parse_dsn(load_settings({"DATABASE_URL": url, **tls}).database_dsn)
    assert from_url == {
        "user": "u",
        "password": "p",
        "host": "db.example",
        "port": "5432",
        "dbname": "d",
        **expected,
    }
    # unset, the URL keeps its own
    assert load_settings({"DATABASE_URL": url}).database_dsn == url


def test_unreadable_ca_bundle_is_named_with_the_reason(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_settings({**BASE, "POSTGRES_SSLMODE": "verify-ca", "POSTGRES_SSLROOTCERT": "/none"})
    assert (
        str(info.value) == "POSTGRES_SSLROOTCERT '/none' cannot be read: No such file or directory"
    )
    with pytest.raises(ConfigError) as info:
        load_settings({**BASE, "POSTGRES_SSLMODE": "verify-full"})
    assert str(info.value) == (
        "POSTGRES_SSLROOTCERT (the CA bundle of the database server) is required when "
        "POSTGRES_SSLMODE is verify-full"
    )


def test_keepalive_and_reuse_port_reach_gunicorn():
    config = build_config(
        load_settings({**BASE, "TITANIC_KEEPALIVE_SECONDS": "120", "TITANIC_REUSE_PORT": "yes"})
    )
    assert (config["keepalive"], config["reuse_port"]) == (120, True)
    config = build_config(load_settings(BASE))
    assert (config["keepalive"], config["reuse_port"]) == (75, False)


def test_database_url_errors_do_not_echo_secrets():
    with pytest.raises(ConfigError) as info:
        load_settings({"DATABASE_URL": "postgresql://u:hunter2@h/d?bogus_option=1 x"})
    assert "hunter2" not in str(info.value)


# -- process level -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("env", "args", "message"),
    [
        (
            {**BASE, "TITANIC_PORT": "abc"},
            ("serve",),
            "titanic-api: configuration error: TITANIC_PORT must be an integer 1-65535, got 'abc'",
        ),
        (
            {"POSTGRES_USER": "u", "POSTGRES_DB": "d"},
            ("serve",),
            "titanic-api: configuration error: POSTGRES_PASSWORD is required (or set DATABASE_URL)",
        ),
        (
            {},
            ("db", "upgrade"),
            "titanic-api: configuration error: POSTGRES_USER is required (or set DATABASE_URL)",
        ),
        (
            {**BASE, "TITANIC_LOG_LEVEL": "verbose"},
            ("db", "check"),
            "titanic-api: configuration error: TITANIC_LOG_LEVEL must be one of DEBUG, INFO, "
            "WARNING, ERROR, got 'verbose'",
        ),
    ],
)
def test_configuration_errors_stop_the_process_with_one_line(env, args, message):
    done = run(*args, env=clean_env(**env))
    assert done.returncode == 2
    assert done.stderr == message + "\n"
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_gunicorn_config_module_reports_configuration_errors_too():
    done = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "python:titanic_api.gunicorn_conf"],
        env=clean_env(**BASE, TITANIC_WORKERS="zero"),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "titanic-api: configuration error: TITANIC_WORKERS must be an integer 1-64, got 'zero'"
    )


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("frobnicate",),
        ("db",),
        ("db", "destroy"),
        ("serve", "--port", "abc"),
        ("serve", "--port", "70000"),
        ("serve", "--bogus"),
    ],
)
def test_bad_command_lines_are_usage_errors(args):
    done = run(*args, env=clean_env(**BASE))
    assert done.returncode == 2
    assert "usage: titanic-api" in done.stderr
    assert "Traceback" not in done.stderr


def test_version_flag():
    done = run("--version", env=clean_env())
    assert done.returncode == 0
    assert done.stdout.strip() == f"titanic-api {__version__}"


def test_db_check(new_database):
    dead = clean_env(DATABASE_URL=f"postgresql://u:p@127.0.0.1:{free_port()}/d")
    done = run("db", "check", env=dead)
    assert done.returncode == 1
    assert done.stderr.startswith("titanic-api: database unavailable:")

    _, dsn = new_database(migrated=False)
    done = run("db", "check", env=clean_env(DATABASE_URL=dsn))
    assert done.returncode == 1
    assert "pending migration(s) 0001_create_people" in done.stderr

    done = run("db", "seed", env=clean_env(DATABASE_URL=dsn))
    assert done.returncode == 1
    assert "db upgrade" in done.stderr

    assert run("db", "upgrade", env=clean_env(DATABASE_URL=dsn)).returncode == 0
    done = run("db", "check", env=clean_env(DATABASE_URL=dsn))
    assert done.returncode == 0, done.stderr
    assert "schema current" in done.stdout


def test_serve_flags_override_the_environment(new_database, tmp_path):
    import requests

    from support import ServerProcess

    _, dsn = new_database()
    env = clean_env(DATABASE_URL=dsn, TITANIC_PORT="1", TITANIC_HOST="192.0.2.1")
    server = ServerProcess(env, tmp_path, workers=1).start()  # passes --host/--port
    try:
        assert requests.get(server.url("/"), timeout=5).json()["name"] == "titanic-api"
    finally:
        assert server.stop() == 0


def test_gunicorn_can_run_the_config_module_directly(new_database, tmp_path):
    """`gunicorn -c python:titanic_api.gunicorn_conf` (no app argument) serves the same app."""
    import requests

    from support import ServerProcess

    _, dsn = new_database()
    port = free_port()
    server = ServerProcess(
        clean_env(DATABASE_URL=dsn, TITANIC_HOST="127.0.0.1", TITANIC_PORT=str(port)),
        tmp_path,
        workers=2,
        command=[sys.executable, "-m", "gunicorn", "-c", "python:titanic_api.gunicorn_conf"],
    )
    server.port, server.base_url = port, f"http://127.0.0.1:{port}"
    server.start()
    try:
        assert requests.get(server.url("/readyz"), timeout=5).status_code == 200
        r = requests.get(server.url("/people"), timeout=5, headers={"X-Request-ID": "direct"})
        assert r.json() == []
        assert r.headers["X-Request-ID"] == "direct"
        assert "titanic_http_requests_total" in requests.get(server.url("/metrics"), timeout=5).text
    finally:
        assert server.stop() == 0
    lines = [json.loads(line) for line in server.logs().splitlines() if line.strip()]
    assert any(x["logger"] == "titanic_api.access" and x["request_id"] == "direct" for x in lines)
