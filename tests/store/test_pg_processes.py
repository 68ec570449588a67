"""PostgreSQL with real processes: two writers and five LISTEN/NOTIFY followers, kill -9 of a
writer, the server restarted mid-run, and the whole night: two operators with clocks faked 20
minutes apart drive one run through a kill -9 and a server restart (issue 12, done-when)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from runbook.store import Store
from tests.helpers.pg_cluster import Cluster, admin_execute, with_database
from tests.store.test_store_processes import (
    Operator,
    durations,
    live_runbook,
    no_orphans,  # noqa: F401  (kills the workers a failing test leaves behind)
    report,
    spawn,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def own_db(pg_cluster: Cluster) -> Iterator[str]:
    """A fresh database on the cluster this session controls (so it can be restarted)."""
    name = f"rb_{os.urandom(6).hex()}"
    admin_execute(pg_cluster.url(), f'CREATE DATABASE "{name}"')
    yield with_database(pg_cluster.url(), name)
    admin_execute(pg_cluster.url(), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def new_run(db: str) -> str:
    from datetime import UTC, datetime

    with Store(db) as store:
        return store.create_run(runbook_id="rel", title="reliability", label="rehearsal",
                                source_text="runbook: 1\n", source_name="rel.yaml",
                                created_at=datetime.now(UTC)).id


def followers(db: str, run_id: str, tmp_path: Path, n: int = 5) -> list[subprocess.Popen]:
    procs = [spawn("follower", db, run_id, str(tmp_path / "stop"), str(tmp_path / f"f{k}.json"),
                   "wait", stdout=subprocess.PIPE) for k in range(n)]
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    return procs


def followers_saw(procs: list[subprocess.Popen], tmp_path: Path, stored: list) -> list[dict]:
    (tmp_path / "stop").touch()
    for p in procs:
        p.stdout.read()
        assert p.wait(60) == 0
    reports = [json.loads((tmp_path / f"f{k}.json").read_text()) for k in range(len(procs))]
    for k, r in enumerate(reports):
        assert r["errors"] == [], f"follower {k}: {r['errors'][:3]}"
        assert [tuple(x) for x in r["seen"]] == stored, f"follower {k} saw another sequence"
    return reports


def test_two_writers_and_five_followers(pg_url: str, tmp_path: Path) -> None:
    run_id = new_run(pg_url)
    watching = followers(pg_url, run_id, tmp_path)
    writers = [spawn("writer", pg_url, run_id, name, "4", str(tmp_path / f"{name}.log"),
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE) for name in ("A", "B")]
    for p in writers:
        assert p.stdout.readline().strip() == "ready"
    for p in writers:
        p.stdin.write("go\n")
        p.stdin.close()
    for p in writers:
        assert p.wait(120) == 0
    logged: dict[int, str] = {}
    for name in ("A", "B"):
        lines = (tmp_path / f"{name}.log").read_text().splitlines()
        assert [x for x in lines if not x.startswith("OK ")] == [], "a writer met an error"
        mine = [(int(seq), eid) for _, seq, eid in (x.split() for x in lines)]
        assert [eid for _, eid in mine] == [f"{name}-{i}" for i in range(len(mine))]
        assert not set(logged) & {s for s, _ in mine}, "two events got one seq"
        logged.update(mine)
        assert len(mine) >= 10, f"writer {name} appended only {len(mine)} events"
    with Store(pg_url, readonly=True) as store:
        stored = [(e.seq, e.event_id) for e in store.events(run_id)]
    assert stored == sorted(logged.items()), "lost, duplicated or unlogged events"
    owners = [eid[0] for _, eid in stored]
    assert sum(a != b for a, b in zip(owners, owners[1:], strict=False)) >= 5, "no interleaving"
    for r in followers_saw(watching, tmp_path, stored):
        assert r["batches"] > 3, "a follower did not follow live"


def test_kill_9_of_a_writer_loses_nothing_committed(pg_url: str) -> None:
    from tests.test_store_reliability import check_appended

    run_id = new_run(pg_url)
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    reported: dict[int, str] = {}
    for _ in range(8):
        proc = spawn("append", pg_url, run_id, stdout=subprocess.PIPE)
        first = proc.stdout.readline()
        assert first
        time.sleep(rng.uniform(0.0, 0.3))  # the random moment of the kill
        os.kill(proc.pid, signal.SIGKILL)
        rest = proc.stdout.read()
        proc.wait()
        lines = (first + rest).split("\n")[:-1]
        reported.update((int(s), eid) for s, eid in (line.split() for line in lines))
        with Store(pg_url, readonly=True) as store:
            check_appended(store.events(run_id), reported)
    assert len(reported) >= 8


def test_a_server_restart_mid_run_refuses_then_resumes_by_itself(own_db: str, pg_cluster: Cluster,
                                                                 tmp_path: Path) -> None:
    book = live_runbook(tmp_path)
    op = Operator(own_db, book, "kim")
    run_id = op.opened["run"]
    watching = followers(own_db, run_id, tmp_path, n=2)
    assert "error" not in op("start a")
    pg_cluster.stop()
    refused = op("complete a")
    assert refused["error"].startswith("StoreUnavailable: store postgresql://") and refused["down"]
    assert "unreachable" in refused["error"]
    assert op("tick")["down"] is True  # the screen says "store unreachable since ..."
    pg_cluster.run_server()
    assert op("tick")["down"] is False  # back by itself, no restart of the operator
    done = op("complete a")
    assert "error" not in done, done
    assert "error" not in op("note back after the restart")
    op.quit()
    with Store(own_db, readonly=True) as store:
        events = store.events(run_id)
    types = [(e.type, e.step) for e in events]
    assert types.count(("step_completed", "a")) == 1
    assert len({e.event_id for e in events}) == len(events)
    followers_saw(watching, tmp_path, [(e.seq, e.event_id) for e in events])


def test_two_operators_with_faked_clocks_through_kill_9_and_a_restart(
        own_db: str, pg_cluster: Cluster, tmp_path: Path) -> None:
    """Issue 12 done-when: two `runbook run` processes with clocks 20 minutes apart drive one run
    in PostgreSQL; one is killed with -9 and the server restarts; nothing is lost."""
    book = live_runbook(tmp_path)
    fast = Operator(own_db, book, "lee", clock="+10m")
    slow = Operator(own_db, book, "park", clock="-10m")
    run_id = fast.opened["run"]
    assert slow.opened["run"] == run_id and slow.opened["resumed"]
    watching = followers(own_db, run_id, tmp_path, n=2)
    assert "error" not in fast("start a")
    time.sleep(1.0)  # real step durations, the quantity under test
    assert "error" not in slow("complete a")
    assert "error" not in fast("start b")
    fast.kill()  # kill -9 mid-step
    pg_cluster.restart()
    time.sleep(1.0)
    assert "error" not in slow("complete b"), "the store should be back"
    fast = Operator(own_db, book, "lee", clock="+10m")  # the killed operator comes back
    assert fast.opened == {**fast.opened, "run": run_id, "resumed": True}
    assert "error" not in fast("start c")
    time.sleep(1.0)
    assert "error" not in slow("complete c")
    slow.quit()
    fast.quit()
    took = durations(own_db, run_id)
    assert all(0.9 <= took[s] < 30 for s in "abc"), took
    with Store(own_db, readonly=True) as store:
        events = store.events(run_id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert [e.at for e in events] == sorted(e.at for e in events)
    summary = report(own_db, run_id)["summary"]
    assert summary["outage_report_required"] is False, summary
    followers_saw(watching, tmp_path, [(e.seq, e.event_id) for e in events])
