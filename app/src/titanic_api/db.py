"""A small thread-safe psycopg2 connection pool.

* Connections are opened lazily (the service starts and answers /healthz while the database is
  down) and at most ``maxconn`` exist per process.
* A connection that raised a connection-level error is closed and discarded, never returned; all
  idle connections are dropped with it (the server most likely restarted), so the service
  recovers by itself as soon as the database answers again.
* A statement the server aborts on a healthy session (statement or lock timeout, deadlock,
  serialization failure) is not a lost connection, although psycopg2 raises it as an
  ``OperationalError`` too: the statement is rolled back, the connection goes back to the pool,
  nothing is run a second time, and :class:`StatementAborted` tells the caller.
* When the server refuses the password, the previous one (``previous_dsn``) is tried: the
  credentials can then be rotated in the secret store and the pods rolled before the database
  changes. The password that worked last is tried first.
* Every connection gets a short ``connect_timeout`` and a ``statement_timeout``.
* Pooled connections are in autocommit mode: each statement is its own transaction, committed
  when ``execute`` returns (before any response is sent), and a read costs one round trip
  instead of three (BEGIN, SELECT, COMMIT). Work that needs several statements in one
  transaction uses :meth:`Database.transaction`.
* Hot reads run as server-side prepared statements (:class:`Prepared`), prepared on each
  connection when first used there: PostgreSQL then skips parsing and planning, about half of
  its CPU per primary-key read. Preparing lazily means a connection opened before the
  migrations ran still works once they have. (Not for a transaction-pooling PgBouncer, which
  does not keep session state.)
* Checking a connection out and in is one lock each and no system call beyond a zero-timeout
  ``poll``: it runs on every request.
"""

from __future__ import annotations

import contextlib
import logging
import select
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg2
import psycopg2.errors
import psycopg2.extensions

from . import metrics

log = logging.getLogger(__name__)

T = TypeVar("T")

# Errors after which a connection cannot be trusted any more.
CONNECTION_ERRORS = (psycopg2.OperationalError, psycopg2.InterfaceError)
# OperationalErrors the server raises on a healthy session: the statement (and its transaction)
# failed, the connection did not.
ABORTED_STATEMENT_ERRORS = (
    psycopg2.errors.QueryCanceled,  # 57014: statement_timeout, pg_cancel_backend
    psycopg2.errors.TransactionRollbackError,  # class 40: 40001 serialization, 40P01 deadlock
    psycopg2.errors.LockNotAvailable,  # 55P03: lock_timeout, NOWAIT
)
REFUSED_LOGIN_SQLSTATE = "28P01"
REPORT_INTERVAL_S = 1.0


class DatabaseUnavailable(Exception):
    """The database cannot be reached (or did not answer in time)."""


class StatementAborted(DatabaseUnavailable):
    """The server aborted the statement (timeout, deadlock, lock or serialization conflict) and
    rolled it back; the connection is fine. ``sqlstate`` says which."""

    def __init__(self, message: str, sqlstate: str | None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def statement_aborted(exc: BaseException, conn: psycopg2.extensions.connection) -> bool:
    """True if ``exc`` aborted a statement on ``conn`` and left the connection usable."""
    return isinstance(exc, ABORTED_STATEMENT_ERRORS) and conn.closed == 0


def _aborted(exc: psycopg2.Error) -> StatementAborted:
    log.warning("database aborted a statement (%s): %s", exc.pgcode, _first_line(exc))
    return StatementAborted(_first_line(exc), exc.pgcode)


def password_refused(exc: psycopg2.Error) -> bool:
    """True if the server refused the login's password (SQLSTATE 28P01). libpq hands a failed
    connection's SQLSTATE to no one, so the server's (untranslated) message is matched too."""
    return exc.pgcode == REFUSED_LOGIN_SQLSTATE or "password authentication failed" in str(exc)


def connect_with_fallback(
    dsn: str, previous_dsn: str | None, *, previous_first: bool = False, **kwargs: Any
) -> tuple[psycopg2.extensions.connection, bool]:
    """Connect with ``dsn``, or with ``previous_dsn`` (the previous password) when the server
    refuses the password. Returns the connection and whether it used ``previous_dsn``.
    Raises psycopg2's errors, those of the last attempt."""
    attempts = [(dsn, False), (previous_dsn, True)]
    if previous_first:
        attempts.reverse()
    attempts = [(d, used) for d, used in attempts if d is not None]
    for position, (target, used_previous) in enumerate(attempts, start=1):
        try:
            return psycopg2.connect(target, **kwargs), used_previous
        except psycopg2.OperationalError as exc:
            if position == len(attempts) or not password_refused(exc):
                raise
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


class Connection(psycopg2.extensions.connection):
    """A pooled connection: remembers the statements prepared on it and keeps one cursor."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prepared: set[str] = set()
        self._cursor: psycopg2.extensions.cursor | None = None
        # Registered once: checking an idle connection is then a single poll(2).
        self.poller = select.poll()
        self.poller.register(self.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)

    def shared_cursor(self) -> psycopg2.extensions.cursor:
        """The connection's cursor, reused across checkouts (only one thread holds it)."""
        cur = self._cursor
        if cur is None or cur.closed:
            cur = self._cursor = self.cursor()
        return cur


class Prepared:
    """A read that PostgreSQL keeps parsed and planned for the session: ``PREPARE`` runs on a
    connection the first time the statement is used there."""

    __slots__ = ("execute_sql", "name", "prepare_sql")

    def __init__(self, name: str, sql: str, param_types: tuple[str, ...] = ()) -> None:
        types = f"({', '.join(param_types)})" if param_types else ""
        args = f"({', '.join(['%s'] * len(param_types))})" if param_types else ""
        self.name = name
        self.prepare_sql = f"PREPARE {name}{types} AS {sql}"
        self.execute_sql = f"EXECUTE {name}{args}"

    def execute(self, cur: psycopg2.extensions.cursor, params: tuple = ()) -> None:
        prepared: set[str] = cur.connection.prepared
        if self.name not in prepared:
            # Fails like the plain statement would (e.g. no table before the migrations);
            # autocommit leaves nothing to roll back, and the next use tries again.
            cur.execute(self.prepare_sql)
            prepared.add(self.name)
        try:
            cur.execute(self.execute_sql, params)
        except CONNECTION_ERRORS:
            raise
        except psycopg2.errors.FeatureNotSupported:
            # "cached plan must not change result type": a migration changed a column's type.
            # Prepare it afresh, once.
            if not self._forget(cur):
                raise
            cur.execute(self.prepare_sql)
            prepared.add(self.name)
            cur.execute(self.execute_sql, params)
        except psycopg2.Error:
            # Any other failure: prepare it afresh next time rather than fail on and on.
            self._forget(cur)
            raise

    def _forget(self, cur: psycopg2.extensions.cursor) -> bool:
        if cur.connection.get_transaction_status() != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
            return False
        try:
            cur.execute(f"DEALLOCATE {self.name}")
        except psycopg2.Error:
            return False
        cur.connection.prepared.discard(self.name)
        return True


class Database:
    def __init__(
        self,
        dsn: str,
        *,
        minconn: int = 1,
        maxconn: int = 4,
        connect_timeout: int = 3,
        statement_timeout_ms: int = 5000,
        acquire_timeout: float | None = None,
        application_name: str = "titanic-api",
        previous_dsn: str | None = None,
    ) -> None:
        if maxconn < 1 or minconn < 0 or minconn > maxconn:
            raise ValueError("invalid pool bounds")
        self.dsn = dsn
        self.previous_dsn = previous_dsn
        self._previous_first = False  # the previous password is the one that worked last
        self.minconn = minconn
        self.maxconn = maxconn
        self.connect_kwargs: dict[str, Any] = {
            "connection_factory": Connection,
            "connect_timeout": connect_timeout,
            "application_name": application_name,
            "options": f"-c statement_timeout={int(statement_timeout_ms)}",
            # Detect a dead peer reasonably fast on otherwise idle connections.
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 3,
        }
        self.acquire_timeout = (
            acquire_timeout if acquire_timeout is not None else float(connect_timeout) + 2.0
        )
        # One lock guards the counts and the idle list; threads wait on the condition only
        # when all ``maxconn`` connections are checked out.
        self._lock = threading.Lock()
        self._freed = threading.Condition(self._lock)
        self._waiting = 0
        self._idle: list[Connection] = []
        self._in_use = 0  # checked out, or being opened
        self._closed = False
        self._reported_at = 0.0
        self._reported: tuple[int, int] | None = None
        metrics.set_pool_max(maxconn)
        self._report()

    # -- bookkeeping -------------------------------------------------------------------------
    def _report(self) -> None:
        # Called with the lock held. Each gauge write is a file write in multiprocess mode: write
        # only what changed, while busy at most once a second, and always when the pool comes to
        # rest, so the resting value is exact (and a steady load that keeps coming back to the
        # same resting state writes nothing at all).
        state = (self._in_use, len(self._idle))
        if state == self._reported:
            return
        now = time.monotonic()
        if state[0] and now - self._reported_at < REPORT_INTERVAL_S:
            return
        self._reported_at = now
        self._reported = state
        metrics.set_pool_gauges(in_use=state[0], idle=state[1])

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"in_use": self._in_use, "idle": len(self._idle), "max": self.maxconn}

    def _connect(self) -> Connection:
        try:
            conn, used_previous = connect_with_fallback(
                self.dsn,
                self.previous_dsn,
                previous_first=self._previous_first,
                **self.connect_kwargs,
            )
            conn.autocommit = True
        except CONNECTION_ERRORS as exc:
            log.warning("database connection failed: %s", _first_line(exc))
            raise DatabaseUnavailable("database unreachable") from exc
        if used_previous != self._previous_first:
            self._previous_first = used_previous
            if used_previous:
                log.warning(
                    "the database refused POSTGRES_PASSWORD; logged in with "
                    "POSTGRES_PASSWORD_PREVIOUS (a credential rotation in progress?)"
                )
            else:
                log.info("the database accepts POSTGRES_PASSWORD again")
        return conn

    def warm(self) -> None:
        """Open ``minconn`` connections now; errors are ignored (connections are lazy anyway)."""
        try:
            conns = []
            for _ in range(self.minconn):
                with self._lock:
                    if len(self._idle) + self._in_use + len(conns) >= self.minconn:
                        break
                conns.append(self._connect())
            with self._lock:
                # never more than maxconn, even if requests opened some meanwhile
                room = self.maxconn - self._in_use - len(self._idle)
                keep, extra = conns[: max(room, 0)], conns[max(room, 0) :]
                self._idle.extend(keep)
                self._report()
                if keep and self._waiting:
                    self._freed.notify(len(keep))
            for c in extra:
                _close_quietly(c)
        except DatabaseUnavailable:
            pass

    # -- acquire / release -------------------------------------------------------------------
    def getconn(self, *, check: bool = True) -> tuple[Connection, bool]:
        """Return ``(connection, reused)``. Raises :class:`DatabaseUnavailable`.

        ``check`` polls an idle connection's socket first (see ``_peer_has_spoken``). Idempotent
        reads skip it: they are retried on a fresh connection anyway, and the poll is a system
        call that also hands the GIL to another thread of the worker.
        """
        dead: list[Connection] = []
        deadline = None
        try:
            with self._lock:
                while True:
                    if self._closed:
                        raise DatabaseUnavailable("pool closed")
                    if self._idle:
                        conn = self._idle.pop()
                        if conn.closed or (check and _peer_has_spoken(conn)):
                            dead.append(conn)
                            continue
                        self._in_use += 1
                        self._report()
                        return conn, True
                    # no idle connection: every existing one is counted in _in_use
                    if self._in_use < self.maxconn:
                        self._in_use += 1  # reserved for the connection opened below
                        self._report()
                        break
                    now = time.monotonic()
                    if deadline is None:
                        deadline = now + self.acquire_timeout
                    if now >= deadline:
                        raise DatabaseUnavailable("no database connection available in time")
                    self._waiting += 1
                    try:
                        self._freed.wait(deadline - now)
                    finally:
                        self._waiting -= 1
        finally:
            for c in dead:
                _close_quietly(c)
        try:
            return self._connect(), False
        except BaseException:
            self._release_slot()
            raise

    def _release_slot(self) -> None:
        with self._lock:
            self._in_use -= 1
            self._report()
            if self._waiting:
                self._freed.notify()

    def putconn(self, conn: Connection, *, broken: bool = False) -> None:
        keep = False
        if not broken and not conn.closed and not self._closed:
            status = conn.get_transaction_status()
            if status == psycopg2.extensions.TRANSACTION_STATUS_IDLE:
                keep = True
            elif status in (
                psycopg2.extensions.TRANSACTION_STATUS_INTRANS,
                psycopg2.extensions.TRANSACTION_STATUS_INERROR,
            ):
                try:
                    conn.rollback()
                    keep = True
                except CONNECTION_ERRORS:
                    keep = False
        stale: list[Connection] = []
        with self._lock:
            self._in_use -= 1
            if keep:
                self._idle.append(conn)
            elif broken:
                # The server probably went away: every idle connection is suspect.
                stale, self._idle = self._idle, []
            self._report()
            if self._waiting:
                self._freed.notify()
        if not keep:
            _close_quietly(conn)
        for c in stale:
            _close_quietly(c)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            self._report()
            self._freed.notify_all()
        for c in idle:
            _close_quietly(c)

    # -- helpers -----------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """A cursor inside one explicit transaction: committed on success, else rolled back."""
        conn, _ = self.getconn()
        broken = False
        try:
            conn.autocommit = False
            with conn.cursor() as cur:
                yield cur
            conn.commit()
        except CONNECTION_ERRORS as exc:
            if not statement_aborted(exc, conn):
                broken = True
                raise DatabaseUnavailable(_first_line(exc)) from exc
            try:
                conn.rollback()
            except CONNECTION_ERRORS:
                broken = True
            raise _aborted(exc) from exc
        except BaseException:
            broken = conn.closed != 0
            if not broken:
                try:
                    conn.rollback()
                except CONNECTION_ERRORS:
                    broken = True
            raise
        finally:
            if not broken and not conn.closed:
                try:
                    conn.autocommit = True
                except CONNECTION_ERRORS:
                    broken = True
            self.putconn(conn, broken=broken)

    def run(self, fn: Callable[[Any], T], *, retry: bool = False) -> T:
        """Run ``fn(cursor)`` on a pooled autocommit connection.

        Each statement ``fn`` executes is committed as it completes. With ``retry`` (only for
        idempotent work) a connection failure on a *reused* connection is retried once on a
        fresh one: after a database restart every pooled connection is dead, and a read should
        not fail just because it drew one of them. A statement the server aborted is never
        retried (a timeout would only run again). ``fn`` gets the connection's shared cursor.
        """
        attempts = 2 if retry else 1
        for attempt in range(attempts):
            conn, reused = self.getconn(check=not retry)
            broken = False
            try:
                return fn(conn.shared_cursor())
            except CONNECTION_ERRORS as exc:
                if statement_aborted(exc, conn):
                    raise _aborted(exc) from exc  # putconn rolls back what is left
                broken = True
                if attempt + 1 < attempts and reused:
                    continue
                raise DatabaseUnavailable(_first_line(exc)) from exc
            except BaseException:
                broken = conn.closed != 0
                raise
            finally:
                self.putconn(conn, broken=broken)
        raise DatabaseUnavailable("unreachable")  # pragma: no cover - loop always returns/raises

    def fetchone(self, statement: Prepared, params: tuple = ()) -> tuple | None:
        """The first row of an idempotent prepared read (retried like ``run(..., retry=True)``)."""

        def work(cur: psycopg2.extensions.cursor) -> tuple | None:
            statement.execute(cur, params)
            return cur.fetchone()

        return self.run(work, retry=True)


def _peer_has_spoken(conn: Connection) -> bool:
    """True if an *idle* connection's socket is readable: the server closed it or sent a fatal
    error (restart, admin shutdown, idle timeout). A zero-timeout poll, no round trip: such a
    connection is dropped before a statement (a write, too) is ever sent on it."""
    try:
        return bool(conn.poller.poll(0))
    except (OSError, ValueError):
        return True


def _close_quietly(conn: psycopg2.extensions.connection) -> None:
    with contextlib.suppress(Exception):  # best effort on an already broken connection
        conn.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def connect_direct(
    dsn: str, connect_timeout: int = 3, previous_dsn: str | None = None
) -> psycopg2.extensions.connection:
    """A single connection outside the pool (CLI commands)."""
    try:
        conn, _ = connect_with_fallback(
            dsn, previous_dsn, connect_timeout=connect_timeout, application_name="titanic-cli"
        )
    except CONNECTION_ERRORS as exc:
        raise DatabaseUnavailable(_first_line(exc)) from exc
    return conn
