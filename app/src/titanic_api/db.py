"""A small thread-safe psycopg2 connection pool.

* Connections are opened lazily (the service starts and answers /healthz while the database is
  down) and at most ``maxconn`` exist per process.
* A connection that raised a connection-level error is closed and discarded, never returned; all
  idle connections are dropped with it (the server most likely restarted), so the service
  recovers by itself as soon as the database answers again.
* Every connection gets a short ``connect_timeout`` and a ``statement_timeout``.
* Pooled connections are in autocommit mode: each statement is its own transaction, committed
  when ``execute`` returns (before any response is sent), and a read costs one round trip
  instead of three (BEGIN, SELECT, COMMIT). Work that needs several statements in one
  transaction uses :meth:`Database.transaction`.
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
import psycopg2.extensions

from . import metrics

log = logging.getLogger(__name__)

T = TypeVar("T")

# Errors after which a connection cannot be trusted any more.
CONNECTION_ERRORS = (psycopg2.OperationalError, psycopg2.InterfaceError)
REPORT_INTERVAL_S = 1.0


class DatabaseUnavailable(Exception):
    """The database cannot be reached (or did not answer in time)."""


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
    ) -> None:
        if maxconn < 1 or minconn < 0 or minconn > maxconn:
            raise ValueError("invalid pool bounds")
        self.dsn = dsn
        self.minconn = minconn
        self.maxconn = maxconn
        self.connect_kwargs: dict[str, Any] = {
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
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(maxconn)
        self._idle: list[psycopg2.extensions.connection] = []
        self._in_use = 0
        self._closed = False
        self._reported_at = 0.0
        metrics.set_pool_max(maxconn)
        self._report()

    # -- bookkeeping -------------------------------------------------------------------------
    def _report(self) -> None:
        # Each gauge write is a file write in multiprocess mode: on the hot path write at most
        # once a second, and always when the pool comes to rest, so the resting value is exact.
        now = time.monotonic()
        if self._in_use and now - self._reported_at < REPORT_INTERVAL_S:
            return
        self._reported_at = now
        metrics.set_pool_gauges(in_use=self._in_use, idle=len(self._idle))

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"in_use": self._in_use, "idle": len(self._idle), "max": self.maxconn}

    def _connect(self) -> psycopg2.extensions.connection:
        try:
            conn = psycopg2.connect(self.dsn, **self.connect_kwargs)
            conn.autocommit = True
            return conn
        except CONNECTION_ERRORS as exc:
            log.warning("database connection failed: %s", _first_line(exc))
            raise DatabaseUnavailable("database unreachable") from exc

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
                self._idle.extend(conns)
                self._report()
        except DatabaseUnavailable:
            pass

    # -- acquire / release -------------------------------------------------------------------
    def getconn(self) -> tuple[psycopg2.extensions.connection, bool]:
        """Return ``(connection, reused)``. Raises :class:`DatabaseUnavailable`."""
        if self._closed:
            raise DatabaseUnavailable("pool closed")
        if not self._slots.acquire(timeout=self.acquire_timeout):
            raise DatabaseUnavailable("no database connection available in time")
        conn = None
        dead: list[psycopg2.extensions.connection] = []
        with self._lock:
            while self._idle:
                candidate = self._idle.pop()
                if candidate.closed or _peer_has_spoken(candidate):
                    dead.append(candidate)
                    continue
                conn = candidate
                break
            self._in_use += 1
            self._report()
        for c in dead:
            _close_quietly(c)
        if conn is not None:
            return conn, True
        try:
            return self._connect(), False
        except BaseException:
            self._release_slot()
            raise

    def _release_slot(self) -> None:
        with self._lock:
            self._in_use -= 1
            self._report()
        self._slots.release()

    def putconn(self, conn: psycopg2.extensions.connection, *, broken: bool = False) -> None:
        keep = False
        if not broken and not conn.closed and not self._closed:
            status = conn.info.transaction_status
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
        stale: list[psycopg2.extensions.connection] = []
        with self._lock:
            self._in_use -= 1
            if keep:
                self._idle.append(conn)
            elif broken:
                # The server probably went away: every idle connection is suspect.
                stale, self._idle = self._idle, []
            self._report()
        self._slots.release()
        if not keep:
            _close_quietly(conn)
        for c in stale:
            _close_quietly(c)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            self._report()
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
            broken = True
            raise DatabaseUnavailable(_first_line(exc)) from exc
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
        not fail just because it drew one of them.
        """
        attempts = 2 if retry else 1
        for attempt in range(attempts):
            conn, reused = self.getconn()
            broken = False
            try:
                with conn.cursor() as cur:
                    return fn(cur)
            except CONNECTION_ERRORS as exc:
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


def _peer_has_spoken(conn: psycopg2.extensions.connection) -> bool:
    """True if an *idle* connection's socket is readable: the server closed it or sent a fatal
    error (restart, admin shutdown, idle timeout). A zero-timeout poll, no round trip: such a
    connection is dropped before a statement (a write, too) is ever sent on it."""
    try:
        poller = select.poll()
        poller.register(conn.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
        return bool(poller.poll(0))
    except (OSError, ValueError, psycopg2.Error):
        return True


def _close_quietly(conn: psycopg2.extensions.connection) -> None:
    with contextlib.suppress(Exception):  # best effort on an already broken connection
        conn.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def connect_direct(dsn: str, connect_timeout: int = 3) -> psycopg2.extensions.connection:
    """A single connection outside the pool (CLI commands)."""
    try:
        return psycopg2.connect(
            dsn, connect_timeout=connect_timeout, application_name="titanic-cli"
        )
    except CONNECTION_ERRORS as exc:
        raise DatabaseUnavailable(_first_line(exc)) from exc
