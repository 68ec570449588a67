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

User-facing failures (read-only file or directory, disk full, lock held too long, not a store,
damaged, newer schema, a directory as path) raise StoreError naming the path and what to do; a
failed write records nothing. Programming errors (naive datetime, bad label, payload not a JSON
object) raise ValueError or TypeError.
"""

from __future__ import annotations

import difflib
import json
import os
import random
import secrets
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

SCHEMA_VERSION = 1
LABELS = ("live", "rehearsal", "history")  # history: imported past windows
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_T = TypeVar("_T")
# primary SQLite result codes (sqlite3.Error.sqlite_errorcode & 0xFF)
_BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _NOTADB = 5, 6, 8, 10, 11, 13, 14, 26
_READONLY_DIRECTORY = _READONLY | (6 << 8)

_SCHEMA = [
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE runs (id TEXT PRIMARY KEY, runbook_id TEXT NOT NULL, title TEXT NOT NULL,
        label TEXT NOT NULL, created_at_us INTEGER NOT NULL, source_name TEXT NOT NULL,
        source_text TEXT NOT NULL, meta TEXT NOT NULL)""",
    "CREATE INDEX runs_by_runbook ON runs (runbook_id, created_at_us)",
    """CREATE TABLE events (run_id TEXT NOT NULL REFERENCES runs (id), seq INTEGER NOT NULL
        CHECK (seq >= 1), event_id TEXT NOT NULL UNIQUE, at_us INTEGER NOT NULL,
        actor TEXT NOT NULL, host TEXT NOT NULL, type TEXT NOT NULL, step TEXT,
        payload TEXT NOT NULL, PRIMARY KEY (run_id, seq))""",
    *(f"""CREATE TRIGGER {t}_no_{op} BEFORE {op.upper()} ON {t}
        BEGIN SELECT RAISE(ABORT, '{t} are append-only'); END"""
      for t in ("runs", "events") for op in ("update", "delete")),
    f"INSERT INTO meta (key, value) VALUES ('schema_version', '{SCHEMA_VERSION}')",
]
_EVENT_COLS = "run_id, seq, event_id, at_us, actor, host, type, step, payload"
_RUN_COLS = "id, runbook_id, title, label, created_at_us, source_name, source_text, meta"
_NEWEST = "ORDER BY created_at_us DESC, rowid DESC"


class StoreError(Exception):
    """A failure the user must hear about; the message names the store path and what to do."""


class UnknownRun(StoreError):
    """No run matches the given id or prefix (or the store has no runs)."""


@dataclass(frozen=True)
class Event:
    run_id: str
    seq: int
    event_id: str
    at: datetime  # aware UTC
    actor: str
    host: str
    type: str
    step: str | None
    payload: dict


@dataclass(frozen=True)
class RunInfo:
    id: str
    runbook_id: str
    title: str
    label: str  # "live" | "rehearsal"
    created_at: datetime  # aware UTC
    source_name: str
    source_text: str
    meta: dict


def default_path() -> Path:
    """``$RUNBOOK_DB`` if set, else ``$XDG_DATA_HOME/runbook/runs.db`` (~/.local/share/...)."""
    if env := os.environ.get("RUNBOOK_DB"):
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
    return base / "runbook" / "runs.db"


def to_us(instant: datetime) -> int:
    """An aware datetime as integer microseconds since the Unix epoch (UTC); naive is refused."""
    if not isinstance(instant, datetime) or instant.utcoffset() is None:
        raise ValueError(f"the store needs an aware datetime, got {instant!r}")
    return datetime.__sub__(instant, _EPOCH) // _US  # plain timedelta even for subclasses


def from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def _json(value: Any, what: str) -> str:
    if not isinstance(value, dict):
        raise TypeError(f"{what} must be a dict, got {type(value).__name__}")
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _code(e: sqlite3.Error) -> int:
    return getattr(e, "sqlite_errorcode", 0) or 0


def _event(r: tuple) -> Event:
    return Event(*r[:3], from_us(r[3]), *r[4:8], json.loads(r[8]))


def _runinfo(r: tuple) -> RunInfo:
    return RunInfo(*r[:4], from_us(r[4]), r[5], r[6], json.loads(r[7]))


class Store:
    """The event store at ``path``. ``readonly=True`` opens a follower that can never write.

    ``_max_pages`` is a testing hook: it sets ``PRAGMA max_page_count`` on the writer connection,
    so a test can make the database "full" (SQLITE_FULL) without filling a disk.
    """

    def __init__(self, path: str | Path, *, readonly: bool = False, timeout: float = 10.0,
                 _max_pages: int | None = None) -> None:
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
        try:
            if readonly:
                self._open_readonly()
            else:
                self._open_writer(_max_pages)
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

    def _open_writer(self, max_pages: int | None) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"cannot write to {self.path}: cannot create its directory "
                             f"({e.strerror or e}); choose another --db path") from e
        self._conn = self._connect(str(self.path), uri=False)
        mode = self._retry(lambda: self._c.execute("PRAGMA journal_mode = WAL").fetchone()[0],
                           "open the store")
        if str(mode).lower() != "wal":
            raise StoreError(f"cannot use {self.path}: SQLite refused WAL mode (got {mode!r}); "
                             "put the store on a local disk")
        self._c.execute("PRAGMA synchronous = FULL")
        if not self._retry(lambda: self._check_schema(self._c), "open the store"):
            with self._transaction("create the store") as conn:
                if not self._check_schema(conn):  # still empty now that we hold the lock
                    for stmt in _SCHEMA:
                        conn.execute(stmt)
        if max_pages is not None:
            self._c.execute(f"PRAGMA max_page_count = {int(max_pages)}")

    def _open_readonly(self) -> None:
        if not self.path.exists():
            raise StoreError(f"no store at {self.path}; check --db / RUNBOOK_DB, or start a run "
                             "with `runbook run` to create it")
        uri = f"file:{quote(self.path.as_posix())}?mode=ro"
        self._conn = self._connect(uri, uri=True)
        try:
            self._c.execute("SELECT count(*) FROM sqlite_master").fetchall()
        except sqlite3.Error as e:
            if _code(e) & 0xFF not in (_READONLY, _CANTOPEN) or self._wal.exists():
                raise self._error(e, "open the store") from e
            self._conn.close()  # -wal/-shm missing and not creatable: no writer can be active
            self._conn = self._connect(uri + "&immutable=1", uri=True)
            self._snapshot = True
        if not self._retry(lambda: self._check_schema(self._c), "open the store"):
            raise StoreError(f"{self.path} is not initialised as a runbook store yet; "
                             "start a run with `runbook run` first")

    @property
    def _wal(self) -> Path:
        return self.path.with_name(self.path.name + "-wal")

    @property
    def _c(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"store {self.path} is closed; open it again")
        return self._conn

    def _check_schema(self, conn: sqlite3.Connection) -> bool:
        """True for a runbook store, False for an empty database; StoreError otherwise."""
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            return False
        if "meta" not in tables:
            raise StoreError(f"{self.path} is a SQLite database but not a runbook store; "
                             "choose another --db path")
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if not (row and str(row[0]).isdigit()):
            raise StoreError(f"{self.path} has no valid schema version, so it is damaged or not "
                             "a runbook store; choose another --db path")
        if (version := int(row[0])) > SCHEMA_VERSION:
            raise StoreError(f"{self.path} was written by a newer runbook (store schema "
                             f"{version}, this version reads up to {SCHEMA_VERSION}); "
                             "upgrade runbook to open it")
        return True

    # -- plumbing ----------------------------------------------------------------------------
    def _error(self, e: sqlite3.Error, doing: str) -> StoreError:
        p, code = self.path, _code(e)
        busy = (f"{p} is busy: another runbook process holds the write lock for more than "
                f"{self.timeout:g}s; wait for it or stop it, then retry")
        if code == _READONLY_DIRECTORY:
            return StoreError(f"cannot {'read' if self.readonly else 'write to'} {p}: read-only "
                              f"directory (SQLite must create {p.name}-wal and {p.name}-shm "
                              "next to it); fix the permissions or choose another --db path")
        msg = {
            _FULL: f"cannot write to {p}: the disk is full, so the store could not {doing} and "
                   "nothing was recorded; free some space and retry",
            _READONLY: f"cannot write to {p}: read-only file or file system, so the store could "
                       f"not {doing}; fix the permissions or choose another --db path",
            _BUSY: busy,
            _LOCKED: busy,
            _NOTADB: f"{p} is not a runbook store (not a SQLite database); check the --db path",
            _CORRUPT: f"{p} is damaged ({e}); restore it from a backup or move it aside",
            _CANTOPEN: f"cannot open {p} ({e}); check that it and its directory exist and are "
                       "accessible",
            _IOERR: f"I/O error on {p} while trying to {doing} ({e}); check the disk and retry",
        }.get(code & 0xFF, f"store {p} failed to {doing} ({e}); check the --db path")
        return StoreError(msg)

    def _retry(self, fn: Callable[[], _T], doing: str) -> _T:
        """Run ``fn``, retrying SQLITE_BUSY/LOCKED until ``timeout``; wrap sqlite3 errors."""
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                return fn()
            except sqlite3.Error as e:
                if _code(e) & 0xFF in (_BUSY, _LOCKED) and time.monotonic() < deadline:
                    time.sleep(random.uniform(0.0005, 0.003))
                    continue
                raise self._error(e, doing) from e

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            if self._snapshot and self._wal.exists():  # a writer started: follow it properly
                self._c.close()
                self._conn = self._connect(f"file:{quote(self.path.as_posix())}?mode=ro", True)
                self._snapshot = False
                self._dv_offset += 1 << 40  # data_version must differ from the snapshot's
            return self._retry(lambda: self._c.execute(sql, params).fetchall(), "read")

    @contextmanager
    def _transaction(self, doing: str) -> Iterator[sqlite3.Connection]:
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

    def _unknown(self, ref: str) -> UnknownRun:
        ids = [r[0] for r in self._query(f"SELECT id FROM runs {_NEWEST}")]
        if not ids:
            return UnknownRun(f"store {self.path} has no runs yet; start one with "
                              "`runbook run RUNBOOK`")
        close = difflib.get_close_matches(ref, ids, n=5, cutoff=0.4)
        hint = f"closest: {', '.join(close)}" if close else f"newest: {', '.join(ids[:5])}"
        return UnknownRun(f"no run {ref!r} in store {self.path} ({hint}); "
                          "list them with `runbook runs`")

    # -- runs --------------------------------------------------------------------------------
    def create_run(self, *, runbook_id: str, title: str, label: str, source_text: str,
                   source_name: str, created_at: datetime, meta: dict | None = None,
                   run_id: str | None = None) -> RunInfo:
        if label not in LABELS:
            raise ValueError(f"run label must be one of {LABELS}, got {label!r}")
        at_us, meta_json = to_us(created_at), _json(meta or {}, "run meta")
        stamp = from_us(at_us).strftime("%Y%m%d-%H%M")
        with self._transaction("create a run") as conn:
            rid = run_id or f"{runbook_id}-{stamp}-{secrets.token_hex(2)}"
            while conn.execute("SELECT 1 FROM runs WHERE id = ?", (rid,)).fetchone():
                if run_id is not None:
                    raise StoreError(f"run {run_id!r} already exists in {self.path}; "
                                     "choose another run id")
                rid = f"{runbook_id}-{stamp}-{secrets.token_hex(2)}"
            conn.execute(f"INSERT INTO runs ({_RUN_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (rid, runbook_id, title, label, at_us, source_name, source_text,
                          meta_json))
        return RunInfo(rid, runbook_id, title, label, from_us(at_us), source_name,
                       source_text, json.loads(meta_json))

    def import_runs(self, runs: list[dict]) -> list[RunInfo]:
        """Create several finished runs with their events in ONE transaction: all or nothing
        (``runbook history import``). Each dict has create_run's keywords plus ``events``: a
        list of {at, type, step, payload}, recorded with actor/host ``history-import``."""
        created = []
        with self._transaction("import history") as conn:
            for r in runs:
                if r["label"] not in LABELS:
                    raise ValueError(f"run label must be one of {LABELS}, got {r['label']!r}")
                at_us, meta_json = to_us(r["created_at"]), _json(r.get("meta") or {}, "run meta")
                stamp = from_us(at_us).strftime("%Y%m%d-%H%M")
                rid = f"{r['runbook_id']}-{stamp}-{secrets.token_hex(2)}"
                while conn.execute("SELECT 1 FROM runs WHERE id = ?", (rid,)).fetchone():
                    rid = f"{r['runbook_id']}-{stamp}-{secrets.token_hex(2)}"
                conn.execute(f"INSERT INTO runs ({_RUN_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             (rid, r["runbook_id"], r["title"], r["label"], at_us,
                              r["source_name"], r["source_text"], meta_json))
                for seq, ev in enumerate(r["events"], start=1):
                    conn.execute(
                        f"INSERT INTO events ({_EVENT_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (rid, seq, uuid.uuid4().hex, to_us(ev["at"]), "history-import",
                         "history-import", ev["type"], ev.get("step"),
                         _json(ev.get("payload") or {}, "event payload")))
                created.append(RunInfo(rid, r["runbook_id"], r["title"], r["label"],
                                       from_us(at_us), r["source_name"], r["source_text"],
                                       json.loads(meta_json)))
        return created

    def _runs(self, where: str = "", params: tuple = (), limit: str = "") -> list[RunInfo]:
        rows = self._query(f"SELECT {_RUN_COLS} FROM runs {where} {_NEWEST} {limit}", params)
        return [_runinfo(r) for r in rows]

    def run(self, run_id: str) -> RunInfo:
        """The run with this exact id, or the only run whose id starts with it."""
        found = self._runs("WHERE id = ?", (run_id,)) or [
            r for r in self._runs() if run_id and r.id.startswith(run_id)]
        if len(found) > 1:
            raise UnknownRun(f"run {run_id!r} is ambiguous in store {self.path}: it matches "
                             f"{', '.join(r.id for r in found[:8])}; give more of the id")
        if not found:
            raise self._unknown(run_id)
        return found[0]

    def resolve(self, run: str | None) -> RunInfo:
        """``run`` by id or prefix; ``None`` means the newest run."""
        if run is not None:
            return self.run(run)
        if newest := self._runs(limit="LIMIT 1"):
            return newest[0]
        raise self._unknown("")

    def runs(self) -> list[RunInfo]:
        """All runs, newest first."""
        return self._runs()

    def runs_of(self, runbook_id: str) -> list[RunInfo]:
        """The runs of one runbook, newest first."""
        return self._runs("WHERE runbook_id = ?", (runbook_id,))

    # -- events ------------------------------------------------------------------------------
    def _require_run(self, run_id: str) -> None:
        if not self._query("SELECT 1 FROM runs WHERE id = ?", (run_id,)):
            raise self._unknown(run_id)

    def events(self, run_id: str, after_seq: int = 0) -> list[Event]:
        """Events of the run (exact id) with seq > ``after_seq``, in seq order."""
        rows = self._query(f"SELECT {_EVENT_COLS} FROM events WHERE run_id = ? AND seq > ? "
                           "ORDER BY seq", (run_id, after_seq))
        if not rows:
            self._require_run(run_id)
        return [_event(r) for r in rows]

    def last_seq(self, run_id: str) -> int:
        """The seq of the run's last event; 0 when it has none."""
        seq = self._query("SELECT max(seq) FROM events WHERE run_id = ?", (run_id,))[0][0]
        if seq is None:
            self._require_run(run_id)
        return seq or 0

    def data_version(self) -> int:
        """Changes whenever another connection commits (``PRAGMA data_version``).

        Cheap change detection for followers; compare only with earlier values of this Store.
        """
        return self._query("PRAGMA data_version")[0][0] + self._dv_offset

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

    @contextmanager
    def writing(self, run_id: str) -> Iterator[Writer]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT; ROLLBACK on any exception)."""
        with self._transaction("record an event") as conn:
            last = conn.execute("SELECT max(seq) FROM events WHERE run_id = ?",
                                (run_id,)).fetchone()[0]
            if last is None and not conn.execute("SELECT 1 FROM runs WHERE id = ?",
                                                  (run_id,)).fetchone():
                raise self._unknown(run_id)
            writer = Writer(conn, run_id, last or 0, self.path)
            try:
                yield writer
            finally:
                writer._conn = None

    def append(self, run_id: str, *, at: datetime, actor: str, host: str, type: str,
               step: str | None = None, payload: dict | None = None,
               event_id: str | None = None) -> Event:
        """Append one event in its own transaction; durable when this returns."""
        with self.writing(run_id) as w:
            return w.append(at=at, actor=actor, host=host, type=type, step=step,
                            payload=payload, event_id=event_id)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                conn, self._conn = self._conn, None
                with suppress(sqlite3.Error):
                    conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Writer:
    """Appends to one run inside :meth:`Store.writing`; invalid once the block ends."""

    def __init__(self, conn: sqlite3.Connection, run_id: str, last: int, path: Path) -> None:
        self._conn: sqlite3.Connection | None = conn
        self.run_id = run_id
        self._last = last
        self._path = path

    def _live(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("Writer used outside its Store.writing() block")
        return self._conn

    def events_after(self, seq: int) -> list[Event]:
        """Events of this run with seq > ``seq``, read inside the write transaction."""
        rows = self._live().execute(f"SELECT {_EVENT_COLS} FROM events WHERE run_id = ? AND "
                                    "seq > ? ORDER BY seq", (self.run_id, seq)).fetchall()
        return [_event(r) for r in rows]

    def append(self, *, at: datetime, actor: str, host: str, type: str, step: str | None = None,
               payload: dict | None = None, event_id: str | None = None) -> Event:
        conn = self._live()
        at_us, body = to_us(at), _json(payload or {}, "event payload")
        if event_id is None:
            event_id = uuid.uuid4().hex
        else:
            row = conn.execute(f"SELECT {_EVENT_COLS} FROM events WHERE event_id = ?",
                               (event_id,)).fetchone()
            if row is not None:
                if row[0] != self.run_id:
                    raise StoreError(f"event id {event_id!r} is already used by run {row[0]!r} "
                                     f"in {self._path}; use a fresh event id")
                return _event(row)  # already recorded: a retry writes nothing
        seq = self._last + 1
        conn.execute(f"INSERT INTO events ({_EVENT_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (self.run_id, seq, event_id, at_us, actor, host, type, step, body))
        self._last = seq
        return Event(self.run_id, seq, event_id, from_us(at_us), actor, host, type, step,
                     json.loads(body))
