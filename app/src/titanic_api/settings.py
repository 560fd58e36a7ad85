"""Runtime configuration, read only from environment variables.

Every setting is validated up front; a missing or invalid one raises :class:`ConfigError`
naming the variable, which the CLI turns into a single stderr line and exit code 2.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from psycopg2.extensions import make_dsn, parse_dsn

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
MAX_DEFAULT_WORKERS = 8
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
VERIFYING_SSL_MODES = ("verify-ca", "verify-full")
# RFC 6750 b64token: what a client can send after "Bearer " without quoting.
WRITE_TOKEN_PATTERN = re.compile(r"[A-Za-z0-9._~+/-]+=*")
MIN_WRITE_TOKEN_LENGTH = 16
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


class ConfigError(Exception):
    """A setting is missing or invalid. ``setting`` is the environment variable at fault."""

    def __init__(self, setting: str, message: str) -> None:
        super().__init__(message)
        self.setting = setting
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Settings:
    database_dsn: str = field(repr=False)
    host: str = "0.0.0.0"  # noqa: S104 - a container/VM service listens on all interfaces
    port: int = 8080
    workers: int = 1
    threads: int = 1
    log_level: str = "INFO"
    max_body_bytes: int = 65536
    db_pool_min: int = 1
    db_pool_max: int = 4
    db_connect_timeout: int = 3
    db_statement_timeout_ms: int = 5000
    revision: str = "unknown"
    # The same login with POSTGRES_PASSWORD_PREVIOUS: tried when the password is refused, so
    # that pods rolled with a new password keep working until the database has it too.
    database_previous_dsn: str | None = field(default=None, repr=False)
    # Bearer tokens that writes need; empty: writes are open.
    write_tokens: tuple[str, ...] = field(default=(), repr=False)
    keepalive_seconds: int = 75
    reuse_port: bool = False
    migration_lock_timeout_ms: int = 5000
    migration_statement_timeout_ms: int = 300000

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)


def default_workers() -> int:
    cores = os.cpu_count() or 1
    return max(1, min(2 * cores + 1, MAX_DEFAULT_WORKERS))


def _int(
    env: Mapping[str, str],
    name: str,
    default: int,
    minimum: int,
    maximum: int,
) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    text = raw.strip()
    try:
        if not text.lstrip("+-").isdigit():
            raise ValueError(text)
        value = int(text)
    except ValueError:
        value = None
    if value is None or not minimum <= value <= maximum:
        raise ConfigError(name, f"{name} must be an integer {minimum}-{maximum}, got {raw!r}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "")
    text = raw.strip().lower()
    if text == "":
        return default
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(name, f"{name} must be true or false, got {raw!r}")


def _required(env: Mapping[str, str], name: str, hint: str = "") -> str:
    value = env.get(name, "")
    if value.strip() == "":
        raise ConfigError(name, f"{name} is required{hint}")
    return value


def database_ssl_from_env(env: Mapping[str, str]) -> dict[str, str]:
    """libpq TLS options from POSTGRES_SSLMODE and POSTGRES_SSLROOTCERT (empty when neither is
    set). A verifying mode needs a readable CA bundle: without one libpq would look in the
    home directory of whoever runs the process, which is not a configuration."""
    raw_mode = env.get("POSTGRES_SSLMODE", "")
    root = env.get("POSTGRES_SSLROOTCERT", "").strip()
    if not raw_mode.strip() and not root:
        return {}
    mode = raw_mode.strip().lower() or "prefer"
    if mode not in SSL_MODES:
        raise ConfigError(
            "POSTGRES_SSLMODE",
            f"POSTGRES_SSLMODE must be one of {', '.join(SSL_MODES)}, got {raw_mode!r}",
        )
    options = {"sslmode": mode}
    if not root:
        if mode in VERIFYING_SSL_MODES:
            raise ConfigError(
                "POSTGRES_SSLROOTCERT",
                f"POSTGRES_SSLROOTCERT (the CA bundle of the database server) is required "
                f"when POSTGRES_SSLMODE is {mode}",
            )
        return options
    try:
        bundle = Path(root).read_text(encoding="ascii", errors="replace")
    except OSError as exc:
        raise ConfigError(
            "POSTGRES_SSLROOTCERT",
            f"POSTGRES_SSLROOTCERT {root!r} cannot be read: {exc.strerror or exc}",
        ) from None
    if "-----BEGIN CERTIFICATE-----" not in bundle:
        raise ConfigError(
            "POSTGRES_SSLROOTCERT", f"POSTGRES_SSLROOTCERT {root!r} holds no PEM certificate"
        )
    options["sslrootcert"] = root
    return options


def database_dsn_from_env(env: Mapping[str, str]) -> str:
    """Build a libpq DSN from DATABASE_URL or the POSTGRES_* variables.

    POSTGRES_SSLMODE and POSTGRES_SSLROOTCERT apply to both (set, they win over the URL's own)."""
    ssl = database_ssl_from_env(env)
    url = env.get("DATABASE_URL", "").strip()
    if url:
        try:
            parse_dsn(url)
        except Exception:  # psycopg2.ProgrammingError; never echo the value (may hold a password)
            raise ConfigError(
                "DATABASE_URL", "DATABASE_URL is not a valid PostgreSQL URL or DSN"
            ) from None
        return make_dsn(url, **ssl) if ssl else url
    hint = " (or set DATABASE_URL)"
    user = _required(env, "POSTGRES_USER", hint)
    password = _required(env, "POSTGRES_PASSWORD", hint)
    dbname = _required(env, "POSTGRES_DB", hint)
    host = env.get("POSTGRES_HOST", "").strip() or "localhost"
    port = _int(env, "POSTGRES_PORT", 5432, 1, 65535)
    return make_dsn(user=user, password=password, dbname=dbname, host=host, port=port, **ssl)


def previous_dsn_from_env(env: Mapping[str, str], dsn: str) -> str | None:
    """``dsn`` with POSTGRES_PASSWORD_PREVIOUS as its password, or None when that is unset."""
    previous = env.get("POSTGRES_PASSWORD_PREVIOUS", "")
    if previous.strip() == "":
        return None
    return make_dsn(dsn, password=previous)


def _split_tokens(text: str) -> list[str]:
    return [t.strip() for line in text.splitlines() for t in line.split(",") if t.strip()]


def write_tokens_from_env(env: Mapping[str, str]) -> tuple[str, ...]:
    """The bearer tokens writes need: TITANIC_WRITE_TOKENS (comma-separated) or the file named
    by TITANIC_WRITE_TOKENS_FILE (one per line or comma-separated). Neither set: none, and
    writes are open. A file that holds no token is an error, not open writes."""
    inline = env.get("TITANIC_WRITE_TOKENS", "")
    path = env.get("TITANIC_WRITE_TOKENS_FILE", "").strip()
    if inline.strip() and path:
        raise ConfigError(
            "TITANIC_WRITE_TOKENS",
            "TITANIC_WRITE_TOKENS and TITANIC_WRITE_TOKENS_FILE are both set; set one",
        )
    if path:
        name = "TITANIC_WRITE_TOKENS_FILE"
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise ConfigError(name, f"{name} {path!r} cannot be read: {reason}") from None
        tokens = _split_tokens(text)
        if not tokens:
            raise ConfigError(name, f"{name} {path!r} holds no token")
    else:
        name = "TITANIC_WRITE_TOKENS"
        tokens = _split_tokens(inline)
    for position, token in enumerate(tokens, start=1):
        # Never echo a token: it is a secret, and the message goes to logs.
        if not WRITE_TOKEN_PATTERN.fullmatch(token):
            raise ConfigError(
                name,
                f"{name}: token {position} has characters a bearer token cannot carry "
                "(allowed: letters, digits and -._~+/, then = padding)",
            )
        if len(token) < MIN_WRITE_TOKEN_LENGTH:
            raise ConfigError(
                name,
                f"{name}: token {position} is shorter than {MIN_WRITE_TOKEN_LENGTH} characters",
            )
    return tuple(dict.fromkeys(tokens))


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every setting. Raises :class:`ConfigError` on the first bad one."""
    if env is None:
        env = os.environ
    dsn = database_dsn_from_env(env)
    host = env.get("TITANIC_HOST", "").strip() or "0.0.0.0"  # noqa: S104
    port = _int(env, "TITANIC_PORT", 8080, 1, 65535)
    workers = _int(env, "TITANIC_WORKERS", default_workers(), 1, 64)
    threads = _int(env, "TITANIC_THREADS", 1, 1, 64)
    level = env.get("TITANIC_LOG_LEVEL", "").strip().upper() or "INFO"
    if level not in LOG_LEVELS:
        raise ConfigError(
            "TITANIC_LOG_LEVEL",
            f"TITANIC_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, "
            f"got {env.get('TITANIC_LOG_LEVEL')!r}",
        )
    max_body = _int(env, "TITANIC_MAX_BODY_BYTES", 65536, 1024, 64 * 1024 * 1024)
    pool_max = _int(env, "TITANIC_DB_POOL_MAX", max(2, threads + 1), 1, 100)
    pool_min = _int(env, "TITANIC_DB_POOL_MIN", min(1, pool_max), 0, 100)
    if pool_min > pool_max:
        raise ConfigError(
            "TITANIC_DB_POOL_MIN",
            f"TITANIC_DB_POOL_MIN must be <= TITANIC_DB_POOL_MAX ({pool_max}), got {pool_min}",
        )
    connect_timeout = _int(env, "TITANIC_DB_CONNECT_TIMEOUT", 3, 1, 60)
    statement_timeout = _int(env, "TITANIC_DB_STATEMENT_TIMEOUT_MS", 5000, 100, 600000)
    revision = env.get("TITANIC_REVISION", "").strip() or "unknown"
    keepalive = _int(env, "TITANIC_KEEPALIVE_SECONDS", 75, 1, 3600)
    reuse_port = _bool(env, "TITANIC_REUSE_PORT", False)
    migration_lock_timeout = _int(env, "TITANIC_MIGRATION_LOCK_TIMEOUT_MS", 5000, 100, 3600000)
    migration_statement_timeout = _int(
        env, "TITANIC_MIGRATION_STATEMENT_TIMEOUT_MS", 300000, 1000, 86400000
    )
    return Settings(
        database_dsn=dsn,
        host=host,
        port=port,
        workers=workers,
        threads=threads,
        log_level=level,
        max_body_bytes=max_body,
        db_pool_min=pool_min,
        db_pool_max=pool_max,
        db_connect_timeout=connect_timeout,
        db_statement_timeout_ms=statement_timeout,
        revision=revision,
        database_previous_dsn=previous_dsn_from_env(env, dsn),
        write_tokens=write_tokens_from_env(env),
        keepalive_seconds=keepalive,
        reuse_port=reuse_port,
        migration_lock_timeout_ms=migration_lock_timeout,
        migration_statement_timeout_ms=migration_statement_timeout,
    )
