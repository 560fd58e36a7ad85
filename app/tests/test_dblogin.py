"""`titanic-api db bootstrap` against a real PostgreSQL 15 that, like the local database pod and
RDS, accepts only password logins over TLS (the session's ``tls_pg``); the master credentials
from the environment and from Secrets Manager (moto's server on loopback)."""

from __future__ import annotations

import itertools
import json
import subprocess
from collections.abc import Iterator

import psycopg2
import psycopg2.errors
import pytest

from titanic_api import create_app
from titanic_api.settings import database_dsn_from_env

from conftest import make_settings
from support import CLI, PG_PASSWORD, PG_USER, clean_env, free_port, valid_person

LOGIN_PASSWORD = "login-Secret-0815"
_names = itertools.count(1)


@pytest.fixture
def names() -> tuple[str, str]:
    """A database and a login of the test's own."""
    number = next(_names)
    return f"bootstrap_db_{number}", f"api_login_{number}"


def bootstrap_env(tls_pg, database: str, login: str, **extra: str) -> dict[str, str]:
    cluster, ca_file, _ = tls_pg
    env = {k: v for k, v in clean_env().items() if not k.startswith("AWS_")}
    env.update(
        POSTGRES_HOST="127.0.0.1",
        POSTGRES_PORT=str(cluster.port),
        POSTGRES_DB=database,
        POSTGRES_SSLMODE="verify-full",
        POSTGRES_SSLROOTCERT=str(ca_file),
        TITANIC_DB_MASTER_USER=PG_USER,
        TITANIC_DB_MASTER_PASSWORD=PG_PASSWORD,
        POSTGRES_USER=login,
        POSTGRES_PASSWORD=LOGIN_PASSWORD,
    )
    env.update(extra)
    return {k: v for k, v in env.items() if v != ""}


def run_bootstrap(env: dict[str, str]) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [CLI, "db", "bootstrap"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    for secret in (PG_PASSWORD, LOGIN_PASSWORD):
        assert secret not in proc.stdout + proc.stderr, "a password was printed"
    return proc


def bootstrapped(env: dict[str, str]) -> dict:
    proc = run_bootstrap(env)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, proc.stdout
    return json.loads(lines[0])


def connect(tls_pg, database: str, user: str, password: str):
    cluster, ca_file, _ = tls_pg
    return psycopg2.connect(
        host="127.0.0.1",
        port=cluster.port,
        dbname=database,
        user=user,
        password=password,
        sslmode="verify-full",
        sslrootcert=str(ca_file),
        connect_timeout=5,
    )


def master_sql(
    tls_pg, statement: str, params: tuple = (), database: str = "postgres"
) -> list[tuple]:
    conn = connect(tls_pg, database, PG_USER, PG_PASSWORD)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


# -- the login ------------------------------------------------------------------------------------
def test_creates_database_and_login_then_changes_nothing(tls_pg, names):
    database, login = names
    env = bootstrap_env(tls_pg, database, login)

    first = bootstrapped(env)
    assert first["login"] == login and first["database"] == database
    assert first["changed"] is True
    assert f"created database {database}" in first["actions"]
    assert any(action.startswith(f"created login {login}") for action in first["actions"])
    assert "granted CONNECT on database " + database in first["actions"]
    assert "granted USAGE, CREATE on schema public" in first["actions"]

    assert bootstrapped(env) == {
        "login": login,
        "database": database,
        "changed": False,
        "actions": [],
    }
    connect(tls_pg, database, login, LOGIN_PASSWORD).close()


def test_the_login_has_least_privilege(tls_pg, names):
    database, login = names
    bootstrapped(bootstrap_env(tls_pg, database, login))

    (attributes,) = master_sql(
        tls_pg,
        "SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls,"
        " pg_get_userbyid(d.datdba) FROM pg_roles, pg_database d"
        " WHERE rolname = %s AND d.datname = %s",
        (login, database),
    )
    assert attributes == (True, False, False, False, False, False, PG_USER)

    conn = connect(tls_pg, database, login, LOGIN_PASSWORD)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for statement in (
                "CREATE DATABASE not_allowed",
                "CREATE ROLE not_allowed",
                "ALTER ROLE CURRENT_USER CREATEDB",
                "SELECT rolpassword FROM pg_authid",
            ):
                with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                    cur.execute(statement)
            cur.execute("CREATE TABLE allowed (id int)")  # what the migrations do
    finally:
        conn.close()
    # Another login gets no CREATE on public through PUBLIC.
    master_sql(tls_pg, f"CREATE ROLE {login}_other LOGIN PASSWORD '{LOGIN_PASSWORD}'")
    other = connect(tls_pg, database, f"{login}_other", LOGIN_PASSWORD)
    try:
        with other.cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("CREATE TABLE not_allowed (id int)")
    finally:
        other.close()


def test_the_login_runs_the_migrations_and_the_api(tls_pg, names):
    database, login = names
    env = bootstrap_env(tls_pg, database, login)
    bootstrapped(env)

    api_env = {k: v for k, v in env.items() if not k.startswith("TITANIC_DB_MASTER")}
    for command, expected in (
        ("upgrade", "applied 2 migration(s)"),
        ("seed", "seeded 887 passenger(s)"),
        ("check", "ok: database reachable, schema current"),
    ):
        proc = subprocess.run(
            [CLI, "db", command], env=api_env, capture_output=True, text=True, timeout=60,
            check=False,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert expected in proc.stdout

    app = create_app(make_settings(database_dsn_from_env(api_env)))
    try:
        client = app.test_client()
        assert len(client.get("/people").get_json()) == 887
        created = client.post("/people", json=valid_person())
        assert created.status_code == 201, created.get_data(as_text=True)
    finally:
        app.extensions["titanic_db"].close()
    # The tables the login owns now change nothing either.
    assert bootstrapped(env)["changed"] is False


def test_a_wrong_password_is_reset(tls_pg, names):
    database, login = names
    env = bootstrap_env(tls_pg, database, login)
    bootstrapped(env)
    master_sql(tls_pg, f"ALTER ROLE {login} PASSWORD 'not-the-one-in-the-secret'")

    result = bootstrapped(env)
    assert result["changed"] is True
    assert result["actions"] == [f"set the password of login {login}"]
    connect(tls_pg, database, login, LOGIN_PASSWORD).close()
    assert bootstrapped(env)["changed"] is False
    # The verifier, never the clear password, is what the server stores and was sent.
    (stored,) = master_sql(tls_pg, "SELECT rolpassword FROM pg_authid WHERE rolname = %s", (login,))
    assert stored[0].startswith("SCRAM-SHA-256$")


def test_an_existing_login_with_too_much_privilege_is_corrected(tls_pg, names):
    database, login = names
    master_sql(tls_pg, f"CREATE ROLE {login} NOLOGIN CREATEDB CREATEROLE")
    master_sql(tls_pg, f"CREATE DATABASE {database} OWNER {login}")
    # As in a database made before PostgreSQL 15: everyone may create in public.
    master_sql(tls_pg, "GRANT CREATE ON SCHEMA public TO PUBLIC", database=database)

    actions = bootstrapped(bootstrap_env(tls_pg, database, login))["actions"]
    assert "revoked CREATE on schema public from PUBLIC" in actions
    assert f"set LOGIN NOCREATEDB NOCREATEROLE on login {login}" in actions
    assert f"database {database} owned by the master user, not {login}" in actions
    assert f"set the password of login {login}" in actions
    (row,) = master_sql(
        tls_pg,
        "SELECT rolcanlogin, rolcreatedb, rolcreaterole, pg_get_userbyid(d.datdba)"
        " FROM pg_roles, pg_database d WHERE rolname = %s AND d.datname = %s",
        (login, database),
    )
    assert row == (True, False, False, PG_USER)


# -- TLS ------------------------------------------------------------------------------------------
def test_verify_full_trusts_only_the_given_ca(tls_pg, names):
    database, login = names
    _, _, other_ca = tls_pg
    proc = run_bootstrap(bootstrap_env(tls_pg, database, login, POSTGRES_SSLROOTCERT=str(other_ca)))
    assert proc.returncode == 1
    assert "certificate verify failed" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1

    # Without TLS the server refuses TCP logins (hostssl only), as the local pod does.
    proc = run_bootstrap(
        bootstrap_env(tls_pg, database, login, POSTGRES_SSLMODE="disable", POSTGRES_SSLROOTCERT="")
    )
    assert proc.returncode == 1
    assert "no encryption" in proc.stderr


# -- Secrets Manager ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def secrets_manager() -> Iterator[tuple[dict[str, str], object]]:
    """moto's server on a free loopback port: (the AWS environment for the CLI, a client)."""
    import botocore.session
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    aws = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    client = botocore.session.get_session().create_client(
        "secretsmanager",
        region_name=aws["AWS_REGION"],
        endpoint_url=aws["AWS_ENDPOINT_URL"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    try:
        yield aws, client
    finally:
        server.stop()


def test_credentials_from_secrets_manager(tls_pg, names, secrets_manager):
    database, login = names
    aws, client = secrets_manager
    master = client.create_secret(
        Name=f"rds!db-{database}",
        SecretString=json.dumps({"username": PG_USER, "password": PG_PASSWORD}),
    )
    api = client.create_secret(
        Name=f"titanic/test/{database}",
        SecretString=json.dumps({"username": login, "password": LOGIN_PASSWORD, "host": "x"}),
    )
    env = bootstrap_env(
        tls_pg, database, login, **aws,
        TITANIC_DB_MASTER_SECRET_ID=master["ARN"], TITANIC_DB_MASTER_USER="",
        TITANIC_DB_MASTER_PASSWORD="", TITANIC_DB_LOGIN_SECRET_ID=api["Name"],
        POSTGRES_USER="", POSTGRES_PASSWORD="",
    )  # fmt: skip

    assert bootstrapped(env)["changed"] is True
    assert bootstrapped(env)["changed"] is False
    connect(tls_pg, database, login, LOGIN_PASSWORD).close()

    missing = run_bootstrap({**env, "TITANIC_DB_MASTER_SECRET_ID": "no/such/secret"})
    assert missing.returncode == 1
    assert missing.stderr.strip() == (
        "titanic-api: bootstrap failed: cannot read secret no/such/secret"
        " (TITANIC_DB_MASTER_SECRET_ID): ResourceNotFoundException"
    )


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        (f"not json {PG_PASSWORD}", "is not JSON"),
        (json.dumps({"username": PG_USER}), "needs a non-empty username and password"),
        (json.dumps([PG_USER, PG_PASSWORD]), "needs a non-empty username and password"),
    ],
)
def test_a_master_secret_of_the_wrong_shape_exits_2(
    tls_pg, names, secrets_manager, secret, message
):
    database, login = names
    aws, client = secrets_manager
    arn = client.create_secret(Name=f"bad/{database}", SecretString=secret)["ARN"]
    env = bootstrap_env(
        tls_pg, database, login, **aws, TITANIC_DB_MASTER_SECRET_ID=arn,
        TITANIC_DB_MASTER_USER="", TITANIC_DB_MASTER_PASSWORD="",
    )  # fmt: skip
    proc = run_bootstrap(env)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip() == (
        f"titanic-api: configuration error: secret {arn} (TITANIC_DB_MASTER_SECRET_ID) {message}"
    )


# -- bad input ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"POSTGRES_DB": ""}, "POSTGRES_DB is required"),
        (
            {"TITANIC_DB_MASTER_USER": "", "TITANIC_DB_MASTER_PASSWORD": ""},
            "TITANIC_DB_MASTER_SECRET_ID, or TITANIC_DB_MASTER_USER and "
            "TITANIC_DB_MASTER_PASSWORD, is required",
        ),
        (
            {"TITANIC_DB_MASTER_SECRET_ID": "rds!db"},
            "set TITANIC_DB_MASTER_SECRET_ID, or TITANIC_DB_MASTER_USER and "
            "TITANIC_DB_MASTER_PASSWORD, not both",
        ),
        (
            {"TITANIC_DB_MASTER_PASSWORD": ""},
            "TITANIC_DB_MASTER_PASSWORD is required with TITANIC_DB_MASTER_USER",
        ),
        (
            {"POSTGRES_USER": "", "POSTGRES_PASSWORD": ""},
            "TITANIC_DB_LOGIN_SECRET_ID, or POSTGRES_USER and POSTGRES_PASSWORD, is required",
        ),
        ({"POSTGRES_USER": ""}, "POSTGRES_USER is required with POSTGRES_PASSWORD"),
        ({"POSTGRES_PORT": "0"}, "POSTGRES_PORT must be an integer 1-65535, got '0'"),
        ({"POSTGRES_SSLMODE": "sometimes"}, "POSTGRES_SSLMODE must be one of disable, allow"),
        (
            {"POSTGRES_SSLROOTCERT": ""},
            "POSTGRES_SSLROOTCERT (the CA bundle of the database server) is required when "
            "POSTGRES_SSLMODE is verify-full",
        ),
        (
            {"POSTGRES_SSLROOTCERT": "/nonexistent/ca.crt"},
            "POSTGRES_SSLROOTCERT '/nonexistent/ca.crt' cannot be read: No such file or directory",
        ),
        ({"POSTGRES_USER": PG_USER}, "the API's login must not be the master user"),
        (
            {"TITANIC_DB_MASTER_USER": "admin", "POSTGRES_USER": "pg_monitor"},
            "'pg_monitor' is reserved, not an API login",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(tls_pg, names, changes, message):
    database, login = names
    proc = run_bootstrap(bootstrap_env(tls_pg, database, login, **changes))
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"titanic-api: configuration error: {message}")
    # Nothing was created.
    assert not master_sql(tls_pg, "SELECT 1 FROM pg_roles WHERE rolname = %s", (login,))


def test_a_wrong_master_password_exits_1_without_printing_it(tls_pg, names):
    database, login = names
    proc = run_bootstrap(
        bootstrap_env(tls_pg, database, login, TITANIC_DB_MASTER_PASSWORD=LOGIN_PASSWORD)
    )
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        f"titanic-api: bootstrap failed: cannot connect to 127.0.0.1:{tls_pg[0].port}/postgres as "
        f'{PG_USER}: connection to server at "127.0.0.1", port {tls_pg[0].port} failed: FATAL:  '
        f'password authentication failed for user "{PG_USER}"'
    )
