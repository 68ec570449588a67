"""The event store interface, its records and errors, shared by the SQLite and PostgreSQL backends.

``Store(location)`` opens the backend the location names: ``postgresql://...`` (or
``postgres://...``) is a PostgreSQL database, anything else a SQLite file. ``open_store`` is the
same with the ``--db`` / ``$RUNBOOK_DB`` / default-path rule applied first.

What every backend guarantees (tests/store/test_contract.py runs one suite against both):

* runs and events are append-only, enforced in the database (triggers refuse UPDATE and DELETE);
* ``seq`` is 1, 2, 3 ... per run, assigned inside the write transaction; events are read in seq
  order, and a follower catches up with ``events(run, after_seq=last_seen)``;
* a unique ``event_id`` per event: appending a stored id returns the stored event and writes
  nothing, so a retry after a crash or a lost connection cannot record an action twice;
* ``open_or_create``: "resume the unfinished run of this runbook or create one", atomic across
  processes and hosts, the run and its first event in one transaction; ``unfinished`` finds that
  run (a run is unfinished until its first ``run_finished`` or ``run_aborted``) in a few index
  lookups however many runs the store holds;
* ``summaries``: one light line per run (no runbook text) with the number of its events and the
  summary the engine stored with its last event (``Writer.settle``), or None when the run has
  none that covers its last event: a summary can never speak for events it did not see;
* ``now()``: the store's clock (PostgreSQL: the server's; SQLite: this host's kernel clock), so
  event instants do not depend on a process's own clock;
* user-facing failures raise :class:`StoreError` naming the store and what to do;
  :class:`StoreUnavailable` when it cannot be reached (retry later), :class:`StoreDamaged` when
  its content cannot be trusted (nothing is written to it).
"""

from __future__ import annotations

import json
import os
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

LABELS = ("live", "rehearsal", "history")  # history: imported past windows
ENDINGS = ("run_finished", "run_aborted")  # the events that end a run (the first one counts)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
DAMAGED_HINT = "restore it from a backup or move it aside (runbook will then start a new store)"


class StoreError(Exception):
    """A failure the user must hear about; the message names the store and what to do."""


class UnknownRun(StoreError):
    """No run matches the given id or prefix (or the store has no runs)."""


class StoreUnavailable(StoreError):
    """The store cannot be reached right now (database down, network lost); nothing was written
    unless the message says the outcome is unknown. Retrying later is safe."""


class StoreUninitialised(StoreError):
    """The store is there (an empty database or file) but holds no runbook schema yet: opened
    read-only it cannot be read; a writer (`runbook run`, `runbook store init`) creates it."""


class StoreDamaged(StoreError):
    """The store's content cannot be trusted; nothing is written to it."""


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


@dataclass(frozen=True)
class RunLine:
    """A run without its runbook text and meta: what listing many runs needs
    (``Store.summaries``). Reading a run's meta means reading past its runbook text."""

    id: str
    runbook_id: str
    title: str
    label: str
    created_at: datetime  # aware UTC
    events: int  # the seq of its last event (seq counts 1, 2, 3 ...)
    summary: dict | None  # stored with its last event, of the version asked for; else None
    detail: dict | None = None  # stored with the summary; read only when asked for


@dataclass(frozen=True)
class First:
    """The event written in the same transaction as a new run (``run_started``)."""

    actor: str
    host: str
    type: str
    payload: dict


def default_path() -> Path:
    """``$RUNBOOK_DB`` if set, else ``$XDG_DATA_HOME/runbook/runs.db`` (~/.local/share/...)."""
    if env := os.environ.get("RUNBOOK_DB"):
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
    return base / "runbook" / "runs.db"


def location(arg: str | None) -> str:
    """The store named by ``--db`` (``arg``), else ``$RUNBOOK_DB``, else the default path."""
    where = arg or os.environ.get("RUNBOOK_DB") or str(default_path())
    return where if is_postgres(where) else str(Path(where).expanduser())


def is_postgres(where: object) -> bool:
    return isinstance(where, str) and where.split("://", 1)[0] in ("postgresql", "postgres")


def to_us(instant: datetime) -> int:
    """An aware datetime as integer microseconds since the Unix epoch (UTC); naive is refused."""
    if not isinstance(instant, datetime) or instant.utcoffset() is None:
        raise ValueError(f"the store needs an aware datetime, got {instant!r}")
    return datetime.__sub__(instant, _EPOCH) // _US  # plain timedelta even for subclasses


def from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def dump(value: Any, what: str) -> str:
    if not isinstance(value, dict):
        raise TypeError(f"{what} must be a dict, got {type(value).__name__}")
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _text(v: object, what: str, optional: bool = False) -> str | None:
    if (v is None and optional) or isinstance(v, str):
        return v
    raise ValueError(f"{what} is {type(v).__name__}, not text")


def _int(v: object, what: str) -> int:
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    raise ValueError(f"{what} is {type(v).__name__}, not an integer")


def _obj(v: object, what: str) -> dict:
    value = json.loads(v) if isinstance(v, str | bytes) else v
    if not isinstance(value, dict):
        raise ValueError(f"{what} is not a JSON object")
    return value


def event_from_row(r: tuple | list, name: str) -> Event:
    """An Event from a stored row; a row of the wrong shape is StoreDamaged, naming it."""
    try:
        return Event(_text(r[0], "run id"), _int(r[1], "seq"), _text(r[2], "event id"),
                     from_us(_int(r[3], "instant")), _text(r[4], "actor"), _text(r[5], "host"),
                     _text(r[6], "type"), _text(r[7], "step", True), _obj(r[8], "payload"))
    except (ValueError, TypeError, OverflowError, IndexError) as e:
        where = f"run {r[0]!r} event {r[1]!r}" if len(r) > 1 else "an event"
        raise StoreDamaged(f"{name} is damaged ({where}: {e}); {DAMAGED_HINT}") from e


def _label(value: object) -> str:
    label = _text(value, "label")
    if label not in LABELS:
        raise ValueError(f"label {label!r} is not one of {LABELS}")
    return label


def line_from_row(r: tuple | list, name: str) -> RunLine:
    try:
        return RunLine(_text(r[0], "run id"), _text(r[1], "runbook id"), _text(r[2], "title"),
                       _label(r[3]), from_us(_int(r[4], "creation instant")),
                       _int(r[5] or 0, "last seq"),
                       None if r[6] is None else _obj(r[6], "summary"),
                       None if r[6] is None or r[7] is None else _obj(r[7], "summary detail"))
    except (ValueError, TypeError, OverflowError, IndexError) as e:
        where = f"run {r[0]!r}" if r else "a run"
        raise StoreDamaged(f"{name} is damaged ({where}: {e}); {DAMAGED_HINT}") from e


def run_from_row(r: tuple | list, name: str) -> RunInfo:
    try:
        return RunInfo(_text(r[0], "run id"), _text(r[1], "runbook id"), _text(r[2], "title"),
                       _label(r[3]), from_us(_int(r[4], "creation instant")), _text(r[5], "source name"),
                       _text(r[6], "source text"), _obj(r[7], "meta"))
    except (ValueError, TypeError, OverflowError, IndexError) as e:
        where = f"run {r[0]!r}" if r else "a run"
        raise StoreDamaged(f"{name} is damaged ({where}: {e}); {DAMAGED_HINT}") from e


def new_run_id(runbook_id: str, at_us: int, token: str) -> str:
    return f"{runbook_id}-{from_us(at_us).strftime('%Y%m%d-%H%M')}-{token}"


def check_label(label: str) -> None:
    if label not in LABELS:
        raise ValueError(f"run label must be one of {LABELS}, got {label!r}")


class Writer:
    """Appends to one run inside :meth:`Store.writing`; invalid once the block ends."""

    run_id: str

    def events_after(self, seq: int) -> list[Event]:
        """Events of this run with seq > ``seq``, read inside the write transaction."""
        raise NotImplementedError

    def now(self) -> datetime:
        """The store's clock, read inside the transaction."""
        raise NotImplementedError

    def append(self, *, at: datetime, actor: str, host: str, type: str, step: str | None = None,
               payload: dict | None = None, event_id: str | None = None) -> Event:
        raise NotImplementedError

    def settle(self, version: int, summary: dict, detail: dict | None = None) -> None:
        """Store ``summary`` and ``detail`` (format ``version``) of the run as of its last event,
        in this transaction: derived from the events the caller has folded, the one just appended
        last. Written once; ``Store.summaries`` returns them while no later event is appended
        (``detail`` only when asked: what listing many runs does not need)."""
        raise NotImplementedError


class Store:
    """The event store interface. ``Store(location, readonly=...)`` opens the right backend.

    ``readonly=True`` opens a follower that can never write (a watcher, a report).
    """

    path: Any  # SQLite: the file's Path; PostgreSQL: the URL without its password
    readonly: bool

    def __new__(cls, *args: Any, **kw: Any) -> Store:
        if cls is Store:
            where = args[0] if args else kw.get("path")
            if is_postgres(where):
                from runbook.store.postgres import PgStore as cls  # noqa: N813
            else:
                from runbook.store.sqlite import SQLiteStore as cls  # noqa: N813
        return object.__new__(cls)

    @property
    def name(self) -> str:
        """How messages name this store."""
        return str(self.path)

    # -- runs
    def create_run(self, *, runbook_id: str, title: str, label: str, source_text: str,
                   source_name: str, created_at: datetime, meta: dict | None = None,
                   run_id: str | None = None, first: First | None = None) -> RunInfo:
        """A new run; with ``first``, its first event is written in the same transaction."""
        raise NotImplementedError

    def open_or_create(self, *, finished: tuple[str, ...], first: First, **create: Any) -> tuple[RunInfo, bool]:
        """The newest run of ``create["runbook_id"]`` with no event of a ``finished`` type, or a new run
        (``create_run(**create, first=first)``), decided under one lock across processes and
        hosts. Returns (run, resumed)."""
        raise NotImplementedError

    def runs(self) -> list[RunInfo]:
        raise NotImplementedError

    def runs_of(self, runbook_id: str) -> list[RunInfo]:
        raise NotImplementedError

    def unfinished(self, runbook_id: str) -> RunInfo | None:
        """The newest run of ``runbook_id`` with no ``run_finished`` or ``run_aborted`` event."""
        raise NotImplementedError

    def put_summary(self, run_id: str, seq: int, version: int, summary: dict,
                    detail: dict | None = None) -> bool:
        """Store the summary of a run as of its event ``seq``, derived from its stored events (a
        run recorded before summaries existed), if ``seq`` is still its last event: checked in
        the transaction that writes it. False, and nothing written, otherwise."""
        raise NotImplementedError

    def summaries(self, version: int, runbook_id: str | None = None, *,
                  detail: bool = False) -> list[RunLine]:
        """Every run (of ``runbook_id``), newest first, as :class:`RunLine`, each with its stored
        summary of format ``version`` (and its ``detail``) when one covers its last event."""
        raise NotImplementedError

    def run(self, run_id: str) -> RunInfo:
        """The run with this exact id, or the only run whose id starts with it."""
        exact = self._exact(run_id)
        found = [exact] if exact else self._prefixed(run_id) if run_id else []
        if len(found) > 1:
            raise UnknownRun(f"run {run_id!r} is ambiguous in store {self.name}: it matches "
                             f"{', '.join(r.id for r in found[:8])}; give more of the id")
        if not found:
            raise self._unknown(run_id)
        return found[0]

    def resolve(self, run: str | None) -> RunInfo:
        """``run`` by id or prefix; ``None`` means the newest run."""
        if run is not None:
            return self.run(run)
        if newest := self._newest():
            return newest
        raise self._unknown("")

    def _unknown(self, ref: str) -> UnknownRun:
        import difflib

        ids = self._run_ids()
        if not ids:
            return UnknownRun(f"store {self.name} has no runs yet; start one with "
                              "`runbook run RUNBOOK`")
        close = difflib.get_close_matches(ref, ids, n=5, cutoff=0.4)
        hint = f"closest: {', '.join(close)}" if close else f"newest: {', '.join(ids[:5])}"
        return UnknownRun(f"no run {ref!r} in store {self.name} ({hint}); "
                          "list them with `runbook runs`")

    def _exact(self, run_id: str) -> RunInfo | None:
        raise NotImplementedError

    def _prefixed(self, prefix: str) -> list[RunInfo]:
        """Up to 9 runs whose id starts with ``prefix``, newest first."""
        raise NotImplementedError

    def _newest(self) -> RunInfo | None:
        raise NotImplementedError

    def _run_ids(self) -> list[str]:
        """Every run id, newest first."""
        raise NotImplementedError

    # -- events
    def events(self, run_id: str, after_seq: int = 0) -> list[Event]:
        raise NotImplementedError

    def last_seq(self, run_id: str) -> int:
        raise NotImplementedError

    def data_version(self) -> int:
        raise NotImplementedError

    def wait_for_change(self, since: int, timeout: float) -> int:
        raise NotImplementedError

    def writing(self, run_id: str) -> AbstractContextManager[Writer]:
        raise NotImplementedError

    def append(self, run_id: str, *, at: datetime, actor: str, host: str, type: str,
               step: str | None = None, payload: dict | None = None,
               event_id: str | None = None) -> Event:
        """Append one event in its own transaction; durable when this returns."""
        with self.writing(run_id) as w:
            return w.append(at=at, actor=actor, host=host, type=type, step=step,
                            payload=payload, event_id=event_id)

    # -- schema
    def schema_version(self) -> int:
        """The store's schema version; 0 when it is empty."""
        raise NotImplementedError

    def migrate(self) -> tuple[int, int]:
        """Create the schema or bring it up to date: (version before, version after)."""
        raise NotImplementedError

    # -- the store's clock, housekeeping
    def now(self) -> datetime:
        raise NotImplementedError

    def checkpoint(self) -> None:
        """Make what is committed reach the main file (SQLite's WAL); no-op elsewhere."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_store(where: str | None = None, *, readonly: bool = False, **kw: Any) -> Store:
    """The store named by ``--db`` (``where``), ``$RUNBOOK_DB`` or the default path."""
    return Store(location(where), readonly=readonly, **kw)


def clock_offset(store: Store, read: Any) -> tuple[float, float]:
    """(store clock minus ``read()``, uncertainty), both in seconds, from one bracketed reading."""
    before = read()
    theirs = store.now()
    after = read()
    mid = before + (after - before) / 2
    return (theirs - mid).total_seconds(), (after - before).total_seconds() / 2
