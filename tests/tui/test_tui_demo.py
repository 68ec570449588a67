"""`runbook demo`: the scripted night tells the story it promises, in the real app."""

from __future__ import annotations

from datetime import timedelta

from runbook.engine import simulate
from runbook.engine.clock import ManualClock
from runbook.format.loader import load_runbook
from runbook.format.model import Level
from runbook.tui import demo as demo_mod
from tests.tui.conftest import notices, press

RUNBOOK = demo_mod.find(demo_mod.RUNBOOK)
SCRIPT = demo_mod.find(demo_mod.SCRIPT)


def first(alerts, level):
    return next(a for a in alerts if a.level == level)


def test_the_demo_script_goes_from_on_track_to_a_rollback_that_saves_the_announced_time():
    loaded = load_runbook(RUNBOOK)
    result = simulate.simulate(loaded, SCRIPT)
    state, plan = result.engine.state, loaded.plan
    levels = [a.level for a in state.alerts]
    assert levels[:2] == ["at_risk", "decide_now"] and levels[-1] == "resumed"
    at_risk, decide = first(state.alerts, "at_risk"), first(state.alerts, "decide_now")
    # the warning comes early: long before the announced time, and well before decide_now
    assert plan.announced - at_risk.at >= timedelta(minutes=45)
    assert decide.at - at_risk.at >= timedelta(minutes=8)
    # the rollback is triggered after decide_now and before the decision deadline
    deadline = decide.payload["decision_deadline"]
    assert decide.at < state.triggered_at
    assert simulate.iso(state.triggered_at, plan.timezone) <= deadline
    assert state.path == "rollback" and state.resumed_at < plan.announced
    # the critical path visibly runs long: a step past its worst case, a failure and a retry
    stop_db = state.steps["stop-db"]
    assert stop_db.actual_s > plan.by_id["stop-db"].pessimistic
    assert state.steps["enable-new-port"].failures == 1
    assert state.steps["enable-new-port"].attempts == 2


def test_the_default_speed_plays_the_script_in_about_two_minutes():
    loaded = load_runbook(RUNBOOK)
    cues = demo_mod.load_cues(loaded, SCRIPT)
    speed = demo_mod.default_speed(cues, loaded.plan.start)
    real = (cues[-1].at - loaded.plan.start).total_seconds() / speed
    assert 90 <= real <= 130


async def test_the_demo_plays_in_the_app_and_leaves_no_files(tmp_path):
    start = load_runbook(RUNBOOK).plan.start
    source = ManualClock(start)
    seen: list[Level] = []
    with demo_mod.demo(source=source, interval=None, samples=2_000, folder=tmp_path) as d:
        app = d.app
        app.animation_level = "none"
        async with app.run_test(size=(100, 30)) as pilot:
            mode = str(app.main.query_one("#mode").render())
            assert mode.startswith("DEMO") and "q quit" in mode
            for second in range(0, 75 * 60, 60):
                source.set(start + timedelta(seconds=second))
                snap = app.refresh_now()
                if not seen or seen[-1] != snap.level:
                    seen.append(snap.level)
            await pilot.pause()
            assert str(app.main.query_one("#mode").render()).startswith(
                "DEMO finished: service resumed 01:04, 16 min before the announced 01:20, because "
                "rollback was triggered at 00:38")
            await press(pilot, "space")  # the script operates; a key says so and records nothing
            assert "Demo: the script operates this run" in notices(app)
            assert app.snapshot.state.finished
        assert any(tmp_path.iterdir())  # the temporary store exists while the demo runs
    assert seen[:3] == [Level.on_track, Level.at_risk, Level.decide_now]
    assert seen[-1] == Level.resumed
    assert not any(tmp_path.iterdir())  # and is gone afterwards
