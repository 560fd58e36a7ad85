"""``titanic-api db bootstrap``: create or update the API's database login (master credentials).

The one step that holds the master credentials (an EKS Job with its own ServiceAccount, or a pod
on the local system). It connects as the master user to POSTGRES_HOST/POSTGRES_PORT, creates the
database POSTGRES_DB when missing, and makes the API's login what the API and its migrations need,
and no more:

* LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS; only the attributes that
  differ are altered (a non-superuser master, as on RDS, may not even name SUPERUSER or
  REPLICATION in ALTER ROLE);
* its password set only when the login cannot log in with it, sent as a verifier computed here
  (SCRAM), so the clear password is in no statement and no server log;
* CONNECT on the database (owned by the master user, not the login), USAGE and CREATE on schema
  public (migrations create tables), and PUBLIC's CREATE on public revoked.

Inputs (environment): POSTGRES_HOST, POSTGRES_PORT, POSTGRES_DB, POSTGRES_SSLMODE,
POSTGRES_SSLROOTCERT, TITANIC_DB_CONNECT_TIMEOUT; the master credentials from
TITANIC_DB_MASTER_SECRET_ID (a Secrets Manager secret, JSON with username and password, as RDS
manages it) or TITANIC_DB_MASTER_USER and TITANIC_DB_MASTER_PASSWORD; the API's login from
TITANIC_DB_LOGIN_SECRET_ID or POSTGRES_USER and POSTGRES_PASSWORD. Secrets are read with botocore
and its default credential chain (IRSA's web identity included; AWS_REGION and AWS_ENDPOINT_URL
honoured), imported only when a secret id is given.

Prints one JSON line ``{"login", "database", "changed", "actions"}`` and exits 0; a configuration
error exits 2 and any other failure 1, with one line on stderr. No password is ever printed.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from .settings import ConfigError, _int, _required, database_ssl_from_env

# Where the master user connects to create the API's database: it exists on RDS and on every initdb.
MAINTENANCE_DB = "postgres"
# Serialises concurrent bootstraps (two Jobs, a Job and an operator): CREATE ROLE would race.
ADVISORY_LOCK_KEY = 0x7469_7461_6E69_6301  # "titanic\x01"
# The login's attributes in pg_roles and the value the API's login must have.
LOGIN_ATTRIBUTES = {
    "rolcanlogin": ("LOGIN", True),
    "rolsuper": ("SUPERUSER", False),
    "rolcreatedb": ("CREATEDB", False),
    "rolcreaterole": ("CREATEROLE", False),
    "rolreplication": ("REPLICATION", False),
    "rolbypassrls": ("BYPASSRLS", False),
}


class BootstrapError(Exception):
    """The bootstrap could not be done (database unreachable, a secret unreadable, ...): exit 1."""


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class BootstrapConfig:
    host: str
    port: int
    database: str
    sslmode: str
    sslrootcert: str | None
    connect_timeout: int
    master_secret_id: str | None
    master: Credentials | None
    login_secret_id: str | None
    login: Credentials | None

    def connect_kwargs(self, credentials: Credentials, database: str) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "dbname": database,
            "user": credentials.username,
            "password": credentials.password,
            "sslmode": self.sslmode,
            "connect_timeout": self.connect_timeout,
            "application_name": "titanic-api db bootstrap",
        }
        if self.sslrootcert:
            kwargs["sslrootcert"] = self.sslrootcert
        return kwargs


@dataclass
class Result:
    login: str
    database: str
    actions: list[str] = field(default_factory=list)

    def as_json(self) -> str:
        return json.dumps(
            {
                "login": self.login,
                "database": self.database,
                "changed": bool(self.actions),
                "actions": self.actions,
            }
        )


# -- configuration -------------------------------------------------------------------------------
def _optional(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _credentials_from_env(
    env: Mapping[str, str], secret_var: str, user_var: str, password_var: str
) -> tuple[str | None, Credentials | None]:
    """Either a secret id or a user and password from the environment, never both nor neither."""
    secret_id = _optional(env, secret_var)
    user = _optional(env, user_var)
    password = env.get(password_var, "")
    if secret_id and (user or password):
        raise ConfigError(
            secret_var, f"set {secret_var}, or {user_var} and {password_var}, not both"
        )
    if secret_id:
        return secret_id, None
    if not user and not password:
        raise ConfigError(
            secret_var, f"{secret_var}, or {user_var} and {password_var}, is required"
        )
    user = _required(env, user_var, f" with {password_var}").strip()
    password = _required(env, password_var, f" with {user_var}")
    return None, Credentials(user, password)


def load_config(env: Mapping[str, str] | None = None) -> BootstrapConfig:
    """Read and check the inputs. Raises :class:`ConfigError` on the first bad one."""
    if env is None:
        env = os.environ
    database = _required(env, "POSTGRES_DB").strip()
    host = _optional(env, "POSTGRES_HOST") or "localhost"
    port = _int(env, "POSTGRES_PORT", 5432, 1, 65535)
    # The TLS options as the API reads them; neither set: prefer, whatever PGSSLMODE says.
    ssl = database_ssl_from_env(env)
    connect_timeout = _int(env, "TITANIC_DB_CONNECT_TIMEOUT", 5, 1, 60)
    master_secret_id, master = _credentials_from_env(
        env, "TITANIC_DB_MASTER_SECRET_ID", "TITANIC_DB_MASTER_USER", "TITANIC_DB_MASTER_PASSWORD"
    )
    login_secret_id, login = _credentials_from_env(
        env, "TITANIC_DB_LOGIN_SECRET_ID", "POSTGRES_USER", "POSTGRES_PASSWORD"
    )
    return BootstrapConfig(
        host=host,
        port=port,
        database=database,
        sslmode=ssl.get("sslmode", "prefer"),
        sslrootcert=ssl.get("sslrootcert"),
        connect_timeout=connect_timeout,
        master_secret_id=master_secret_id,
        master=master,
        login_secret_id=login_secret_id,
        login=login,
    )


# -- secrets -------------------------------------------------------------------------------------
def read_secret(secret_id: str, setting: str, env: Mapping[str, str] | None = None) -> Credentials:
    """Username and password of a Secrets Manager secret (JSON, as RDS writes its master secret)."""
    if env is None:
        env = os.environ
    import botocore.session  # only here: the API itself never talks to AWS
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError, NoRegionError

    try:
        client = botocore.session.get_session().create_client(
            "secretsmanager",
            region_name=_optional(env, "AWS_REGION") or _optional(env, "AWS_DEFAULT_REGION"),
            endpoint_url=_optional(env, "AWS_ENDPOINT_URL"),
            config=Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 3}),
        )
        response = client.get_secret_value(SecretId=secret_id)
    except NoRegionError:
        raise ConfigError("AWS_REGION", f"AWS_REGION is required with {setting}") from None
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        raise BootstrapError(f"cannot read secret {secret_id} ({setting}): {code}") from None
    except BotoCoreError as exc:
        raise BootstrapError(f"cannot read secret {secret_id} ({setting}): {exc}") from None
    try:
        data = json.loads(response.get("SecretString") or "")
    except ValueError:
        # Never echo the value: it is a secret, whatever shape it has.
        raise ConfigError(setting, f"secret {secret_id} ({setting}) is not JSON") from None
    if not isinstance(data, dict) or not all(
        isinstance(data.get(key), str) and data[key].strip() for key in ("username", "password")
    ):
        raise ConfigError(
            setting, f"secret {secret_id} ({setting}) needs a non-empty username and password"
        )
    return Credentials(data["username"].strip(), data["password"])


def resolve_credentials(
    config: BootstrapConfig, env: Mapping[str, str] | None = None
) -> tuple[Credentials, Credentials]:
    """The master's and the login's credentials, from the environment or Secrets Manager."""
    master = config.master or read_secret(
        config.master_secret_id or "", "TITANIC_DB_MASTER_SECRET_ID", env
    )
    login = config.login or read_secret(
        config.login_secret_id or "", "TITANIC_DB_LOGIN_SECRET_ID", env
    )
    if login.username == master.username:
        raise ConfigError("POSTGRES_USER", "the API's login must not be the master user")
    if login.username.startswith("pg_") or login.username in ("postgres", "public"):
        raise ConfigError("POSTGRES_USER", f"{login.username!r} is reserved, not an API login")
    return master, login


# -- the database --------------------------------------------------------------------------------
def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _connect(config: BootstrapConfig, credentials: Credentials, database: str):
    try:
        conn = psycopg2.connect(**config.connect_kwargs(credentials, database))
    except psycopg2.OperationalError as exc:
        raise BootstrapError(
            f"cannot connect to {config.host}:{config.port}/{database} as "
            f"{credentials.username}: {_first_line(exc)}"
        ) from None
    conn.autocommit = True
    return conn


def _one(cur, statement, params: tuple = ()) -> Any:
    cur.execute(statement, params)
    row = cur.fetchone()
    return row[0] if row else None


def _ensure_database(cur, database: str, result: Result) -> None:
    if _one(cur, "SELECT 1 FROM pg_database WHERE datname = %s", (database,)):
        return
    cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    result.actions.append(f"created database {database}")


def _ensure_login(cur, login: Credentials, result: Result) -> bool:
    """Create the login or correct its attributes. True when it was created (with its password)."""
    cur.execute(
        f"SELECT {', '.join(LOGIN_ATTRIBUTES)} FROM pg_roles WHERE rolname = %s",  # noqa: S608
        (login.username,),
    )
    row = cur.fetchone()
    name = sql.Identifier(login.username)
    if row is None:
        options = " ".join(
            keyword if wanted else f"NO{keyword}" for keyword, wanted in LOGIN_ATTRIBUTES.values()
        )
        verifier = psycopg2.extensions.encrypt_password(
            login.password, login.username, cur.connection
        )
        cur.execute(
            sql.SQL("CREATE ROLE {} " + options + " PASSWORD {}").format(
                name, sql.Literal(verifier)
            )
        )
        result.actions.append(f"created login {login.username} ({options})")
        return True
    wrong = [
        keyword if wanted else f"NO{keyword}"
        for (keyword, wanted), current in zip(LOGIN_ATTRIBUTES.values(), row, strict=True)
        if current != wanted
    ]
    if wrong:
        cur.execute(sql.SQL("ALTER ROLE {} " + " ".join(wrong)).format(name))
        result.actions.append(f"set {' '.join(wrong)} on login {login.username}")
    return False


def _has_privilege(cur, acl_sql: str, key: str, grantee_oid: int, privilege: str) -> bool:
    """Whether ``grantee_oid`` (0: PUBLIC) holds ``privilege`` directly in the object's ACL."""
    return bool(
        _one(
            cur,
            f"SELECT EXISTS (SELECT 1 FROM {acl_sql}, aclexplode(acl) a"  # noqa: S608
            " WHERE a.grantee = %s AND a.privilege_type = %s)",
            (key, grantee_oid, privilege),
        )
    )


DATABASE_ACL = (
    "(SELECT coalesce(datacl, acldefault('d', datdba)) AS acl FROM pg_database"
    " WHERE datname = %s) o"
)
SCHEMA_ACL = (
    "(SELECT coalesce(nspacl, acldefault('n', nspowner)) AS acl FROM pg_namespace"
    " WHERE nspname = %s) o"
)


def _ensure_database_grants(cur, database: str, login: str, result: Result) -> None:
    oid = _one(cur, "SELECT oid FROM pg_roles WHERE rolname = %s", (login,))
    owner = _one(
        cur,
        "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s",
        (database,),
    )
    if owner == login:
        # An owner may drop the database and grant on it: the master keeps that (data directories of
        # earlier local systems had the login own it).
        cur.execute(
            sql.SQL("ALTER DATABASE {} OWNER TO CURRENT_USER").format(sql.Identifier(database))
        )
        result.actions.append(f"database {database} owned by the master user, not {login}")
    if not _has_privilege(cur, DATABASE_ACL, database, oid, "CONNECT"):
        cur.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                sql.Identifier(database), sql.Identifier(login)
            )
        )
        result.actions.append(f"granted CONNECT on database {database}")


def _ensure_schema_grants(cur, login: str, result: Result) -> None:
    oid = _one(cur, "SELECT oid FROM pg_roles WHERE rolname = %s", (login,))
    missing = [
        privilege
        for privilege in ("USAGE", "CREATE")
        if not _has_privilege(cur, SCHEMA_ACL, "public", oid, privilege)
    ]
    if missing:
        cur.execute(
            sql.SQL("GRANT " + ", ".join(missing) + " ON SCHEMA public TO {}").format(
                sql.Identifier(login)
            )
        )
        result.actions.append(f"granted {', '.join(missing)} on schema public")
    if _has_privilege(cur, SCHEMA_ACL, "public", 0, "CREATE"):
        cur.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        result.actions.append("revoked CREATE on schema public from PUBLIC")


def _login_works(config: BootstrapConfig, login: Credentials) -> str | None:
    """None when the login logs in to the database with its password, else why not."""
    try:
        psycopg2.connect(**config.connect_kwargs(login, config.database)).close()
    except psycopg2.OperationalError as exc:
        return _first_line(exc)
    return None


def _set_password(cur, login: Credentials, result: Result) -> None:
    verifier = psycopg2.extensions.encrypt_password(login.password, login.username, cur.connection)
    cur.execute(
        sql.SQL("ALTER ROLE {} PASSWORD {}").format(
            sql.Identifier(login.username), sql.Literal(verifier)
        )
    )
    result.actions.append(f"set the password of login {login.username}")


def bootstrap(config: BootstrapConfig, master: Credentials, login: Credentials) -> Result:
    """Converge the database and the login; every change made is named in ``Result.actions``."""
    result = Result(login=login.username, database=config.database)
    admin = _connect(config, master, MAINTENANCE_DB)
    try:
        with admin.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
            _ensure_database(cur, config.database, result)
            created = _ensure_login(cur, login, result)
            _ensure_database_grants(cur, config.database, login.username, result)
            target = _connect(config, master, config.database)
            try:
                with target.cursor() as target_cur:
                    _ensure_schema_grants(target_cur, login.username, result)
            finally:
                target.close()
            if not created and _login_works(config, login) is not None:
                _set_password(cur, login, result)
            failure = _login_works(config, login)
            if failure is not None:
                raise BootstrapError(
                    f"login {login.username} cannot log in to {config.database} after the "
                    f"bootstrap: {failure}"
                )
    except psycopg2.Error as exc:
        raise BootstrapError(f"database error: {_first_line(exc)}") from None
    finally:
        admin.close()
    return result


def main(env: Mapping[str, str] | None = None) -> int:
    """``titanic-api db bootstrap``: 0 done (JSON line on stdout), 1 failed, 2 bad input."""
    from .cli import PROG

    try:
        config = load_config(env)
        master, login = resolve_credentials(config, env)
        result = bootstrap(config, master, login)
    except ConfigError as exc:
        print(f"{PROG}: configuration error: {exc}", file=sys.stderr)
        return 2
    except BootstrapError as exc:
        print(f"{PROG}: bootstrap failed: {exc}", file=sys.stderr)
        return 1
    print(result.as_json(), flush=True)
    return 0
