"""Layout snapshots of the key states (pytest-textual-snapshot), on a fixed clock.

The switch-port runbook is played with the demo script up to a chosen minute by the real engine,
then shown in the operator's or a watcher's app. Update after a deliberate change with
``pytest tests/tui --snapshot-update`` and look at the SVGs in __snapshots__ before committing.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from runbook.engine.clock import ManualClock
from runbook.engine.run import Session, new_run
from runbook.format.loader import load_runbook
from runbook.store import Store
from runbook.tui import demo as demo_mod
from runbook.tui.director import ScriptDirector
from runbook.tui.launch import operator_app, watch_app
from tests.tui.conftest import OPS, quiet, small_runbook

LOADED = load_runbook(demo_mod.find(demo_mod.RUNBOOK))
CUES = demo_mod.load_cues(LOADED, demo_mod.find(demo_mod.SCRIPT))


@pytest.fixture
def played(tmp_path, monkeypatch):
    """played(minutes) -> an engine that has run the demo script up to that minute."""
    monkeypatch.setattr("runbook.store.sqlite.secrets.token_hex", lambda n: "abcd")
    stores: list[Store] = []

    def play(minutes: float):
        store = Store(tmp_path / "runs.db")
        stores.append(store)
        clock, source = ManualClock(LOADED.plan.start), ManualClock(LOADED.plan.start)
        engine = new_run(store, LOADED, clock, OPS, samples=2_000)
        source.set(LOADED.plan.start + timedelta(minutes=minutes))
        ScriptDirector(CUES, clock, source).step(engine)
        return engine

    yield play
    for s in stores:
        s.close()


def shown(app):
    async def before(pilot):
        app.refresh_now()
        await pilot.pause()
        app.clear_notifications()
        await pilot.pause()
    return before


def test_on_track_at_80x24(snap_compare, played):
    app = quiet(operator_app(played(12), False, interval=None))
    assert snap_compare(app, terminal_size=(80, 24), run_before=shown(app))


def test_decide_now_with_the_banner_at_80x24(snap_compare, played):
    app = quiet(operator_app(played(35.5), False, interval=None))
    assert snap_compare(app, terminal_size=(80, 24), run_before=shown(app))


def test_at_risk_at_100x36(snap_compare, tmp_path, monkeypatch):
    # The demo night stays inside the forecast's margin until DECIDE NOW (no AT RISK to show):
    # the small runbook's 3-minute prep step, still running at 17:30, is at risk (57%).
    monkeypatch.setattr("runbook.store.sqlite.secrets.token_hex", lambda n: "abcd")
    with Store(tmp_path / "runs.db") as store:
        loaded = small_runbook()
        clock = ManualClock(loaded.plan.start)
        engine = new_run(store, loaded, clock, OPS, samples=2_000)
        engine.start("prep")
        clock.advance(17 * 60 + 30)
        app = quiet(operator_app(engine, False, interval=None))
        assert snap_compare(app, terminal_size=(100, 36), run_before=shown(app))


def test_contingency_running_on_a_wide_terminal(snap_compare, played):
    app = quiet(operator_app(played(47), False, interval=None))
    assert snap_compare(app, terminal_size=(160, 44), run_before=shown(app))


def test_watch_mode(snap_compare, played, tmp_path):
    engine = played(30)
    ro = Store(tmp_path / "runs.db", readonly=True)
    try:
        app = quiet(watch_app(Session(ro, ro.resolve(None), engine.clock), interval=None))
        assert snap_compare(app, terminal_size=(100, 30), run_before=shown(app))
    finally:
        ro.close()


def test_skip_asks_first(snap_compare, played):
    app = quiet(operator_app(played(12), False, interval=None))
    assert snap_compare(app, terminal_size=(80, 24), run_before=shown(app), press=["k"])


def test_help(snap_compare, played):
    app = quiet(operator_app(played(12), False, interval=None))
    assert snap_compare(app, terminal_size=(100, 44), run_before=shown(app),
                        press=["question_mark"])
