"""The server's follower: another connection's commits, the newest run, a store that fails."""

from __future__ import annotations

import threading
import time

import pytest

from runbook.engine.clock import ManualClock, SystemClock
from runbook.engine.run import Actor, new_run
from runbook.store import Store, StoreError, StoreUnavailable
from runbook.web.follow import Follower
from tests.conftest import START
from tests.web.test_status import runbook

OPS = Actor("kim", "ops-host")


@pytest.fixture
def db(tmp_path):
    return tmp_path / "runs.db"


def test_it_follows_what_another_connection_commits(db):
    with Store(db) as store:
        engine = new_run(store, runbook(), ManualClock(START), OPS, samples=1_000)
        f = Follower(str(db), None, ManualClock(START), publish=lambda frame: None)
        try:
            assert f.open().status["progress"]["running"] == []
            engine.start("prep")
            frame = f.refresh()
            assert frame.status["progress"]["running"] == ["Prepare"]
            assert frame.status["seq"] == engine.state.last_seq
            assert b'"running": [\n   "Prepare"' in frame.json
            assert frame.sse.startswith(b"data: {") and frame.sse.endswith(b"\n\n")
        finally:
            f.stop()


def test_its_thread_publishes_a_commit_within_a_second(db):
    with Store(db) as store:
        engine = new_run(store, runbook(), SystemClock(), OPS, samples=1_000)
        got: list = []
        seen = threading.Event()

        def publish(frame):
            got.append((time.monotonic(), frame))
            if frame.status["progress"]["running"]:
                seen.set()

        f = Follower(str(db), None, SystemClock(), publish=publish, interval=5.0)
        f.open()
        f.start()
        try:
            time.sleep(0.3)  # the first loop turn has run; the next periodic tick is 5 s away
            engine.start("prep")
            committed = time.monotonic()
            assert seen.wait(2.0)
            shown = next(t for t, fr in got if fr.status["progress"]["running"])
            assert shown - committed < 1.0
        finally:
            f.stop()


def test_without_a_run_named_it_switches_to_a_newer_run(db):
    with Store(db) as store:
        first = new_run(store, runbook(), ManualClock(START), OPS, samples=1_000)
        newest = Follower(str(db), None, ManualClock(START), publish=lambda frame: None)
        named = Follower(str(db), first.run_id[:12], ManualClock(START), publish=lambda f: None)
        try:
            newest.open()
            named.open()
            second = new_run(store, runbook(title="Second window"), ManualClock(START), OPS,
                             samples=1_000)
            assert newest.refresh().status["run"]["id"] == second.run_id
            assert newest.latest.status["runbook"]["title"] == "Second window"
            assert named.refresh().status["run"]["id"] == first.run_id
        finally:
            newest.stop()
            named.stop()


@pytest.mark.parametrize("error", [StoreError, StoreUnavailable])
def test_a_store_that_fails_marks_the_page_stale_then_recovers(db, monkeypatch, error):
    with Store(db) as store:
        new_run(store, runbook(), ManualClock(START), OPS, samples=1_000)
    clock = ManualClock(START)
    frames: list = []
    f = Follower(str(db), None, clock, publish=frames.append, interval=0.05)
    f.open()
    real = f.store.data_version
    broken = threading.Event()
    broken.set()

    def flaky():
        if broken.is_set():
            raise error("store gone (test)")
        return real()

    monkeypatch.setattr(f.store, "data_version", flaky)
    f.start()
    try:
        deadline = time.monotonic() + 5
        while not any(not fr.status["store"]["reachable"] for fr in frames):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        stale = next(fr for fr in frames if not fr.status["store"]["reachable"])
        assert stale.status["store"]["unreachable_since"] == "2026-11-25T00:00:00+09:00"
        assert stale.view["stale"].startswith("Store unreachable since 00:00")
        broken.clear()
        count = len(frames)
        while not (len(frames) > count and frames[-1].status["store"]["reachable"]):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert frames[-1].view["stale"] == ""
    finally:
        f.stop()


def test_no_store_or_no_run_is_said_plainly(tmp_path):
    f = Follower(str(tmp_path / "none.db"), None, ManualClock(START), publish=lambda fr: None)
    with pytest.raises(StoreError, match="no store at"):
        f.open()


def test_a_sync_that_finds_the_store_down_is_not_shown_as_reachable(db, monkeypatch):
    with Store(db) as store:
        new_run(store, runbook(), ManualClock(START), OPS, samples=1_000)
    f = Follower(str(db), "test", ManualClock(START), publish=lambda fr: None)
    f.open()
    try:
        def down():
            raise StoreUnavailable("database restarting (test)")

        monkeypatch.setattr(f.store, "data_version", down)
        with pytest.raises(StoreUnavailable):
            f.refresh()  # Session.sync() only notes the outage; the follower must not hide it
        assert f.session.store_down_since is not None and f.down_since is not None
        assert f._stale().status["store"]["reachable"] is False
    finally:
        f.stop()
