"""Runtime configuration, read only from environment variables.

Every setting is validated up front; a missing or invalid one raises :class:`ConfigError`
naming the variable, which the CLI turns into a single stderr line and exit code 2.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace

from psycopg2.extensions import make_dsn, parse_dsn

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
MAX_DEFAULT_WORKERS = 8


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
    database_dsn: str
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


def _required(env: Mapping[str, str], name: str, hint: str = "") -> str:
    value = env.get(name, "")
    if value.strip() == "":
        raise ConfigError(name, f"{name} is required{hint}")
    return value


def database_dsn_from_env(env: Mapping[str, str]) -> str:
    """Build a libpq DSN from DATABASE_URL or the POSTGRES_* variables."""
    url = env.get("DATABASE_URL", "").strip()
    if url:
        try:
            parse_dsn(url)
        except Exception:  # psycopg2.ProgrammingError; never echo the value (may hold a password)
            raise ConfigError(
                "DATABASE_URL", "DATABASE_URL is not a valid PostgreSQL URL or DSN"
            ) from None
        return url
    hint = " (or set DATABASE_URL)"
    user = _required(env, "POSTGRES_USER", hint)
    password = _required(env, "POSTGRES_PASSWORD", hint)
    dbname = _required(env, "POSTGRES_DB", hint)
    host = env.get("POSTGRES_HOST", "").strip() or "localhost"
    port = _int(env, "POSTGRES_PORT", 5432, 1, 65535)
    return make_dsn(user=user, password=password, dbname=dbname, host=host, port=port)


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
    )
