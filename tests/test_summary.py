"""Run summaries: stored by the engine with the event that ends a run, never disagreeing with the
events (runbook/engine/summary.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_report_support import DATA, record

from runbook.cli import main
from runbook.engine.clock import ManualClock
from runbook.engine.run import FINISHED, Actor, new_run
from runbook.engine.state import HOOK_FAILED, fold
from runbook.engine.summary import VERSION, detail, summarise, with_event
from runbook.format.loader import load_runbook
from runbook.format.shift import load_recorded
from runbook.store import ENDINGS, Store
from tests.conftest import START

UNDO_AND_ABORT = """\
start: 2026-11-25T00:00
events:
  - {at: 0m, start: stop-was}
  - {at: 4m, complete: stop-was}
  - {at: 4m, start: stop-db}
  - {at: 5m, undo: true}
  - {at: 9m, start: stop-db}
  - {at: 12m, complete: stop-db}
  - {at: 20m, abort: the spare port is dead too}
"""
HISTORY = "Change ID,Step title,Planned (min),Actual minutes\nA,one,10,12\nA,two,5,4\n"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("summary")
    path = tmp / "runs.db"
    for events in ("story", "rollback", "partial"):
        record(path, "story.yaml", f"{events}.events.yaml", samples=500)
    record(path, "hostile.yaml", "hostile.events.yaml", label="rehearsal", samples=500)
    script = tmp / "undo-abort.events.yaml"
    script.write_text(UNDO_AND_ABORT)
    assert main(["simulate", str(DATA / "story.yaml"), "--events", str(script), "--db",
                 str(path), "--samples", "500"]) == 0
    (tmp / "past.csv").write_text(HISTORY)
    assert main(["history", "import", str(tmp / "past.csv"), "--db", str(path)]) == 0
    return path


def test_every_ended_run_carries_the_summary_its_events_give(db: Path) -> None:
    with Store(db, readonly=True) as store:
        lines = store.summaries(VERSION, detail=True)
        assert len(lines) == 6
        for line in lines:
            info = store.run(line.id)
            events = store.events(line.id)
            plan = load_recorded(info).plan
            state = fold(plan, events)
            ended = any(e.type in ENDINGS for e in events)
            assert (line.summary is not None) == ended, line.id
            if ended:
                assert line.summary == summarise(plan, state), line.id
                assert line.detail == detail(plan, state), line.id
                assert line.events == len(events) == events[-1].seq
        statuses = sorted(x.summary["status"] for x in lines if x.summary)
        assert statuses == ["aborted", "finished", "finished", "finished", "finished"]


def test_an_event_after_the_end_settles_the_run_again(tmp_path: Path) -> None:
    loaded = load_runbook(DATA / "story.yaml")
    with Store(tmp_path / "runs.db") as store:
        engine = new_run(store, loaded, ManualClock(START), Actor("kim", "ops1"), samples=500)
        engine.abort("no-go")
        [line] = store.summaries(VERSION)
        assert line.summary["status"] == "aborted" and line.events == 2
        engine.record(HOOK_FAILED, None, {"hook": "chat", "error": "timeout"}, validate=False)
        [line] = store.summaries(VERSION)
        assert line.events == 3 and line.summary == summarise(engine.plan, engine.state)


def test_a_summary_is_not_trusted_past_its_event(tmp_path: Path) -> None:
    """An event written behind the engine's back (an older runbook, a script): the run has no
    summary until the next ending settles it, and is folded meanwhile."""
    loaded = load_runbook(DATA / "story.yaml")
    with Store(tmp_path / "runs.db") as store:
        engine = new_run(store, loaded, ManualClock(START), Actor("kim", "ops1"), samples=500)
        engine.finish()
        store.append(engine.run_id, at=START, actor="x", host="h", type="note",
                     payload={"text": "late"})
        assert store.summaries(VERSION)[0].summary is None


def test_folding_the_ending_into_a_copy_leaves_the_engine_state_alone(tmp_path: Path) -> None:
    loaded = load_runbook(DATA / "story.yaml")
    with Store(tmp_path / "runs.db") as store:
        engine = new_run(store, loaded, ManualClock(START), Actor("kim", "ops1"), samples=500)
        engine.start("stop-was")
        before = (list(engine.state.log), dict(engine.state.steps), engine.state.finished_at)
        end = store.append(engine.run_id, at=START, actor="kim", host="ops1", type="run_aborted",
                           payload={"reason": "x"})
        after = with_event(engine.state, end)
        assert after.aborted and after.steps["stop-was"].status == "abandoned"
        assert (engine.state.log, engine.state.steps, engine.state.finished_at) == before
        assert not engine.state.aborted


def test_the_engine_and_the_store_end_runs_on_the_same_events() -> None:
    assert set(FINISHED) == set(ENDINGS) == {"run_finished", "run_aborted"}


def test_runs_recorded_before_summaries_are_summarised_on_migrate(db: Path, tmp_path: Path,
                                                                  monkeypatch, capsys) -> None:
    """A new summary format (or a store older than summaries): `runbook store migrate` stores
    the summary of every ended run, the same as folding its events gives."""
    import shutil

    from runbook.engine import summary

    copy = tmp_path / "runs.db"
    shutil.copyfile(db, copy)
    monkeypatch.setattr(summary, "VERSION", VERSION + 1)
    assert main(["store", "migrate", "--db", str(copy)]) == 0
    assert "stored the summary of 5 past runs" in capsys.readouterr().out
    with Store(copy, readonly=True) as store:
        for line in store.summaries(VERSION + 1, detail=True):
            info, events = store.run(line.id), store.events(line.id)
            plan = load_recorded(info).plan
            state = fold(plan, events)
            if any(e.type in ENDINGS for e in events):
                assert (line.summary, line.detail) == (summarise(plan, state),
                                                      detail(plan, state))
            else:
                assert line.summary is None
    assert main(["store", "migrate", "--db", str(copy)]) == 0
    assert "stored the summary" not in capsys.readouterr().out  # once
