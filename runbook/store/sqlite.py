"""SQLite event store: one database file, many runs, each an append-only sequence of events.

Nothing is ever updated or deleted (triggers refuse it). Instants are stored as integer UTC
microseconds and come back as aware UTC datetimes, exact to the microsecond.

Durability and concurrency:

* The writer uses WAL with ``synchronous=FULL``: a transaction is on disk when COMMIT returns and
  survives an application crash and also a power loss or OS crash (WAL + NORMAL could lose the
  last commits on power loss). So an action is durable before the caller shows it.
* Every write starts with BEGIN IMMEDIATE: it takes the write lock up front (seq is assigned inside
  the transaction, so concurrent writers never collide) and retries for up to ``timeout`` seconds,
  then raises StoreError ("PATH is busy ..."). The retry polls every 0.5-3 ms; SQLite's own busy
  handler backs off to 100 ms sleeps, which let a waiting writer starve behind a busy one.
* A unique ``event_id`` per event: appending a stored id returns the stored event and writes
  nothing, so a retry after a crash cannot record an action twice.
* Readers never block the writer, nor the writer readers. Every read here is one short statement;
  keep reader transactions short, or the WAL cannot be checkpointed and grows without bound.
  Followers poll ``data_version()`` (cheap) and read ``events(run, after_seq=last)``.
* WAL needs shared memory between processes: it does NOT work on network file systems (NFS,
  SMB). Keep the store on a local disk.

Read-only followers (``readonly=True``) open the file with ``mode=ro``. SQLite (3.22+) creates the
``-wal``/``-shm`` files if they are missing (the last writer deletes them on close), so a follower
works whether or not a writer runs. If they are missing and cannot be created (directory not
writable for the follower), no writer can be running, so it falls back to an ``immutable=1``
snapshot, and before every read checks whether a ``-wal`` has appeared; if so it reopens normally.

Damage: a file cut short (its size not a whole number of pages) is refused on open; a writer also
runs ``PRAGMA quick_check`` and checks every row's types and JSON before its first write, so a
damaged store is named as such (StoreDamaged, "restore it from a backup or move it aside") and
never written to. Readers meet a malformed row when they read it, with the same message.

Checkpoints: ``checkpoint()`` (the engine calls it after each step completion) and ``close()``
copy the WAL into the main file (PASSIVE: never waits for readers), so the main file alone is
never far behind, even if the ``-wal`` file is lost.

User-facing failures (read-only file or directory, disk full, lock held too long, not a store,
damaged, newer schema, a directory as path, a foreign symlink) raise StoreError naming the path
and what to do; a failed write records nothing. Programming errors (naive datetime, bad label, payload not a JSON
object) raise ValueError or TypeError.
"""

from __future__ import annotations

import json
import os
import random
import secrets  # noqa: F401  (tests patch runbook.store.sqlite.secrets.token_hex: run ids)
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

from runbook.store.base import (
    DAMAGED_HINT,
    StoreDamaged,
    StoreError,
    StoreUninitialised,
)
from runbook.store.files import (
    READONLY_OR_CANTOPEN,
    check_size,
    code,
    create_private,
    kernel_now,
    refuse_foreign_link,
    sqlite_error,
)
from runbook.store.migrations import SQLITE, SQLITE_BAD_ROWS
from runbook.store.sql import SQLStore

SCHEMA_VERSION = len(SQLITE)
_T = TypeVar("_T")
_BUSY, _LOCKED = 5, 6


class SQLiteStore(SQLStore):
    """The event store in the SQLite file at ``path``.

    ``_max_pages`` is a testing hook: it sets ``PRAGMA max_page_count`` on the writer connection,
    so a test can make the database "full" (SQLITE_FULL) without filling a disk.
    """

    newest = "ORDER BY created_at_us DESC, rowid DESC"
    newest_r = "ORDER BY r.created_at_us DESC, r.rowid DESC"  # the same, runs AS r

    def __init__(self, path: str | Path, *, readonly: bool = False, timeout: float = 10.0,
                 migrate: bool = True, _max_pages: int | None = None) -> None:
        self.path = Path(os.path.abspath(Path(path).expanduser()))
        self.readonly = readonly
        self.timeout = timeout
        self._lock = threading.RLock()
        self._snapshot = False  # read-only fallback: immutable=1 until a -wal appears
        self._dv_offset = 0
        self._conn: sqlite3.Connection | None = None
        if self.path.is_dir():
            raise StoreError(f"{self.path} is a directory, not a runbook store; "
                             f"give a file path such as {self.path / 'runs.db'}")
        self.path = refuse_foreign_link(self.path)
        try:
            if readonly:
                self._open_readonly()
            else:
                self._open_writer(_max_pages, migrate)
        except BaseException:
            self.close()
            raise

    # -- opening -----------------------------------------------------------------------------
    def _connect(self, target: str, uri: bool) -> sqlite3.Connection:
        try:
            # SQLite's own busy handler backs off to 100 ms sleeps, so a waiting writer can starve
            # behind a busy one; it only covers the first few ms and _retry polls faster after.
            return sqlite3.connect(target, uri=uri, timeout=min(self.timeout, 0.01),
                                   isolation_level=None, check_same_thread=False)
        except sqlite3.Error as e:
            raise self._error(e, "open the store") from e

    def _open_writer(self, max_pages: int | None, migrate: bool) -> None:
        create_private(self.path)
        self._conn = self._connect(str(self.path), uri=False)
        check_size(self.path, self._c)
        mode = self._retry(lambda: self._c.execute("PRAGMA journal_mode = WAL").fetchone()[0],
                           "open the store")
        if str(mode).lower() != "wal":
            raise StoreError(f"cannot use {self.path}: SQLite refused WAL mode (got {mode!r}); "
                             "put the store on a local disk")
        self._c.execute("PRAGMA synchronous = FULL")
        if migrate and self.schema_version() < SCHEMA_VERSION:
            self.migrate()
        self._retry(self._verify, "check the store")
        if max_pages is not None:
            self._c.execute(f"PRAGMA max_page_count = {int(max_pages)}")

    def _open_readonly(self) -> None:
        if not self.path.exists():
            raise StoreError(f"no store at {self.path}; check --db / RUNBOOK_DB, or start a run "
                             "with `runbook run` to create it")
        uri = f"file:{quote(self.path.as_posix())}?mode=ro"
        self._conn = self._connect(uri, uri=True)
        check_size(self.path, self._c)
        try:
            self._c.execute("SELECT count(*) FROM sqlite_master").fetchall()
        except sqlite3.Error as e:
            if code(e) & 0xFF not in READONLY_OR_CANTOPEN or self._wal.exists():
                raise self._error(e, "open the store") from e
            self._conn.close()  # -wal/-shm missing and not creatable: no writer can be active
            self._conn = self._connect(uri + "&immutable=1", uri=True)
            self._snapshot = True
        if not self._retry(lambda: self._version(self._c), "open the store"):
            raise StoreUninitialised(f"{self.path} is not initialised as a runbook store yet; "
                             "start a run with `runbook run` first")

    def migrate(self) -> tuple[int, int]:
        """Create the schema or bring it up to date, under the write lock: (from, to)."""
        with self._transaction("create or migrate the store") as conn:
            before = self._version(conn)  # again, now that we hold the lock
            for version in range(before + 1, SCHEMA_VERSION + 1):
                for stmt in SQLITE[version - 1]:
                    conn.execute(stmt)
            if before == 0:
                conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)",
                             (str(SCHEMA_VERSION),))
            elif before < SCHEMA_VERSION:
                conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'",
                             (str(SCHEMA_VERSION),))
        return before, SCHEMA_VERSION

    def schema_version(self) -> int:
        """The store's schema version; 0 for an empty file."""
        return self._retry(lambda: self._version(self._c), "open the store")

    def _verify(self) -> None:
        """Before the first write: the pages are sound, and every row has its types and JSON.

        Rows are checked once: ``meta.verified`` keeps, per table, the rowid checked up to (rows
        are never deleted, so a new row has a higher rowid), and a writer checks only the rows
        added since. So opening a store of a thousand runs does not re-read them all."""
        if not self.schema_version():
            return
        with self._lock:
            found = [r[0] for r in self._c.execute("PRAGMA quick_check(3)")]
            if found != ["ok"]:
                raise StoreDamaged(f"{self.path} is damaged (SQLite integrity check: "
                                   f"{'; '.join(map(str, found))}); {DAMAGED_HINT}")
            done = self._verified()
            upto = dict(done)
            tables = {r[0] for r in self._c.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            for table, what, name, bad in SQLITE_BAD_ROWS:
                if table not in tables:  # an older schema, opened to be migrated
                    continue
                top = self._c.execute(f"SELECT max(rowid) FROM {table}").fetchone()[0] or 0
                if top <= done.get(table, 0):
                    continue
                row = self._c.execute(f"SELECT {name} FROM {table} WHERE rowid > ? AND ({bad}) "
                                      "LIMIT 1", (done.get(table, 0),)).fetchone()
                if row:
                    raise StoreDamaged(f"{self.path} is damaged ({what} {row[0]!r}: malformed "
                                       f"row); {DAMAGED_HINT}")
                upto[table] = top
        if upto != done:
            self._note_verified(upto)

    def _note_verified(self, upto: dict[str, int]) -> None:
        """Record how far the rows were checked, if the write lock is free now (best effort: the
        next writer checks these rows again otherwise); opening never waits for another writer."""
        with self._lock:
            conn = self._c
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error:
                return
            try:
                conn.execute("INSERT INTO meta (key, value) VALUES ('verified', ?) ON CONFLICT "
                             "(key) DO UPDATE SET value = excluded.value", (json.dumps(upto),))
                conn.execute("COMMIT")
            except sqlite3.Error:
                with suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")

    def _verified(self) -> dict[str, int]:
        """meta.verified: table -> the rowid its rows were checked up to (nothing: {})."""
        row = self._c.execute("SELECT value FROM meta WHERE key = 'verified'").fetchone()
        try:
            done = json.loads(row[0]) if row else {}
        except (TypeError, ValueError):
            return {}
        if not isinstance(done, dict):
            return {}
        return {k: v for k, v in done.items() if isinstance(v, int) and not isinstance(v, bool)}

    @property
    def _wal(self) -> Path:
        return self.path.with_name(self.path.name + "-wal")

    @property
    def _c(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"store {self.path} is closed; open it again")
        return self._conn

    def _version(self, conn: sqlite3.Connection) -> int:
        """The schema version of a runbook store, 0 for an empty database; StoreError otherwise."""
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            return 0
        if "meta" not in tables:
            raise StoreError(f"{self.path} is a SQLite database but not a runbook store; "
                             "choose another --db path")
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if not (row and str(row[0]).isdigit()):
            raise StoreDamaged(f"{self.path} has no valid schema version, so it is damaged or "
                               "not a runbook store; choose another --db path")
        if (version := int(row[0])) > SCHEMA_VERSION:
            raise StoreError(f"{self.path} was written by a newer runbook (store schema "
                             f"{version}, this version reads up to {SCHEMA_VERSION}); "
                             "upgrade runbook to open it")
        return version

    # -- plumbing ----------------------------------------------------------------------------
    def _error(self, e: sqlite3.Error, doing: str) -> StoreError:
        return sqlite_error(e, self.path, doing, readonly=self.readonly, timeout=self.timeout)

    def _retry(self, fn: Callable[[], _T], doing: str) -> _T:
        """Run ``fn``, retrying SQLITE_BUSY/LOCKED until ``timeout``; wrap sqlite3 errors."""
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                return fn()
            except sqlite3.Error as e:
                if code(e) & 0xFF in (_BUSY, _LOCKED) and time.monotonic() < deadline:
                    time.sleep(random.uniform(0.0005, 0.003))
                    continue
                raise self._error(e, doing) from e

    def _rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            if self._snapshot and self._wal.exists():  # a writer started: follow it properly
                self._c.close()
                self._conn = self._connect(f"file:{quote(self.path.as_posix())}?mode=ro", True)
                self._snapshot = False
                self._dv_offset += 1 << 40  # data_version must differ from the snapshot's
            return self._retry(lambda: self._c.execute(sql, params).fetchall(), "read")

    @contextmanager
    def _transaction(self, doing: str, lock: str | None = None) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT: one writer at a time for the whole file (``lock`` unused)."""
        if self.readonly:
            raise StoreError(f"{self.path} is open read-only (as a follower), so it cannot "
                             f"{doing}; open it without readonly to record events")
        with self._lock:
            conn = self._c
            if conn.in_transaction:
                raise RuntimeError("Store.writing() blocks cannot be nested")
            self._retry(lambda: conn.execute("BEGIN IMMEDIATE"), doing)
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as e:
                if conn.in_transaction:
                    with suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                if isinstance(e, sqlite3.Error):
                    raise self._error(e, doing) from e
                raise

    # -- events ------------------------------------------------------------------------------
    def data_version(self) -> int:
        """Changes whenever another connection commits (``PRAGMA data_version``).

        Cheap change detection for followers; compare only with earlier values of this Store.
        """
        return self._rows("PRAGMA data_version")[0][0] + self._dv_offset

    def wait_for_change(self, since: int, timeout: float) -> int:
        """Block until ``data_version()`` differs from ``since`` or ``timeout`` seconds pass;
        returns the version then. A follower's wake-up: SQLite has no notifications, so this
        polls the cheap ``PRAGMA data_version`` every 50 ms. Callers then read
        ``events(run, after_seq=last_seen)``: the version says only that something changed."""
        deadline = time.monotonic() + timeout
        while True:
            version = self.data_version()
            left = deadline - time.monotonic()
            if version != since or left <= 0:
                return version
            time.sleep(min(0.05, left))

    def now(self) -> datetime:
        """This host's kernel clock: every writer of a SQLite store shares it (files.py)."""
        return kernel_now()

    def _writer_now(self, conn: sqlite3.Connection) -> datetime:
        return kernel_now()

    def checkpoint(self) -> None:
        """Copy the WAL into the main file without waiting for readers (PASSIVE). Best effort:
        what is committed is durable in the WAL already, so a failure here loses nothing."""
        if self.readonly or self._conn is None:
            return
        with self._lock, suppress(sqlite3.Error):
            if not self._conn.in_transaction:
                self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def close(self) -> None:
        self.checkpoint()
        with self._lock:
            if self._conn is not None:
                conn, self._conn = self._conn, None
                with suppress(sqlite3.Error):
                    conn.close()
