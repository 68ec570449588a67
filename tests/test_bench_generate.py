"""bench/generate.py at small sizes: the plans load, the runs are valid, the stores read back.

The perf figures are only as honest as their inputs; these tests keep the generator from rotting
while the formats it writes move on.
"""

from __future__ import annotations

import pytest

from bench import generate
from runbook.engine.simulate import simulate
from runbook.engine.state import (
    NOTE,
    READY,
    RUN_FINISHED,
    RUNNING,
    STEP_FAILED,
    check_action,
    fold,
)
from runbook.format.loader import load_text
from runbook.report.runs import list_runs
from runbook.store import Event


def _events(loaded, planned):
    """``planned`` as store-like events, checked one by one against the state they meet."""
    state = fold(loaded.plan, [])
    out = []
    for seq, p in enumerate(planned, start=1):
        if p.step is not None or p.type == RUN_FINISHED:
            assert check_action(state, p.type, p.step) is None, (seq, p)
        ev = Event("run", seq, f"e{seq}", generate.START, "bench", "bench", p.type, p.step,
                   p.payload)
        fold(loaded.plan, [ev], state)
        out.append(ev)
    return state, out


def test_layered_plan_is_8_wide_with_1_to_3_predecessors_from_two_layers_back():
    loaded = load_text(generate.layered(50), "layered.yaml")
    plan = loaded.plan
    main = plan.paths["main"]
    assert len(main) == 50 and plan.contingencies == ["rollback"]
    for i in main[8:-1]:
        layer = i // 8
        assert 1 <= len(plan.steps[i].preds) <= 3
        assert all(layer - 2 <= p // 8 < layer for p in plan.steps[i].preds)
    resume = plan.resume["main"]
    assert plan.steps[resume].id == "reopen"
    assert plan.ancestors(resume) >= set(main)  # every step matters to the resume time


def test_tracks_plan_runs_its_tracks_in_parallel():
    loaded = load_text(generate.tracks(6, 3), "tracks.yaml")
    assert len(loaded.plan.paths["main"]) == 1 + 6 * 3 + 1 + 3
    planned = generate.schedule(loaded, upto=0.2)
    state, _ = _events(loaded, planned)
    assert len(state.ids(RUNNING)) == 6


@pytest.mark.parametrize("events", [10, 40, 70, 150])
def test_fill_gives_exactly_the_events_asked_for(events):
    loaded = load_text(generate.layered(30), "layered.yaml")
    planned = generate.schedule(loaded, **generate.fill(30, events))
    assert sum(p.type not in generate.SILENT for p in planned) == events
    state, _ = _events(loaded, planned)  # every event fits the state it meets
    assert state.finished == (events >= 60)
    if events > 60:
        assert sum(p.type == STEP_FAILED for p in planned) == min(30, (events - 60) // 2)
        assert sum(p.type == NOTE for p in planned) == max(0, events - 120)


def test_a_run_stopped_part_way_has_running_and_ready_steps_and_notes():
    loaded = load_text(generate.layered(200), "layered.yaml")
    state, _ = _events(loaded, generate.schedule(loaded, upto=0.5))
    running = state.ids(RUNNING)
    assert len(running) >= 3 and not state.ids(READY)  # as soon as possible: none waits
    state, _ = _events(loaded, generate.schedule(loaded, upto=0.5, ready=2, notes=7))
    assert not state.finished and len(state.ids(RUNNING)) == len(running) - 2
    assert len(state.ids(READY)) == 2
    assert len(state.notes) == 7


def test_stores_of_past_runs_and_of_one_big_run_read_back(tmp_path):
    loaded = load_text(generate.layered(9), "past.yaml")
    with generate.open_store(tmp_path / "past.db") as store:
        ids = generate.past_runs(store, loaded, 3)
        rows = list_runs(store)
        assert sorted(r.id for r in rows) == sorted(ids)
        assert {r.status for r in rows} == {"finished"}
        assert {len(store.events(i)) for i in ids} == {2 * 9 + 2}
    with generate.open_store(tmp_path / "big.db") as store:
        run = generate.record(store, loaded, generate.schedule(loaded, **generate.fill(9, 500)))
        assert len(store.events(run)) == 500 + 2


def test_a_script_plays_in_simulate_to_the_end(tmp_path):
    loaded = load_text(generate.layered(12), "sim.yaml")
    path = tmp_path / "sim.events.yaml"
    path.write_text(generate.script(loaded, generate.schedule(loaded, retries=2, notes=3)))
    result = simulate(loaded, path, samples=200)
    assert result.engine.state.finished
    assert len(result.engine.state.notes) == 3


def test_cli_writes_a_plan_a_script_and_a_store(tmp_path):
    plan, script, db = tmp_path / "p.yaml", tmp_path / "s.yaml", tmp_path / "s.db"
    assert generate.main(["plan", "layered", "--steps", "20", "-o", str(plan),
                          "--json", str(tmp_path / "p.json")]) == 0
    assert generate.main(["script", str(plan), "--events", "30", "-o", str(script)]) == 0
    assert generate.main(["store", str(plan), "--runs", "2", "-o", str(db)]) == 0
    loaded = load_text(plan.read_text(), "p.yaml")
    assert len(loaded.plan.paths["main"]) == 20
    assert script.read_text().count("\n  - ") == 30
    with generate.open_store(db, readonly=True) as store:
        assert len(store.runs()) == 2
