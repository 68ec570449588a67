"""Issue 8 hardening of the SQLite store: damaged stores, checkpoints, private files, symlinks,
one alert per level change, the store's clock (unit level; real processes are in
test_store_reliability.py)."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from runbook.engine.clock import ManualClock
from runbook.engine.run import Actor, Engine, Session, new_run
from runbook.engine.state import ALERT
from runbook.store import Store, StoreDamaged, StoreError, location, open_store
from runbook.store.files import kernel_now
from tests.conftest import START, at, make_runbook, three

OPS = Actor("kim", "ops-host")
ROOT = Path(__file__).resolve().parent.parent
RUNBOOK = ROOT / "runbooks" / "san-port-swap.yaml"
EVENTS = ROOT / "runbooks" / "san-port-swap.overrun.events.yaml"


def runbook():
    return make_runbook([{"id": "stop", "estimate": three(3, 5, 8)},
                         {"id": "swap", "estimate": three(5, 8, 15)},
                         {"id": "start", "estimate": three(3, 5, 9)}],
                        announced="2026-11-25T00:25",
                        contingencies=[{"id": "rollback", "title": "Roll back",
                                        "steps": [{"id": "rb", "estimate": "5m"}]}])


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runbook", *args], capture_output=True,
                          text=True, cwd=ROOT, env={**os.environ, **(env or {})}, timeout=120)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def recorded_store(path: Path) -> str:
    with Store(path) as s:
        engine = new_run(s, runbook(), ManualClock(START), OPS, samples=500)
        engine.start("stop")
        engine.clock.advance(300)
        engine.complete("stop")
        return engine.run_id


# -- item 9: a damaged store is named as damaged and never written to ---------------------------

def test_a_store_cut_short_by_one_byte_is_damaged_and_left_alone(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    recorded_store(db)
    with open(db, "r+b") as f:
        f.truncate(db.stat().st_size - 1)
    before = sha(db)
    for args in (["runs"], ["report"], ["simulate", str(RUNBOOK), "--events", str(EVENTS)]):
        res = cli(*args, "--db", str(db))
        assert res.returncode == 2, (args, res.stderr)
        assert f"{db} is damaged" in res.stderr and "restore it from a backup" in res.stderr
        assert "internal error" not in res.stderr and len(res.stderr.splitlines()) == 1
    assert sha(db) == before and not Path(f"{db}-wal").exists()


@pytest.mark.parametrize("column, value", [
    ("payload", "{not json"),
    ("payload", "[1, 2]"),
    ("at_us", "yesterday"),
    ("seq", "seven"),
])
def test_a_malformed_row_is_damaged_for_readers_and_writers(tmp_path: Path, column: str,
                                                            value: str) -> None:
    db = tmp_path / "runs.db"
    run_id = recorded_store(db)
    row = {"run_id": run_id, "seq": 99, "event_id": "forged", "at_us": 1, "actor": "x",
           "host": "h", "type": "note", "step": None, "payload": "{}", column: value}
    conn = sqlite3.connect(db)
    conn.execute(f"INSERT INTO events ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                 tuple(row.values()))
    conn.commit()
    conn.close()
    before = sha(db)
    for args in (["report", run_id], ["runs"], ["simulate", str(RUNBOOK), "--events", str(EVENTS)]):
        res = cli(*args, "--db", str(db))
        assert res.returncode == 2, (args, res.stderr)
        assert f"{db} is damaged" in res.stderr and "move it aside" in res.stderr, res.stderr
    with pytest.raises(StoreDamaged, match="malformed row"):
        Store(db)
    assert sha(db) == before


def test_opening_the_store_twice_in_one_process_keeps_the_writers_locks(tmp_path: Path) -> None:
    """`runbook run` opens the store as the writer and again read-only (the prior from history).
    If opening ever open()ed and close()d the database file itself, that close would drop the
    writer's POSIX locks: another process's connection would then believe it was the last one,
    checkpoint and delete the -wal under the live writer, and the writer's next commits would go
    to the deleted file and be lost."""
    path = tmp_path / "runs.db"
    writer = Store(path)
    info = writer.create_run(runbook_id="rb", title="t", label="live", source_text="runbook: 1\n",
                             source_name="rb.yaml", created_at=START)
    writer.append(info.id, at=START, actor="kim", host="h", type="note", payload={"text": "one"})
    Store(path, readonly=True).close()  # the same process opens and closes a follower
    other = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); " \
            "c.execute('SELECT count(*) FROM events').fetchall(); c.close()"
    subprocess.run([sys.executable, "-c", other, str(path)], check=True)  # another process comes and goes
    assert (tmp_path / "runs.db-wal").exists(), "the -wal of a live writer was deleted"
    writer.append(info.id, at=START, actor="kim", host="h", type="note", payload={"text": "two"})
    read = "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(" \
           "'SELECT count(*) FROM events').fetchone()[0])"
    seen = subprocess.run([sys.executable, "-c", read, str(path)], check=True,
                          capture_output=True, text=True).stdout.strip()
    assert seen == "2"
    writer.close()


def test_each_step_completion_reaches_the_main_file(tmp_path: Path) -> None:
    """Deleting the -wal file mid-run must not lose the run: a copy of runs.db alone holds every
    completed step, while the operator still has the store open."""
    db = tmp_path / "runs.db"
    store = Store(db)
    follower = Store(db, readonly=True)  # a watcher is open too
    engine = new_run(store, runbook(), ManualClock(START), OPS, samples=500)
    for step in ("stop", "swap"):
        engine.start(step)
        engine.clock.advance(120)
        follower.events(engine.run_id)
        engine.complete(step)
    assert Path(f"{db}-wal").exists()
    copy = tmp_path / "copy.db"
    shutil.copyfile(db, copy)  # the main file alone, as if the -wal were deleted
    with Store(copy, readonly=True) as s:
        done = [e.step for e in s.events(engine.run_id) if e.type == "step_completed"]
    assert done == ["stop", "swap"]
    follower.close()
    store.close()


def test_closing_the_store_brings_the_main_file_up_to_date(tmp_path: Path) -> None:
    """Quitting checkpoints: what came after the last completion (a start, a note) is in runs.db
    alone once the operator's store is closed, even while a watcher still has it open."""
    db = tmp_path / "runs.db"
    store = Store(db)
    follower = Store(db, readonly=True)
    engine = new_run(store, runbook(), ManualClock(START), OPS, samples=500)
    engine.start("stop")
    engine.clock.advance(60)
    engine.note("vendor on the bridge", "stop")
    follower.events(engine.run_id)  # the watcher has read: its snapshot must not hold the WAL back
    want = [e.type for e in follower.events(engine.run_id)]
    engine.close()
    store.close()
    copy = tmp_path / "copy.db"
    shutil.copyfile(db, copy)  # the main file alone, as if the -wal were deleted after the quit
    with Store(copy, readonly=True) as s:
        assert [e.type for e in s.events(engine.run_id)] == want
    assert want[-1] == "note"
    follower.close()


# -- item 10: private by default, symlinks refused -----------------------------------------------

def test_the_default_store_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNBOOK_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    old = os.umask(0o022)  # the usual umask: files would be 0644 and folders 0755
    try:
        store = open_store(None)
        follower = Store(location(None), readonly=True)
    finally:
        os.umask(old)
    db = tmp_path / "xdg" / "runbook" / "runs.db"
    assert store.path == db
    for folder in (tmp_path / "xdg", db.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    for f in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    follower.close()
    store.close()


def test_an_existing_store_keeps_its_mode(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    Store(db).close()
    db.chmod(0o640)  # its owner chose to share it with the group
    Store(db).close()
    assert stat.S_IMODE(db.stat().st_mode) == 0o640


def test_a_symlink_to_my_own_store_is_followed(tmp_path: Path) -> None:
    real = tmp_path / "real.db"
    run_id = recorded_store(real)
    link = tmp_path / "link.db"
    link.symlink_to(real)
    with Store(link) as s:
        assert s.path == real and s.last_seq(run_id) == 3
    assert not Path(f"{link}-wal").exists()


def test_a_dangling_symlink_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "runs.db"
    link.symlink_to(tmp_path / "elsewhere" / "victim.db")
    for readonly in (False, True):
        with pytest.raises(StoreError, match=rf"{link} is a symbolic link to .*does not exist"):
            Store(link, readonly=readonly)
    assert not (tmp_path / "elsewhere").exists()


def test_a_symlink_to_another_users_file_is_refused(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to give a file to another user")
    victim = tmp_path / "victim.db"
    recorded_store(victim)
    os.chown(victim, 65534, 65534)
    before = sha(victim)
    link = tmp_path / "runs.db"
    link.symlink_to(victim)
    for readonly in (False, True):
        with pytest.raises(StoreError, match=rf"{link} is a symbolic link to {victim}, owned by "
                                             r"another user \(uid 65534\)"):
            Store(link, readonly=readonly)
    res = cli("runs", "--db", str(link))
    assert res.returncode == 2 and "owned by another user" in res.stderr
    assert sha(victim) == before


# -- item 12b: one level change recorded once, whichever engine ticks first -----------------------

def test_two_engines_ticking_together_record_one_alert(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    with Store(db) as a_store, Store(db) as b_store:
        a = new_run(a_store, runbook(), ManualClock(START), OPS, samples=1_000)
        a.start("stop")
        b = Engine(b_store, b_store.run(a.run_id), ManualClock(START), Actor("lee", "ops-2"))
        for e in (a, b):
            e.clock.set(at(30))  # both see a 5-minute step running for 30 minutes
        synced = b.sync

        def b_syncs_then_a_records(force: bool = False):
            new = synced(force)
            a.tick()  # a records the change after b looked and before b decides
            return new

        b.sync = b_syncs_then_a_records
        tick = b.tick()
        assert tick.alert is not None  # b saw the change too ...
        alerts = [e for e in a_store.events(a.run_id) if e.type == ALERT]
        assert len(alerts) == 1 and alerts[0].actor == "kim"  # ... but only a recorded it
        assert b.state.level == alerts[0].payload["level"]


# -- item 6: the store's clock ---------------------------------------------------------------------

def test_kernel_clock_is_this_hosts_clock() -> None:
    from datetime import UTC, datetime

    assert abs((kernel_now() - datetime.now(UTC)).total_seconds()) < 0.5


class SkewedClock:
    """A real clock that runs ``skew`` seconds off the host's (as under libfaketime)."""

    real = True

    def __init__(self, skew: float) -> None:
        self.skew = timedelta(seconds=skew)

    def now(self):
        from datetime import UTC, datetime

        return datetime.now(UTC) + self.skew


@pytest.mark.parametrize("skew", [-1200.0, 1200.0])
def test_a_skewed_process_stamps_with_the_store_clock(tmp_path: Path, skew: float) -> None:
    from datetime import UTC, datetime

    with Store(tmp_path / "runs.db") as store:
        engine = new_run(store, runbook(), SkewedClock(skew), OPS, samples=500)
        assert engine.clock_skew_s == pytest.approx(-skew, abs=1.0)
        assert abs((engine.now() - datetime.now(UTC)).total_seconds()) < 1.0
        ev = engine.start("stop")
        assert abs((ev.at - datetime.now(UTC)).total_seconds()) < 1.0
        assert abs((store.run(engine.run_id).created_at - datetime.now(UTC)).total_seconds()) < 1
        watcher = Session(store, store.run(engine.run_id), SkewedClock(skew / 2))
        assert watcher.clock_skew_s == pytest.approx(-skew / 2, abs=1.0)


def test_simulated_clocks_have_no_skew(tmp_path: Path) -> None:
    with Store(tmp_path / "runs.db") as store:
        engine = new_run(store, runbook(), ManualClock(START), OPS, samples=500)
        assert engine.clock_skew_s is None and engine.now() == START
        assert engine.start("stop").at == START


def test_the_location_comes_from_db_then_runbook_db_then_the_default(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("RUNBOOK_DB", "~/env.db")
    assert location(None) == str(tmp_path / "env.db")
    assert location("~/arg.db") == str(tmp_path / "arg.db")
    url = "postgresql://kim@db.example:5433/runbook?sslmode=require"
    monkeypatch.setenv("RUNBOOK_DB", url)
    assert location(None) == url  # a URL is left as it is
