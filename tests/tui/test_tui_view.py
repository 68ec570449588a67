"""The headless parts of the TUI: what space does, rows, the timeline, the do-now line."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest

from runbook.engine.clock import ManualClock
from runbook.engine.run import new_run
from runbook.store import Store
from runbook.tui import view
from runbook.tui.desk import Desk, advance_plan, next_after
from runbook.tui.timeline import timeline_rows
from tests.conftest import START, at
from tests.tui.conftest import OPS, small_runbook


@pytest.fixture
def engine(tmp_path):
    with Store(tmp_path / "runs.db") as store:
        yield new_run(store, small_runbook(), ManualClock(START), OPS, samples=500)


def test_space_starts_the_first_step_then_completes_the_running_one(engine):
    assert advance_plan(engine.state, None) == ("start", "prep")
    engine.start("prep")
    assert advance_plan(engine.state, "cable") == ("complete", "prep")
    engine.complete("prep")
    # prep made cable and notify ready: space starts its first successor
    assert next_after(engine.state, "prep") == "cable"


def test_space_with_parallel_steps_running_needs_a_selection(engine):
    engine.start("prep")
    engine.complete("prep")
    engine.start("cable")
    engine.start("notify")
    why = advance_plan(engine.state, None)
    assert isinstance(why, str) and why.startswith("2 steps are running (cable, notify)")
    assert advance_plan(engine.state, "notify") == ("complete", "notify")
    engine.complete("notify")
    assert next_after(engine.state, "notify") is None  # start-db still waits for cable


def test_space_after_a_failure_says_what_to_do(engine):
    engine.start("prep")
    engine.fail("prep", "bad")
    assert advance_plan(engine.state, None) == ("prep failed: s retries it, k skips it, "
                                                "or c triggers the contingency")


def test_desk_reasons_come_from_the_domain_check(engine):
    desk = Desk(engine)
    assert desk.why_not("complete", "prep") == "prep is ready, not running; start it first"
    assert desk.why_not("start", "start-db") == "start-db waits for cable, notify"
    assert desk.why_not("start", None) == "select a step first (arrow keys)"
    assert desk.why_not("trigger") is None
    assert Desk(engine, mode="watch").why_not("start", "prep").startswith("read-only")


def test_rows_show_status_words_variance_and_overruns(engine):
    engine.start("prep")
    engine.clock.set(at(7))  # prep: likely 3m, worst 6m
    row = view.make_row(engine.plan.by_id["prep"], engine.state.steps["prep"], at(7), True)
    assert (row.status, row.planned, row.taken, row.variance, row.over) == (
        "▶ RUNNING", "3m/6m", "7:00", "+4:00!", True)
    engine.complete("prep")
    row = view.make_row(engine.plan.by_id["prep"], engine.state.steps["prep"], at(9), False)
    assert (row.status, row.taken, row.variance) == ("✓ done", "7:00", "+4:00!")
    pending = view.make_row(engine.plan.by_id["verify"], engine.state.steps["verify"], at(9), False)
    assert (pending.status, pending.taken, pending.variance) == ("· waiting", "", "")


def test_timeline_marks_now_announced_and_the_forecast(engine):
    desk = Desk(engine)
    engine.start("prep")
    engine.clock.advance(120)
    snap = desk.refresh()
    plan_row, actual, axis = timeline_rows(snap.timeline, 87)
    assert len(plan_row) == len(actual) == len(axis) == 87
    assert plan_row.startswith("plan   ━") and "│" in plan_row
    assert actual.startswith("actual ▒") and "░" in actual  # running, then forecast to P50
    assert "▲now" in axis and "│" in axis and "resume" in axis and "D" in axis
    assert axis.index("▲now") < axis.index("D") < axis.index("│")


def test_timeline_labels_stay_inside_a_narrow_strip(engine):
    engine.clock.set(START + timedelta(minutes=55))  # past the announced 00:40
    snap = Desk(engine).refresh()
    rows = timeline_rows(snap.timeline, 30)
    assert all(len(r) == 30 for r in rows)
    axis = rows[2]
    assert axis.count("▲") == 1 and axis.count("│") == 1 and "now" in axis
    assert axis.index("│") < axis.index("▲")  # the announced time is behind us


def test_do_now_says_what_to_do_for_each_level(engine):
    desk = Desk(engine)
    engine.start("prep")
    engine.clock.advance(16 * 60)
    snap = desk.refresh()
    assert snap.level == "at_risk"
    assert snap.do_now() == "Prepare rollback (decide by 00:24) and brief customer service."
    engine.clock.advance(4 * 60)
    snap = desk.refresh()
    assert snap.do_now() == "Trigger rollback (press c) by 00:24 (in 4m) or accept the overrun."
    assert snap.banner and snap.banner.startswith("Decide now: resume 00:40")


def test_bar_draws_eighths():
    from runbook.tui.widgets import bar

    assert bar(0.0) == "░" * 10
    assert bar(1.0) == "█" * 10
    assert bar(0.55) == "█████▌░░░░"


def test_the_headless_modules_do_not_import_textual():
    code = ("import sys, runbook.tui.view, runbook.tui.desk, runbook.tui.director, "
            "runbook.tui.journal, runbook.tui.rows, runbook.tui.timeline; "
            "print('textual' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
