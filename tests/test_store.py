"""Unit tests of the SQLite event store (runbook/store/sqlite.py)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from runbook.store import (
    SCHEMA_VERSION,
    Event,
    RunInfo,
    Store,
    StoreError,
    UnknownRun,
    default_path,
)

T0 = datetime(2026, 11, 24, 15, 0, 0, 123456, tzinfo=UTC)
KST = timezone(timedelta(hours=9))
SOURCE = "runbook: 1\ntitle: Swap port  # 한글\nsteps: []\n"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "sub" / "runs.db"


@pytest.fixture
def store(db: Path):
    with Store(db) as s:
        yield s


def make_run(store: Store, runbook_id: str = "san-port-swap", **kw) -> RunInfo:
    args = dict(runbook_id=runbook_id, title="Replace port", label="live", source_text=SOURCE,
                source_name="san.yaml", created_at=T0, meta={"seed": 7, "samples": 2000})
    return store.create_run(**{**args, **kw})


def add(store: Store, run_id: str, **kw) -> Event:
    args = dict(at=T0, actor="kim", host="ops1", type="start")
    return store.append(run_id, **{**args, **kw})


# -- round trips --------------------------------------------------------------------------------

def test_run_round_trip(store: Store, db: Path) -> None:
    run = make_run(store)
    assert run.id.startswith("san-port-swap-20261124-1500-") and len(run.id) == 32
    expected = RunInfo(id=run.id, runbook_id="san-port-swap", title="Replace port", label="live",
                       created_at=T0, source_name="san.yaml", source_text=SOURCE,
                       meta={"seed": 7, "samples": 2000})
    assert run == expected
    assert store.path == db and not store.readonly
    with Store(db, readonly=True) as ro:
        assert ro.run(run.id) == expected
        assert ro.run(run.id).created_at.tzinfo is UTC


def test_event_round_trip_exact(store: Store, db: Path) -> None:
    run = make_run(store)
    at = datetime(2026, 11, 25, 0, 3, 7, 654321, tzinfo=KST)  # 2026-11-24T15:03:07.654321Z
    ev = add(store, run.id, at=at, type="complete", step="stop-was",
             payload={"note": "ok ✓", "n": [1, 2.5, None], "nested": {"a": True}},
             event_id="e-1")
    expected = Event(run_id=run.id, seq=1, event_id="e-1",
                     at=datetime(2026, 11, 24, 15, 3, 7, 654321, tzinfo=UTC), actor="kim",
                     host="ops1", type="complete", step="stop-was",
                     payload={"note": "ok ✓", "n": [1, 2.5, None], "nested": {"a": True}})
    assert ev == expected
    with Store(db, readonly=True) as ro:
        [got] = ro.events(run.id)
    assert got == expected and got.at == at and got.at.tzinfo is UTC
    default = add(store, run.id)
    assert default.step is None and default.payload == {} and len(default.event_id) == 32


def test_instants_are_exact_microseconds_far_from_epoch(store: Store) -> None:
    run = make_run(store)
    instants = [datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
                datetime(2262, 4, 11, 23, 47, 16, 854775, tzinfo=UTC),
                datetime(2026, 3, 29, 1, 30, 0, 1, tzinfo=timezone(timedelta(hours=-3, minutes=-30)))]
    for at in instants:
        add(store, run.id, at=at)
    assert [e.at for e in store.events(run.id)] == instants


def test_pendulum_datetimes_are_accepted(store: Store) -> None:
    pendulum = pytest.importorskip("pendulum")
    at = pendulum.datetime(2026, 11, 25, 0, 0, 1, tz="Asia/Seoul").add(microseconds=7)
    run = make_run(store, created_at=at)
    ev = add(store, run.id, at=at)
    assert run.created_at == ev.at == at == datetime(2026, 11, 24, 15, 0, 1, 7, tzinfo=UTC)
    assert type(ev.at) is datetime
    with pytest.raises(ValueError, match="aware"):
        add(store, run.id, at=pendulum.naive(2026, 11, 25))


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="aware"):
        make_run(store, created_at=datetime(2026, 11, 25))
    run = make_run(store)
    with pytest.raises(ValueError, match="aware"):
        add(store, run.id, at=datetime(2026, 11, 25))
    assert store.events(run.id) == []


def test_bad_label_and_payload_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="label"):
        make_run(store, label="test")
    run = make_run(store)
    with pytest.raises(ValueError):
        add(store, run.id, payload={"x": float("nan")})
    with pytest.raises(TypeError):
        add(store, run.id, payload={"x": object()})
    with pytest.raises(TypeError):
        add(store, run.id, payload=[1, 2])  # type: ignore[arg-type]
    assert store.last_seq(run.id) == 0


# -- seq and event ids --------------------------------------------------------------------------

def test_seq_assignment_per_run(store: Store) -> None:
    a, b = make_run(store, "a"), make_run(store, "b")
    assert store.last_seq(a.id) == 0
    assert [add(store, a.id).seq for _ in range(3)] == [1, 2, 3]
    assert add(store, b.id).seq == 1
    with store.writing(a.id) as w:
        assert [w.append(at=T0, actor="x", host="h", type="t").seq for _ in range(2)] == [4, 5]
        assert [e.seq for e in w.events_after(3)] == [4, 5]  # sees its own uncommitted events
    assert store.last_seq(a.id) == 5 and store.last_seq(b.id) == 1
    assert [e.seq for e in store.events(a.id, after_seq=2)] == [3, 4, 5]
    assert store.events(a.id, after_seq=5) == []


def test_event_id_is_idempotent(store: Store) -> None:
    run = make_run(store)
    first = add(store, run.id, event_id="retry-me", payload={"v": 1})
    again = add(store, run.id, event_id="retry-me", payload={"v": 2}, type="other")
    assert again == first
    with store.writing(run.id) as w:
        assert w.append(at=T0, actor="x", host="h", type="t", event_id="retry-me") == first
        new = w.append(at=T0, actor="x", host="h", type="t", event_id="fresh")
        assert w.append(at=T0, actor="x", host="h", type="t", event_id="fresh") == new
    assert [(e.seq, e.event_id) for e in store.events(run.id)] == [(1, "retry-me"), (2, "fresh")]
    other = make_run(store, "other")
    with pytest.raises(StoreError, match="already used by run"):
        add(store, other.id, event_id="retry-me")
    assert store.events(other.id) == []


def test_events_are_append_only(store: Store, db: Path) -> None:
    run = make_run(store)
    add(store, run.id)
    conn = sqlite3.connect(db)
    try:
        for sql in ("UPDATE events SET actor = 'mallory'", "DELETE FROM events",
                    "UPDATE runs SET title = 'x'", "DELETE FROM runs"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                conn.execute(sql)
    finally:
        conn.close()
    assert store.events(run.id)[0].actor == "kim"


def test_rollback_on_exception_leaves_nothing(store: Store) -> None:
    run = make_run(store)
    add(store, run.id)
    with pytest.raises(KeyError), store.writing(run.id) as w:
        w.append(at=T0, actor="x", host="h", type="t", event_id="lost-1")
        w.append(at=T0, actor="x", host="h", type="t", event_id="lost-2")
        raise KeyError("operator action failed validation")
    assert [e.seq for e in store.events(run.id)] == [1]
    assert add(store, run.id, event_id="lost-1").seq == 2  # the id was never recorded
    with pytest.raises(RuntimeError, match="outside"):
        w.append(at=T0, actor="x", host="h", type="t")


def test_unknown_run_for_events_and_writes(store: Store) -> None:
    make_run(store, run_id="real-run")
    with pytest.raises(UnknownRun, match="no run 'real-rum'.*closest: real-run"):
        store.events("real-rum")
    with pytest.raises(UnknownRun):
        store.last_seq("nope")
    with pytest.raises(UnknownRun), store.writing("nope"):
        pass
    with pytest.raises(UnknownRun):
        add(store, "real")  # writes need the exact id, not a prefix


# -- runs: ids, prefixes, newest ----------------------------------------------------------------

def test_explicit_run_id_and_duplicate(store: Store) -> None:
    assert make_run(store, run_id="mine").id == "mine"
    with pytest.raises(StoreError, match="run 'mine' already exists"):
        make_run(store, run_id="mine")


def test_prefix_resolution_and_messages(store: Store, db: Path) -> None:
    a = make_run(store, run_id="san-port-swap-20261124-1500-aaaa")
    b = make_run(store, run_id="san-port-swap-20261124-1500-abbb")
    c = make_run(store, "dr-drill", run_id="dr-drill-20261201-0100-cccc")
    assert store.run(a.id) == a
    assert store.run("san-port-swap-20261124-1500-ab") == b
    assert store.resolve("dr") == c
    with pytest.raises(UnknownRun, match=r"ambiguous .*: it matches \S+, \S+; give more") as e:
        store.run("san-port-swap-20261124-1500-a")
    assert a.id in str(e.value) and b.id in str(e.value) and c.id not in str(e.value)
    with pytest.raises(UnknownRun) as info:
        store.run("san-port-swap-20261124-1500-aaab")
    msg = str(info.value)
    assert str(db) in msg and "closest: " in msg and a.id in msg
    with pytest.raises(UnknownRun, match=r"newest: dr-drill-20261201-0100-cccc"):
        store.run("zzzzzzzz")


def test_resolve_none_is_newest_and_listings(store: Store) -> None:
    old = make_run(store, created_at=T0 - timedelta(days=1))
    new1 = make_run(store, created_at=T0)
    new2 = make_run(store, "other", created_at=T0)  # same instant: the later insert wins
    older = make_run(store, created_at=T0 - timedelta(days=2))
    assert store.resolve(None) == new2
    assert [r.id for r in store.runs()] == [new2.id, new1.id, old.id, older.id]
    assert [r.id for r in store.runs_of("san-port-swap")] == [new1.id, old.id, older.id]
    assert store.runs_of("missing") == []


def test_empty_store_message(store: Store, db: Path) -> None:
    assert store.runs() == []
    with pytest.raises(UnknownRun, match=rf"store {db} has no runs yet"):
        store.resolve(None)
    with pytest.raises(UnknownRun, match="has no runs yet"):
        store.run("anything")


# -- opening: refusals --------------------------------------------------------------------------

def test_creates_parent_dirs_and_wal(db: Path) -> None:
    with Store(db) as s:
        assert db.is_file()
        assert s._c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert s._c.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT value FROM meta").fetchall() == [(str(SCHEMA_VERSION),)]
    conn.close()


def test_newer_schema_is_refused(db: Path) -> None:
    Store(db).close()
    conn = sqlite3.connect(db)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'",
                 (str(SCHEMA_VERSION + 1),))
    conn.commit()
    conn.close()
    for readonly in (False, True):
        with pytest.raises(StoreError, match=rf"{db} was written by a newer runbook.*upgrade"):
            Store(db, readonly=readonly)


def test_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 200)
    for readonly in (False, True):
        with pytest.raises(StoreError, match=rf"{path} is not a runbook store"):
            Store(path, readonly=readonly)
    assert path.read_text().startswith("these are my notes")
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    with pytest.raises(StoreError, match="SQLite database but not a runbook store"):
        Store(other)


def test_damaged_store_is_refused(db: Path) -> None:
    with Store(db) as s:
        run = make_run(s)
        for i in range(50):
            add(s, run.id, payload={"i": i, "bulk": "x" * 500})
    data = bytearray(db.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[page:] = b"\xa5" * (len(data) - page)  # keep the header page, garble all others
    db.write_bytes(bytes(data))
    for readonly in (False, True):
        with (pytest.raises(StoreError, match=rf"{db} is damaged .*restore it"),
              Store(db, readonly=readonly) as s):
            s.events(s.resolve(None).id)


def test_empty_file_becomes_a_store(db: Path) -> None:
    db.parent.mkdir()
    db.touch()
    with pytest.raises(StoreError, match=rf"{db} is not initialised as a runbook store yet"):
        Store(db, readonly=True)
    with Store(db) as s:
        assert s.runs() == []
    with Store(db, readonly=True) as s:
        assert s.runs() == []


def test_nested_writing_is_refused(store: Store) -> None:
    run = make_run(store)
    with pytest.raises(RuntimeError, match="nested"), store.writing(run.id) as w:
        w.append(at=T0, actor="x", host="h", type="t")
        add(store, run.id)
    assert store.last_seq(run.id) == 0


def test_directory_path_is_refused(tmp_path: Path) -> None:
    for readonly in (False, True):
        with pytest.raises(StoreError, match=rf"{tmp_path} is a directory.*runs\.db"):
            Store(tmp_path, readonly=readonly)


def test_readonly_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=rf"no store at {tmp_path / 'none.db'}"):
        Store(tmp_path / "none.db", readonly=True)
    assert not (tmp_path / "none.db").exists()


def test_readonly_store_refuses_writes(store: Store, db: Path) -> None:
    run = make_run(store)
    add(store, run.id)
    store.close()
    assert not Path(f"{db}-wal").exists()  # writer closed: the follower must cope without -wal
    with Store(db, readonly=True) as ro:
        assert ro.readonly and len(ro.events(run.id)) == 1
        with pytest.raises(StoreError, match="read-only"):
            add(ro, run.id)
        with pytest.raises(StoreError, match="read-only"):
            make_run(ro)
        with pytest.raises(StoreError, match="read-only"), ro.writing(run.id):
            pass
        with pytest.raises(StoreError, match="cannot write"):  # even behind the API's back
            ro._query("INSERT INTO meta VALUES ('x', 'y')")
    with Store(db, readonly=True) as ro:
        assert len(ro.events(run.id)) == 1


def test_busy_store_gives_clear_error(store: Store, db: Path) -> None:
    run = make_run(store)
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with Store(db, timeout=0.2) as s, pytest.raises(StoreError) as info:
            add(s, run.id)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert str(info.value) == (f"{db} is busy: another runbook process holds the write lock "
                               "for more than 0.2s; wait for it or stop it, then retry")
    assert store.last_seq(run.id) == 0


def test_closed_store(db: Path) -> None:
    s = Store(db)
    s.close()
    s.close()
    with pytest.raises(StoreError, match="closed"):
        s.runs()


# -- followers ----------------------------------------------------------------------------------

def test_data_version_changes_after_another_connection_writes(store: Store, db: Path) -> None:
    run = make_run(store)
    with Store(db, readonly=True) as ro:
        v0 = ro.data_version()
        assert ro.data_version() == v0  # nothing happened
        add(store, run.id)
        v1 = ro.data_version()
        assert v1 != v0
        assert [e.seq for e in ro.events(run.id)] == [1]
        assert ro.data_version() == v1


def test_follower_opened_before_writer_sees_new_events(db: Path) -> None:
    with Store(db) as w:
        run = make_run(w)
    assert not Path(f"{db}-wal").exists()
    with Store(db, readonly=True) as ro:
        v0 = ro.data_version()
        with Store(db) as w:
            add(w, run.id, event_id="x")
            assert ro.data_version() != v0
            assert [e.event_id for e in ro.events(run.id)] == ["x"]
            add(w, run.id, event_id="y")
            assert [e.event_id for e in ro.events(run.id, after_seq=1)] == ["y"]


# -- default path -------------------------------------------------------------------------------

def test_default_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("RUNBOOK_DB", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_path() == tmp_path / "home" / ".local" / "share" / "runbook" / "runs.db"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")  # the XDG spec says ignore it
    assert default_path() == tmp_path / "home" / ".local" / "share" / "runbook" / "runs.db"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_path() == tmp_path / "xdg" / "runbook" / "runs.db"
    monkeypatch.setenv("RUNBOOK_DB", str(tmp_path / "mine.db"))
    assert default_path() == tmp_path / "mine.db"


def test_a_follower_wakes_when_another_connection_commits(tmp_path):
    import threading
    import time

    path = tmp_path / "runs.db"
    writer = Store(path)
    info = writer.create_run(runbook_id="rb", title="t", label="live", source_text=SOURCE,
                             source_name="rb.yaml", created_at=T0)
    follower = Store(path, readonly=True)
    since = follower.data_version()
    assert follower.wait_for_change(since, 0.1) == since  # nothing committed: times out
    timer = threading.Timer(0.2, lambda: writer.append(info.id, at=T0, actor="kim", host="h",
                                                       type="note", payload={"text": "x"}))
    timer.start()
    began = time.monotonic()
    assert follower.wait_for_change(since, 5.0) != since
    assert time.monotonic() - began < 2.0
    assert [e.payload["text"] for e in follower.events(info.id)] == ["x"]
    timer.join()
    follower.close()
    writer.close()
