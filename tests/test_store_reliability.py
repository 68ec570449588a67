"""Reliability of the event store with real processes and real files (marked slow; run always)."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import random
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from runbook.store import Store, StoreError

pytestmark = pytest.mark.slow
HELPER = str(Path(__file__).parent / "helpers" / "store_proc.py")
T0 = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)


def digest(pid: int, n: int, bulk: str) -> str:  # as in helpers/store_proc.py
    return hashlib.sha256(f"{pid}:{n}:{bulk}".encode()).hexdigest()


def new_run(db: Path) -> str:
    with Store(db) as store:
        return store.create_run(runbook_id="rel", title="reliability", label="rehearsal",
                                source_text="runbook: 1\n", source_name="rel.yaml",
                                created_at=T0).id


def quick_check(db: Path) -> None:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA quick_check").fetchall() == [("ok",)]
    finally:
        conn.close()


_children: list[subprocess.Popen] = []


def spawn(*args: str, **kw) -> subprocess.Popen:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.Popen([sys.executable, HELPER, *args], env=env, text=True, **kw)
    _children.append(proc)
    return proc


@pytest.fixture(autouse=True)
def no_orphans() -> Iterator[None]:
    """A failing test must not leave its worker processes running."""
    yield
    while _children:
        proc = _children.pop()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream:
                stream.close()


# -- 1. kill -9 ---------------------------------------------------------------------------------

def check_appended(events: list, reported: dict[int, str]) -> None:
    """Seqs 1..n without gaps, every payload intact, every reported commit present."""
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    by_seq = {e.seq: e for e in events}
    per_pid: dict[int, int] = {}
    for e in events:
        p = e.payload
        assert set(p) == {"pid", "n", "bulk", "digest"}, e.seq
        assert p["digest"] == digest(p["pid"], p["n"], p["bulk"]), f"garbled event {e.seq}"
        assert e.event_id == f"{p['pid']}-{p['n']}"
        assert p["n"] == per_pid.get(p["pid"], -1) + 1, "a worker's events out of order"
        per_pid[p["pid"]] = p["n"]
    for seq, event_id in reported.items():
        assert seq in by_seq and by_seq[seq].event_id == event_id, f"lost committed event {seq}"


def test_kill9_appender_many_times(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    run_id = new_run(db)
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    reported: dict[int, str] = {}
    total = 0
    for i in range(30):
        with open(tmp_path / "stderr.txt", "w") as err:
            proc = spawn("append", str(db), run_id, stdout=subprocess.PIPE, stderr=err)
        first = ""
        if i % 5 == 4:  # some kills land while the worker starts or opens the store
            pause = rng.uniform(0.0, 0.08)
        else:  # most land in the middle of appending
            first = proc.stdout.readline()
            assert first, (tmp_path / "stderr.txt").read_text()
            pause = rng.uniform(0.0, 0.12)
        time.sleep(pause)  # the random moment of the kill
        os.kill(proc.pid, signal.SIGKILL)
        rest = proc.stdout.read()
        proc.wait()
        proc.stdout.close()
        assert proc.returncode == -signal.SIGKILL, (seed, (tmp_path / "stderr.txt").read_text())
        lines = (first + rest).split("\n")[:-1]  # a line without its newline is not reported
        new = dict((int(s), eid) for s, eid in (line.split() for line in lines))
        reported.update(new)
        with Store(db, readonly=True) as follower:  # a follower opens the crashed store
            events = follower.events(run_id)
        check_appended(events, reported)
        # at most one event committed but killed before it was reported
        assert 0 <= len(events) - total - len(new) <= 1, seed
        total = len(events)
        quick_check(db)
    assert total >= 100, "the kills should land among many appends"
    proc = spawn("append", str(db), run_id, "5", stdout=subprocess.PIPE)  # resume the same run
    out, _ = proc.communicate(timeout=60)
    assert [int(line.split()[0]) for line in out.splitlines()] == list(range(total + 1, total + 6))
    with Store(db) as store:
        check_appended(store.events(run_id), reported)
    quick_check(db)


# -- 2. two writers, five followers ------------------------------------------------------------

def test_two_writers_five_followers(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    run_id = new_run(db)
    stop = tmp_path / "stop"
    followers = []
    for k in range(5):
        proc = spawn("follower", str(db), run_id, str(stop), str(tmp_path / f"f{k}.json"),
                     stdout=subprocess.PIPE)
        followers.append(proc)
    for proc in followers:
        assert proc.stdout.readline().strip() == "ready"
    writers = [spawn("writer", str(db), run_id, name, "5", str(tmp_path / f"{name}.log"),
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE) for name in ("A", "B")]
    for proc in writers:
        assert proc.stdout.readline().strip() == "ready"
    for proc in writers:
        proc.stdin.write("go\n")
        proc.stdin.close()
    for proc in writers:
        assert proc.wait(timeout=60) == 0
        proc.stdout.close()
    stop.touch()
    for proc in followers:
        proc.stdout.read()
        assert proc.wait(timeout=60) == 0
        proc.stdout.close()

    logged: dict[int, str] = {}
    for name in ("A", "B"):
        lines = (tmp_path / f"{name}.log").read_text().splitlines()
        assert [x for x in lines if not x.startswith("OK ")] == [], "a writer met an error"
        mine = [(int(seq), eid) for _, seq, eid in (x.split() for x in lines)]
        assert [eid for _, eid in mine] == [f"{name}-{i}" for i in range(len(mine))]
        assert [s for s, _ in mine] == sorted(s for s, _ in mine), "a writer's events reordered"
        assert not set(logged) & {s for s, _ in mine}, "two events got one seq"
        logged.update(mine)
        assert len(mine) >= 10, f"writer {name} appended only {len(mine)} events"
    with Store(db, readonly=True) as store:
        stored = [(e.seq, e.event_id) for e in store.events(run_id)]
    assert stored == sorted(logged.items()), "lost, duplicated or unlogged events"
    assert [s for s, _ in stored] == list(range(1, len(stored) + 1))
    owners = [eid[0] for _, eid in stored]
    switches = sum(a != b for a, b in zip(owners, owners[1:], strict=False))
    assert switches >= 5, f"the writers hardly interleaved ({switches} switches)"
    for k in range(5):
        report = json.loads((tmp_path / f"f{k}.json").read_text())
        assert report["errors"] == []
        assert [tuple(x) for x in report["seen"]] == stored, f"follower {k} saw another sequence"
        assert report["batches"] > 3 and report["dv_changes"] > 3, f"follower {k} did not follow"
    quick_check(db)


# -- 3. read-only file and directory -----------------------------------------------------------

def as_unprivileged(target: Callable, *args) -> tuple[multiprocessing.Process, object]:
    """Run target(conn, *args) in a forked child that cannot bypass file permissions.

    Root ignores chmod, so as root the child drops to the 'nobody' user first; when that is not
    possible it reports 'skip' instead of testing nothing.
    """
    ctx = multiprocessing.get_context("fork")
    mine, theirs = ctx.Pipe()

    def child() -> None:
        try:
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
        except OSError as e:
            theirs.send(("skip", f"cannot drop root privileges: {e}"))
            return
        target(theirs, *args)

    proc = ctx.Process(target=child)
    proc.start()
    return proc, mine


def recv(conn, proc) -> object:
    assert conn.poll(60), "unprivileged child did not answer"
    msg = conn.recv()
    if isinstance(msg, tuple) and msg and msg[0] == "skip":
        proc.join()
        pytest.skip(msg[1])
    return msg


def try_append(conn, db: str, run_id: str) -> None:
    try:
        with Store(db) as store:
            store.append(run_id, at=T0, actor="x", host="h", type="tick")
        conn.send("ok")
    except StoreError as e:
        conn.send(f"StoreError: {e}")


def follow(conn, db: str, run_id: str) -> None:
    with Store(db, readonly=True) as store:
        dv = store.data_version()
        conn.send(len(store.events(run_id)))
        conn.recv()  # the parent has appended
        conn.send((len(store.events(run_id)), store.data_version() != dv))


@pytest.fixture
def world_dir() -> Iterator[Path]:
    """A directory the 'nobody' user can reach (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="runbook-store-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        for p in [path, *path.rglob("*")]:
            if p.is_dir():
                p.chmod(0o755)
        shutil.rmtree(path)


def seeded_store(db: Path, n: int = 3) -> str:
    run_id = new_run(db)
    with Store(db) as store:
        for _ in range(n):
            store.append(run_id, at=T0, actor="op", host="h", type="tick")
    assert not Path(f"{db}-wal").exists()  # the writer closed: no -wal / -shm files
    return run_id


def run_child(target: Callable, *args) -> object:
    proc, conn = as_unprivileged(target, *args)
    msg = recv(conn, proc)
    proc.join(60)
    return msg


def test_readonly_file_refuses_writes(world_dir: Path) -> None:
    d = world_dir / "rw"
    d.mkdir()
    d.chmod(0o777)
    control = d / "control.db"
    control_run = seeded_store(control)
    control.chmod(0o666)
    # control: the same child can write a writable store, so the refusal below is real
    assert run_child(try_append, str(control), control_run) == "ok"

    db = d / "runs.db"
    run_id = seeded_store(db)
    db.chmod(0o444)
    msg = run_child(try_append, str(db), run_id)
    assert msg.startswith("StoreError: cannot write to ") and str(db) in msg
    assert "read-only" in msg
    with Store(db, readonly=True) as store:
        assert store.last_seq(run_id) == 3
    quick_check(db)


def test_readonly_directory_refuses_writes_and_follower_still_reads(world_dir: Path) -> None:
    d = world_dir / "ro"
    d.mkdir()
    db = d / "runs.db"
    run_id = seeded_store(db)
    db.chmod(0o666)
    d.chmod(0o555)
    msg = run_child(try_append, str(db), run_id)
    assert msg.startswith("StoreError: cannot write to ") and str(db) in msg
    assert "read-only directory" in msg
    assert sorted(os.listdir(d)) == ["runs.db"]

    # a follower cannot create -wal/-shm here: it falls back to a snapshot, then follows
    # properly once a writer (root, or the directory owner) has opened the store
    proc, conn = as_unprivileged(follow, str(db), run_id)
    assert recv(conn, proc) == 3
    if os.geteuid() == 0:
        with Store(db) as store:  # root may write in the read-only directory
            store.append(run_id, at=T0, actor="op", host="h", type="tick")
            conn.send("go")
            assert recv(conn, proc) == (4, True)
    else:
        conn.send("go")
        assert recv(conn, proc) == (3, False)
    proc.join(60)
    assert stat.S_IMODE(d.stat().st_mode) == 0o555


def test_parent_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match=r"cannot write to .*file/runs\.db: cannot create"):
        Store(tmp_path / "file" / "runs.db")


# -- 4. full disk --------------------------------------------------------------------------------

def test_disk_full_records_nothing(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    run_id = seeded_store(db, n=5)
    conn = sqlite3.connect(db)
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()
    with Store(db, _max_pages=pages + 2) as store:
        with pytest.raises(StoreError, match="disk is full") as info:
            store.append(run_id, at=T0, actor="op", host="h", type="tick",
                         payload={"bulk": "x" * 200_000})
        assert str(db) in str(info.value)
        assert store.last_seq(run_id) == 5
        with pytest.raises(StoreError, match="disk is full"), store.writing(run_id) as w:
            w.append(at=T0, actor="op", host="h", type="small")
            w.append(at=T0, actor="op", host="h", type="big", payload={"bulk": "x" * 200_000})
        assert store.last_seq(run_id) == 5  # the whole transaction is gone
        store.append(run_id, at=T0, actor="op", host="h", type="small")  # what fits still fits
    with Store(db) as store:
        assert [e.type for e in store.events(run_id)] == ["tick"] * 5 + ["small"]
    quick_check(db)
