"""PostgreSQL event store: the same runs and events as the SQLite store, shared across hosts.

``--db postgresql://user@host/dbname`` (or ``$RUNBOOK_DB``); needs ``pip install
'runbook[postgres]'`` (psycopg 3). What it adds to the guarantees of runbook/store/base.py:

* Append-only in the database: statement triggers refuse UPDATE, DELETE and TRUNCATE on runs and
  events. Watchers connect with ``default_transaction_read_only`` on, so the server itself refuses
  their writes.
* Writers of one run are serialised by a transaction-scoped advisory lock on the run (seq is
  max + 1 inside it); ``open_or_create`` takes an advisory lock on the runbook id, so operators on
  different hosts starting together land in one run.
* Every write transaction bumps ``changes.n`` and sends ``NOTIFY runbook_changes, 'n'`` (delivered
  at commit). ``data_version()`` is ``changes.n``. ``wait_for_change`` LISTENs on a connection of
  its own and also polls every second (a dropped listener is a known failure of LISTEN/NOTIFY);
  it checks the listening connection with ``SELECT 1`` and reconnects it when it is dead. The
  notification only wakes the follower: it catches up with ``events(run, after_seq=last_seen)``.
* ``now()`` is the server's ``clock_timestamp()``: event instants come from one clock for every
  host, and each client measures its offset from it.
* A server that restarts or a network that drops: calls raise StoreUnavailable ("unreachable")
  and the next call reconnects by itself. A write whose COMMIT was cut off has an unknown outcome;
  retrying it with the same event id cannot record it twice.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from runbook.store.base import (
    StoreDamaged,
    StoreError,
    StoreUnavailable,
    StoreUninitialised,
    from_us,
)
from runbook.store.migrations import POSTGRES
from runbook.store.sql import SQLStore

try:
    import psycopg
    from psycopg import errors as pg_errors
except ImportError:  # pragma: no cover - exercised only without the extra
    psycopg = None

SCHEMA_VERSION = len(POSTGRES)
CHANNEL = "runbook_changes"
POLL_S = 1.0  # a follower polls at least this often, notification or not
LIVENESS_S = 5.0  # how often an idle listening connection is checked
_T = TypeVar("_T")
_NOW_US = "SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint"


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class PgStore(SQLStore):
    """The event store in the PostgreSQL database at ``url``."""

    newest = "ORDER BY created_at_us DESC, ord DESC"
    newest_r = "ORDER BY r.created_at_us DESC, r.ord DESC"  # the same, runs AS r

    def __init__(self, url: str, *, readonly: bool = False, timeout: float = 10.0,
                 connect_timeout: float = 5.0, migrate: bool = True) -> None:
        if psycopg is None:
            raise StoreError(f"{redact(url)} is a PostgreSQL store, which needs psycopg: "
                             "pip install 'runbook[postgres]'")
        self.url = url
        self.path = redact(url)
        self.readonly = readonly
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._lock = threading.RLock()
        self._conn: Any = None
        self._listener: Any = None
        self._checked = 0.0
        self._closed = False
        self._in_tx = False
        version = self.schema_version()
        if readonly and version == 0:
            raise StoreUninitialised(f"{self.path} is not initialised as a runbook store yet; run "
                             f"`runbook store init --db {self.path}` or start a run first")
        if migrate and not readonly and version < SCHEMA_VERSION:
            self.migrate()

    # -- connections -------------------------------------------------------------------------
    def _connect(self, listen: bool = False) -> Any:
        opts = {"autocommit": True, "connect_timeout": max(1, round(self.connect_timeout)),
                "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2,
                "keepalives_count": 3, "application_name": "runbook"}
        if self.readonly and not listen:
            opts["options"] = "-c default_transaction_read_only=on"
        return psycopg.connect(self.url, **opts)

    def _c(self) -> Any:
        if self._closed:
            raise StoreError(f"store {self.path} is closed; open it again")
        if self._conn is None or self._conn.closed:
            self._conn = self._connect()
        return self._conn

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with suppress(Exception):
                conn.close()

    def _error(self, e: Exception, doing: str, unknown: bool = False) -> StoreError:
        p = self.path
        if isinstance(e, StoreError):
            return e
        if isinstance(e, pg_errors.ReadOnlySqlTransaction):
            return StoreError(f"{p} is open read-only (as a follower), so it cannot {doing}")
        if isinstance(e, pg_errors.InsufficientPrivilege):
            return StoreError(f"{p}: permission denied to {doing} ({_first_line(e)}); ask the "
                              "database owner to grant it or run `runbook store init`")
        if isinstance(e, pg_errors.LockNotAvailable | pg_errors.QueryCanceled):
            return StoreError(f"{p} is busy: another runbook process holds the run for more "
                              f"than {self.timeout:g}s; wait for it or stop it, then retry")
        if isinstance(e, pg_errors.InvalidCatalogName):
            return StoreError(f"{p}: {_first_line(e)}; create the database (createdb) and run "
                              f"`runbook store init --db {p}`")
        if isinstance(e, psycopg.OperationalError | psycopg.InterfaceError):
            self._drop()
            outcome = ("; the outcome is unknown, and asking again is safe (it cannot be "
                       "recorded twice)" if unknown else "; nothing was recorded"
                       if doing.startswith(("record", "create", "open or")) else "")
            then = ("check the URL and that the database server runs, then retry"
                    if doing == "open the store" else
                    "it reconnects by itself when the database is back")
            return StoreUnavailable(f"store {p} is unreachable, so it could not {doing} "
                                    f"({_first_line(e)}){outcome}; {then}")
        return StoreError(f"store {p} failed to {doing} ({_first_line(e)})")

    def _call(self, fn: Callable[[Any], _T], doing: str) -> _T:
        """Run ``fn(conn)`` (reads: idempotent); one fresh connection is tried if the old one
        died (a server restart closes it even when the server is back)."""
        with self._lock:
            for attempt in (1, 2):
                fresh = self._conn is None
                try:
                    return fn(self._c())
                except psycopg.OperationalError as e:
                    if attempt == 1 and not fresh and (self._conn is None or self._conn.broken):
                        self._drop()
                        continue
                    raise self._error(e, doing) from e
                except psycopg.Error as e:
                    raise self._error(e, doing) from e
            raise AssertionError("unreachable")

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s")

    def _rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        return self._call(lambda c: c.execute(self._sql(sql), params).fetchall(), "read")

    def _wrote(self, conn: Any) -> None:
        """Bump the store's version and wake the followers (NOTIFY is delivered at commit)."""
        n = conn.execute("UPDATE changes SET n = n + 1 RETURNING n").fetchone()[0]
        conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(n)))

    def _writer_now(self, conn: Any) -> datetime:
        return from_us(conn.execute(_NOW_US).fetchone()[0])

    @contextmanager
    def _transaction(self, doing: str, lock: str | None = None) -> Iterator[Any]:
        if self.readonly:
            raise StoreError(f"{self.path} is open read-only (as a follower), so it cannot "
                             f"{doing}; open it without readonly to record events")
        with self._lock:
            if self._in_tx:
                raise RuntimeError("Store.writing() blocks cannot be nested")

            def begin(conn: Any) -> Any:
                tx = conn.transaction()
                tx.__enter__()
                try:
                    conn.execute(f"SET LOCAL lock_timeout = '{int(self.timeout * 1000)}ms'")
                    if lock is not None:
                        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                                     (lock,))
                except BaseException as e:
                    with suppress(Exception):
                        tx.__exit__(type(e), e, e.__traceback__)
                    raise
                return tx

            tx = self._call(begin, doing)  # nothing written yet: a stale connection is retried
            conn = self._conn
            self._in_tx = True
            try:
                try:
                    yield conn
                except BaseException as e:
                    with suppress(Exception):
                        tx.__exit__(type(e), e, e.__traceback__)
                    if isinstance(e, psycopg.Error):
                        raise self._error(e, doing) from e
                    raise
                try:
                    tx.__exit__(None, None, None)  # COMMIT
                except psycopg.Error as e:
                    raise self._error(e, doing, unknown=True) from e
            finally:
                self._in_tx = False

    # -- schema ------------------------------------------------------------------------------
    def schema_version(self) -> int:
        """The store's schema version; 0 for an empty database."""
        return self._call(self._version, "open the store")

    def _version(self, conn: Any) -> int:
        # pg_tables, not to_regclass: a catalog cache can miss a table another session created
        # while this one waited for the migrate lock; a query on the catalog sees it
        if not conn.execute("SELECT EXISTS (SELECT FROM pg_catalog.pg_tables WHERE schemaname = "
                            "current_schema() AND tablename = 'meta')").fetchone()[0]:
            return 0
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if not (row and str(row[0]).isdigit()):
            raise StoreDamaged(f"{self.path} has no valid schema version, so it is damaged or "
                               "not a runbook store; choose another --db URL")
        if (version := int(row[0])) > SCHEMA_VERSION:
            raise StoreError(f"{self.path} was written by a newer runbook (store schema "
                             f"{version}, this version reads up to {SCHEMA_VERSION}); "
                             "upgrade runbook to open it")
        return version

    def migrate(self) -> tuple[int, int]:
        """Create the schema or bring it up to date, under an advisory lock: (from, to)."""
        with self._transaction("create or migrate the store", lock="runbook:migrate") as conn:
            before = self._version(conn)
            for version in range(before + 1, SCHEMA_VERSION + 1):
                for stmt in POSTGRES[version - 1]:
                    conn.execute(stmt)
            if before == 0:
                conn.execute("CREATE TABLE changes (n bigint NOT NULL)")
                conn.execute("INSERT INTO changes VALUES (0)")
                conn.execute("INSERT INTO meta VALUES ('schema_version', %s)",
                             (str(SCHEMA_VERSION),))
            elif before < SCHEMA_VERSION:
                conn.execute("UPDATE meta SET value = %s WHERE key = 'schema_version'",
                             (str(SCHEMA_VERSION),))
        return before, SCHEMA_VERSION

    # -- events ------------------------------------------------------------------------------
    def data_version(self) -> int:
        """The number of write transactions committed so far (``changes.n``)."""
        return self._rows("SELECT n FROM changes")[0][0]

    def wait_for_change(self, since: int, timeout: float) -> int:
        """Block until ``data_version()`` differs from ``since`` or ``timeout`` passes: woken by
        NOTIFY, polling every POLL_S seconds whatever happens to the listener."""
        deadline = time.monotonic() + timeout
        while True:
            self._listening()  # LISTEN before reading the version: no wake-up falls between
            version = self.data_version()
            left = deadline - time.monotonic()
            if version != since or left <= 0:
                return version
            self._await_notify(min(POLL_S, left))

    def _listening(self) -> Any:
        if self._listener is None or self._listener.closed:
            try:
                self._listener = self._connect(listen=True)
                self._listener.execute(f"LISTEN {CHANNEL}")
                self._checked = time.monotonic()
            except psycopg.Error:
                self._listener = None  # polling carries on; the next wait tries again
        return self._listener

    def _await_notify(self, seconds: float) -> None:
        listener = self._listener
        if listener is None:
            time.sleep(seconds)
            return
        try:
            for _ in listener.notifies(timeout=seconds, stop_after=1):
                return
            if time.monotonic() - self._checked >= LIVENESS_S:  # quiet: is it still alive?
                listener.execute("SELECT 1")
                self._checked = time.monotonic()
        except psycopg.Error:
            with suppress(Exception):
                listener.close()
            self._listener = None

    def now(self) -> datetime:
        """The database server's clock."""
        return from_us(self._rows(_NOW_US)[0][0])

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._drop()
            if self._listener is not None:
                with suppress(Exception):
                    self._listener.close()
                self._listener = None


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]
