"""What only the SQLite store does (files, WAL, locks); the behaviour both backends share is in
tests/store/test_contract.py."""

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


def test_pendulum_datetimes_are_accepted(store: Store) -> None:
    pendulum = pytest.importorskip("pendulum")
    at = pendulum.datetime(2026, 11, 25, 0, 0, 1, tz="Asia/Seoul").add(microseconds=7)
    run = make_run(store, created_at=at)
    ev = add(store, run.id, at=at)
    assert run.created_at == ev.at == at == datetime(2026, 11, 24, 15, 0, 1, 7, tzinfo=UTC)
    assert type(ev.at) is datetime
    with pytest.raises(ValueError, match="aware"):
        add(store, run.id, at=pendulum.naive(2026, 11, 25))


# -- seq and event ids --------------------------------------------------------------------------

# -- runs: ids, prefixes, newest ----------------------------------------------------------------

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
            ro._rows("INSERT INTO meta VALUES ('x', 'y')")
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


