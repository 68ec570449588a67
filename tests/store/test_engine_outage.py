"""The engine while the store is away, on both backends: actions refused clearly, nothing recorded
twice when a commit's answer was lost, alerts noticed meanwhile recorded once when it returns."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from runbook.engine.clock import ManualClock
from runbook.engine.run import Actor, new_run
from runbook.engine.state import ALERT, NOTE
from runbook.store import Store, StoreUnavailable
from tests.conftest import START, at, make_runbook

OPS = Actor("kim", "ops-host")


def runbook():
    return make_runbook([{"id": "stop"}, {"id": "swap"}], announced="2026-11-25T00:15")


class Outage:
    """Makes a store unreachable on demand, or lose the answer to one commit that did land."""

    def __init__(self, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
        self.down = False
        self.lose_next_ack = False
        writing, events, version = store.writing, store.events, store.data_version

        def gone(*_a, **_k):
            raise StoreUnavailable(f"store {store.name} is unreachable (test outage)")

        @contextmanager
        def flaky_writing(run_id: str):
            if self.down:
                gone()
            with writing(run_id) as w:
                yield w
            if self.lose_next_ack:  # committed, but the answer never came back
                self.lose_next_ack = False
                gone()

        monkeypatch.setattr(store, "writing", flaky_writing)
        monkeypatch.setattr(store, "events", lambda *a, **k: gone() if self.down else events(*a, **k))
        monkeypatch.setattr(store, "data_version", lambda: gone() if self.down else version())


def test_an_action_whose_commit_answer_was_lost_is_not_recorded_twice(
        backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with Store(backend) as store:
        engine = new_run(store, runbook(), ManualClock(START), OPS, samples=500)
        outage = Outage(store, monkeypatch)
        outage.lose_next_ack = True
        with pytest.raises(StoreUnavailable, match="unreachable"):
            engine.note("vendor case INC-42")
        assert engine.store_down_since == START and engine.state.notes == []
        again = engine.note("vendor case INC-42")  # the operator presses it again
        assert engine.store_down_since is None
        notes = [e for e in store.events(engine.run_id) if e.type == NOTE]
        assert [e.event_id for e in notes] == [again.event_id]
        assert len(engine.state.notes) == 1


def test_while_the_store_is_away_actions_are_refused_and_alerts_wait(
        backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with Store(backend) as store:
        engine = new_run(store, runbook(), ManualClock(START), OPS, samples=1_000)
        engine.start("stop")
        outage = Outage(store, monkeypatch)
        outage.down = True
        engine.clock.set(at(14))  # a 5-minute step 14 minutes in, 1 minute to the announced time
        tick = engine.tick()  # the level worsens while the store is away
        assert tick.alert is not None and engine.store_down_since == at(14)
        with pytest.raises(StoreUnavailable):
            engine.complete("stop")
        assert engine.state.status("stop") == "running"  # the screen does not pretend
        engine.clock.set(at(15))
        engine.tick()
        assert engine.store_down_since == at(14)  # still "unreachable since" the first failure
        outage.down = False
        engine.clock.set(at(16))
        engine.tick()
        assert engine.store_down_since is None
        engine.tick()
        alerts = [e for e in store.events(engine.run_id) if e.type == ALERT]
        assert [a.payload["level"] for a in alerts] == [str(engine.tracker.current)]
        assert engine.complete("stop").at == at(16)
