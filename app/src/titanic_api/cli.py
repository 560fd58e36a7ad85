"""The ``titanic-api`` command line.

    titanic-api db upgrade      apply pending schema migrations (safe to run concurrently)
    titanic-api db seed         load the packaged passengers (idempotent)
    titanic-api db check        exit 0 if the database answers and its schema is current
    titanic-api db bootstrap    create or update the API's database login (master credentials)
    titanic-api serve [--host H] [--port P]
    titanic-api --version

Exit codes: 0 success, 1 runtime failure (database unreachable, schema not current),
2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from . import __version__
from .settings import ConfigError, Settings, load_settings

PROG = "titanic-api"


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer 1-65535, got {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be an integer 1-65535, got {text!r}")
    return value


def _host(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text.strip()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="The Titanic passengers API (Flask on PostgreSQL)."
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = commands.add_parser("db", help="database administration")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply pending schema migrations")
    db_commands.add_parser("seed", help="load the packaged passengers (idempotent)")
    db_commands.add_parser("check", help="exit 0 if the database is reachable and current")
    db_commands.add_parser("bootstrap", help="create or update the API's login (master user)")

    serve = commands.add_parser("serve", help="serve HTTP with gunicorn")
    serve.add_argument("--host", type=_host, help="address to bind (default: $TITANIC_HOST)")
    serve.add_argument("--port", type=_port, help="port to bind (default: $TITANIC_PORT)")
    return parser


def _fail(message: str, code: int = 1) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return code


def _db_command(action: str, settings: Settings) -> int:
    import psycopg2

    from . import migrations, seed
    from .db import DatabaseUnavailable, connect_direct

    try:
        conn = connect_direct(
            settings.database_dsn, settings.db_connect_timeout, settings.database_previous_dsn
        )
    except DatabaseUnavailable as exc:
        return _fail(f"database unavailable: {exc}")
    try:
        migrations.limit_session(
            conn,
            lock_timeout_ms=settings.migration_lock_timeout_ms,
            statement_timeout_ms=settings.migration_statement_timeout_ms,
        )
        if action == "upgrade":
            applied = migrations.upgrade(conn)
            if applied:
                names = ", ".join(f"{m.version}_{m.name}" for m in applied)
                print(f"applied {len(applied)} migration(s): {names}")
            else:
                print(f"schema is current (version {migrations.latest_version()})")
            return 0
        if action == "seed":
            if migrations.pending(conn):
                return _fail("schema is not current; run 'titanic-api db upgrade' first")
            added = seed.seed(conn)
            print(f"seeded {added} passenger(s)")
            return 0
        # check
        todo = migrations.pending(conn)
        if todo:
            names = ", ".join(f"{m.version}_{m.name}" for m in todo)
            return _fail(f"schema is not current: pending migration(s) {names}")
        print(f"ok: database reachable, schema current (version {migrations.latest_version()})")
        return 0
    except psycopg2.errors.LockNotAvailable:
        return _fail(
            f"db {action}: a table lock was not granted within TITANIC_MIGRATION_LOCK_TIMEOUT_MS "
            f"({settings.migration_lock_timeout_ms} ms): another session holds it (a long "
            "transaction?); nothing was changed, run it again once that session is done"
        )
    except psycopg2.errors.QueryCanceled:
        return _fail(
            f"db {action}: a statement ran longer than TITANIC_MIGRATION_STATEMENT_TIMEOUT_MS "
            f"({settings.migration_statement_timeout_ms} ms) and was cancelled; nothing was "
            "changed"
        )
    except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
        return _fail(f"database unavailable: {str(exc).strip().splitlines()[0]}")
    except psycopg2.Error as exc:
        return _fail(f"database error: {str(exc).strip().splitlines()[0]}")
    finally:
        conn.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "db" and args.db_command == "bootstrap":
        # Its own inputs (the master's credentials), not the API's settings.
        from .dblogin import main as bootstrap

        return bootstrap()
    try:
        settings = load_settings()
    except ConfigError as exc:
        return _fail(f"configuration error: {exc}", 2)

    if args.command == "db":
        return _db_command(args.db_command, settings)

    # serve: flags override the environment; workers re-read it, so keep both in step.
    overrides = {}
    if args.host is not None:
        overrides["host"] = args.host
        os.environ["TITANIC_HOST"] = args.host
    if args.port is not None:
        overrides["port"] = args.port
        os.environ["TITANIC_PORT"] = str(args.port)
    settings = settings.with_overrides(**overrides)

    from .server import serve

    serve(settings)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
