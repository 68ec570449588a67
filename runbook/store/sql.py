"""What the SQLite and PostgreSQL stores share: the same tables, the same queries.

Queries are written with ``?`` placeholders; a backend's ``_sql`` turns them into its own. A
backend provides ``_rows`` (one read), ``_transaction(doing, lock)`` (one write transaction
yielding a connection; ``lock`` names what it serialises across processes), ``_writer_now`` (its
clock, inside a transaction) and ``_wrote`` (what a write transaction does besides its inserts).
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import Any

from runbook.store.base import (
    ENDINGS,
    Event,
    First,
    RunInfo,
    RunLine,
    Store,
    StoreError,
    Writer,
    check_label,
    dump,
    event_from_row,
    from_us,
    line_from_row,
    new_run_id,
    run_from_row,
    to_us,
)

IMPORTER = "history-import"  # the actor and host of imported events
EVENT_COLS = "run_id, seq, event_id, at_us, actor, host, type, step, payload"
RUN_COLS = "id, runbook_id, title, label, created_at_us, source_name, source_text, meta"
# the newest run of a runbook that has not ended: none at all when it has as many endings as runs
# (max n of each, two index lookups; the runbook id is then NULL, so no run is even read), else
# the runs newest first until one has not ended
UNFINISHED = (f"SELECT {RUN_COLS} FROM runs AS r WHERE runbook_id = (SELECT ? WHERE "
              "(SELECT max(n) FROM run_opened WHERE runbook_id = ?) > "
              "coalesce((SELECT max(n) FROM run_ended WHERE runbook_id = ?), 0)) "
              "AND NOT EXISTS (SELECT 1 FROM run_ended AS x WHERE x.run_id = r.id) ")
LAST_SEQ = "(SELECT max(seq) FROM events AS e WHERE e.run_id = r.id)"
LINES = ("SELECT r.id, r.runbook_id, r.title, r.label, r.created_at_us, "
         f"{LAST_SEQ}, s.summary, {{detail}} FROM runs AS r LEFT JOIN run_summaries AS s "
         f"ON s.run_id = r.id AND s.version = ? AND s.seq = {LAST_SEQ} ")
SETTLE = ("INSERT INTO run_summaries (run_id, seq, version, summary, detail) "
          "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")


class SQLStore(Store):
    newest = "ORDER BY created_at_us DESC"  # + the backend's insertion order
    newest_r = "ORDER BY r.created_at_us DESC"  # the same, runs AS r

    def _sql(self, sql: str) -> str:
        return sql

    def _rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        raise NotImplementedError

    def _transaction(self, doing: str, lock: str | None = None) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _writer_now(self, conn: Any) -> datetime:
        raise NotImplementedError

    def _wrote(self, conn: Any) -> None:
        """Called once in every write transaction that inserted something."""

    # -- runs --------------------------------------------------------------------------------
    def create_run(self, *, runbook_id: str, title: str, label: str, source_text: str,
                   source_name: str, created_at: datetime, meta: dict | None = None,
                   run_id: str | None = None, first: First | None = None) -> RunInfo:
        check_label(label)
        with self._transaction("create a run") as conn:
            return self._insert_run(conn, runbook_id=runbook_id, title=title, label=label,
                                    source_text=source_text, source_name=source_name,
                                    created_at=created_at, meta=meta, run_id=run_id, first=first)

    def open_or_create(self, *, finished: tuple[str, ...], first: First,
                       **create: Any) -> tuple[RunInfo, bool]:
        check_label(create["label"])
        runbook_id = create["runbook_id"]
        sql, params = self._unfinished_query(runbook_id, finished)
        with self._transaction("open or create a run", lock=f"runbook:open:{runbook_id}") as conn:
            row = conn.execute(self._sql(sql), params).fetchone()
            if row is not None:
                return run_from_row(row, self.name), True
            return self._insert_run(conn, first=first, **create), False

    def _unfinished_query(self, runbook_id: str, finished: tuple[str, ...]) -> tuple[str, tuple]:
        if set(finished) == set(ENDINGS):
            return (f"{UNFINISHED} {self.newest} LIMIT 1",
                    (runbook_id, runbook_id, runbook_id))
        marks = ", ".join("?" * len(finished))  # other endings: ask every run's events
        return (f"SELECT {RUN_COLS} FROM runs AS r WHERE runbook_id = ? AND NOT EXISTS "
                f"(SELECT 1 FROM events AS e WHERE e.run_id = r.id AND e.type IN ({marks})) "
                f"{self.newest} LIMIT 1", (runbook_id, *finished))

    def unfinished(self, runbook_id: str) -> RunInfo | None:
        """The newest run of ``runbook_id`` that has not ended (run_finished, run_aborted)."""
        sql, params = self._unfinished_query(runbook_id, ENDINGS)
        return next((run_from_row(r, self.name) for r in self._rows(sql, params)), None)

    def summaries(self, version: int, runbook_id: str | None = None, *,
                  detail: bool = False) -> list[RunLine]:
        """Every run (of ``runbook_id``), newest first, without its runbook text: the seq of its
        last event, and its stored summary of ``version`` (and ``detail``) if one covers it."""
        where, params = ("WHERE r.runbook_id = ?", (version, runbook_id)) if runbook_id \
            else ("", (version,))
        sql = LINES.format(detail="s.detail" if detail else "NULL")
        rows = self._rows(f"{sql} {where} {self.newest_r}", params)
        return [line_from_row(r, self.name) for r in rows]

    def put_summary(self, run_id: str, seq: int, version: int, summary: dict,
                    detail: dict | None = None) -> bool:
        with self._transaction("summarise a run", lock=f"runbook:run:{run_id}") as conn:
            last = conn.execute(self._sql("SELECT max(seq) FROM events WHERE run_id = ?"),
                                (run_id,)).fetchone()[0]
            if last != seq:
                return False
            conn.execute(self._sql(SETTLE), (run_id, seq, version, dump(summary, "run summary"),
                                             dump(detail or {}, "run summary detail")))
        return True

    def import_runs(self, runs: list[dict]) -> list[RunInfo]:
        """Create several finished runs with their events in ONE transaction: all or nothing
        (``runbook history import``). Each dict has create_run's keywords plus ``events``: a
        list of {at, type, step, payload}, recorded with actor/host ``history-import`` and their
        own instants (history keeps the times it happened, not the store's clock). An optional
        ``summary`` (version, summary, detail) is the run's as of its last event (as settled by
        Writer.settle)."""
        created = []
        with self._transaction("import history") as conn:
            for r in runs:
                check_label(r["label"])
                info = self._insert_run(conn, **{k: v for k, v in r.items()
                                                 if k not in ("events", "summary")})
                for seq, ev in enumerate(r["events"], start=1):
                    conn.execute(
                        self._sql(f"INSERT INTO events ({EVENT_COLS}) VALUES "
                                  "(?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                        (info.id, seq, uuid.uuid4().hex, to_us(ev["at"]), IMPORTER, IMPORTER,
                         ev["type"], ev.get("step"),
                         dump(ev.get("payload") or {}, "event payload")))
                if r.get("summary") and r["events"]:
                    version, summary, detail = r["summary"]
                    conn.execute(self._sql(SETTLE), (info.id, len(r["events"]), version,
                                                     dump(summary, "run summary"),
                                                     dump(detail, "run summary detail")))
                created.append(info)
        return created

    def _insert_run(self, conn: Any, *, runbook_id: str, title: str, label: str,
                    source_text: str, source_name: str, created_at: datetime,
                    meta: dict | None = None, run_id: str | None = None,
                    first: First | None = None) -> RunInfo:
        at_us, meta_json = to_us(created_at), dump(meta or {}, "run meta")
        first_json = dump(first.payload, "event payload") if first else ""
        rid = run_id or new_run_id(runbook_id, at_us, secrets.token_hex(2))
        while conn.execute(self._sql("SELECT 1 FROM runs WHERE id = ?"), (rid,)).fetchone():
            if run_id is not None:
                raise StoreError(f"run {run_id!r} already exists in {self.name}; "
                                 "choose another run id")
            rid = new_run_id(runbook_id, at_us, secrets.token_hex(2))
        conn.execute(self._sql(f"INSERT INTO runs ({RUN_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
                     (rid, runbook_id, title, label, at_us, source_name, source_text, meta_json))
        if first is not None:
            conn.execute(self._sql(f"INSERT INTO events ({EVENT_COLS}) VALUES "
                                   "(?, 1, ?, ?, ?, ?, ?, NULL, ?)"),
                         (rid, uuid.uuid4().hex, at_us, first.actor, first.host, first.type,
                          first_json))
        self._wrote(conn)
        return RunInfo(rid, runbook_id, title, label, from_us(at_us), source_name,
                       source_text, json.loads(meta_json))

    def _runs(self, where: str = "", params: tuple = (), limit: str = "") -> list[RunInfo]:
        rows = self._rows(f"SELECT {RUN_COLS} FROM runs {where} {self.newest} {limit}", params)
        return [run_from_row(r, self.name) for r in rows]

    def _exact(self, run_id: str) -> RunInfo | None:
        return next(iter(self._runs("WHERE id = ?", (run_id,))), None)

    def _prefixed(self, prefix: str) -> list[RunInfo]:
        return self._runs("WHERE substr(id, 1, ?) = ?", (len(prefix), prefix), "LIMIT 9")

    def _newest(self) -> RunInfo | None:
        return next(iter(self._runs(limit="LIMIT 1")), None)

    def _run_ids(self) -> list[str]:
        return [r[0] for r in self._rows(f"SELECT id FROM runs {self.newest}")]

    def runs(self) -> list[RunInfo]:
        """All runs, newest first."""
        return self._runs()

    def runs_of(self, runbook_id: str) -> list[RunInfo]:
        """The runs of one runbook, newest first."""
        return self._runs("WHERE runbook_id = ?", (runbook_id,))

    # -- events ------------------------------------------------------------------------------
    def _require_run(self, run_id: str) -> None:
        if not self._rows("SELECT 1 FROM runs WHERE id = ?", (run_id,)):
            raise self._unknown(run_id)

    def events(self, run_id: str, after_seq: int = 0) -> list[Event]:
        """Events of the run (exact id) with seq > ``after_seq``, in seq order."""
        rows = self._rows(f"SELECT {EVENT_COLS} FROM events WHERE run_id = ? AND seq > ? "
                          "ORDER BY seq", (run_id, after_seq))
        if not rows:
            self._require_run(run_id)
        return [event_from_row(r, self.name) for r in rows]

    def last_seq(self, run_id: str) -> int:
        """The seq of the run's last event; 0 when it has none."""
        seq = self._rows("SELECT max(seq) FROM events WHERE run_id = ?", (run_id,))[0][0]
        if seq is None:
            self._require_run(run_id)
        return seq or 0

    @contextmanager
    def writing(self, run_id: str) -> Iterator[SQLWriter]:
        """One write transaction on one run (ROLLBACK on any exception); writers of a run take
        turns, so seq is the last one plus one."""
        with self._transaction("record an event", lock=f"runbook:run:{run_id}") as conn:
            last = conn.execute(self._sql("SELECT max(seq) FROM events WHERE run_id = ?"),
                                (run_id,)).fetchone()[0]
            if last is None and not conn.execute(self._sql("SELECT 1 FROM runs WHERE id = ?"),
                                                  (run_id,)).fetchone():
                raise self._unknown(run_id)
            writer = SQLWriter(self, conn, run_id, last or 0)
            try:
                yield writer
            finally:
                writer._conn = None


class SQLWriter(Writer):
    """Appends to one run inside :meth:`SQLStore.writing`; invalid once the block ends."""

    def __init__(self, store: SQLStore, conn: Any, run_id: str, last: int) -> None:
        self._store = store
        self._conn = conn
        self.run_id = run_id
        self._last = last
        self._bumped = False

    def _live(self) -> Any:
        if self._conn is None:
            raise RuntimeError("Writer used outside its Store.writing() block")
        return self._conn

    def _one(self, sql: str, params: tuple) -> Any:
        return self._live().execute(self._store._sql(sql), params)

    def events_after(self, seq: int) -> list[Event]:
        rows = self._one(f"SELECT {EVENT_COLS} FROM events WHERE run_id = ? AND seq > ? "
                         "ORDER BY seq", (self.run_id, seq)).fetchall()
        return [event_from_row(r, self._store.name) for r in rows]

    def now(self) -> datetime:
        return self._store._writer_now(self._live())

    def append(self, *, at: datetime, actor: str, host: str, type: str, step: str | None = None,
               payload: dict | None = None, event_id: str | None = None) -> Event:
        at_us, body = to_us(at), dump(payload or {}, "event payload")
        if event_id is None:
            event_id = uuid.uuid4().hex
        else:
            row = self._one(f"SELECT {EVENT_COLS} FROM events WHERE event_id = ?",
                            (event_id,)).fetchone()
            if row is not None:
                if row[0] != self.run_id:
                    raise StoreError(f"event id {event_id!r} is already used by run {row[0]!r} "
                                     f"in {self._store.name}; use a fresh event id")
                return event_from_row(row, self._store.name)  # a retry writes nothing
        seq = self._last + 1
        self._one(f"INSERT INTO events ({EVENT_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  (self.run_id, seq, event_id, at_us, actor, host, type, step, body))
        if not self._bumped:
            self._store._wrote(self._conn)
            self._bumped = True
        self._last = seq
        return Event(self.run_id, seq, event_id, from_us(at_us), actor, host, type, step,
                     json.loads(body))

    def settle(self, version: int, summary: dict, detail: dict | None = None) -> None:
        if not self._bumped:
            raise RuntimeError("a summary follows the event it covers, in its transaction: "
                               "append first")
        self._one(SETTLE, (self.run_id, self._last, version, dump(summary, "run summary"),
                           dump(detail or {}, "run summary detail")))
