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
from tests.tui.conftest import OPS, quiet

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
        app.say("")  # the welcome line would date the picture
        await pilot.pause()
    return before


def test_on_track_at_80x24(snap_compare, played):
    app = quiet(operator_app(played(12), False, interval=None))
    assert snap_compare(app, terminal_size=(80, 24), run_before=shown(app))


def test_decide_now_with_the_banner_at_80x24(snap_compare, played):
    app = quiet(operator_app(played(35.5), False, interval=None))
    assert snap_compare(app, terminal_size=(80, 24), run_before=shown(app))


def test_at_risk_at_100x36(snap_compare, played):
    app = quiet(operator_app(played(29), False, interval=None))
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


def test_the_moment_after_the_trigger(snap_compare, played):
    engine = played(37.5)  # DECIDE NOW; the port failed at 00:36
    engine.tick()
    engine.clock.advance(10)
    engine.trigger("rollback", "change manager: roll back now")  # what c + enter records
    assert engine.state.path == "rollback"
    app = quiet(operator_app(engine, False, interval=None))
    assert snap_compare(app, terminal_size=(100, 30), run_before=shown(app))


def test_a_failed_step_with_its_reason(snap_compare, played):
    engine = played(35.9)
    engine.clock.advance(6)
    engine.fail("enable-new-port", "fc1/20 stays notConnected [SR 7-2026")
    engine.clock.advance(60)  # its time has stopped at the failure
    app = quiet(operator_app(engine, False, interval=None))
    assert snap_compare(app, terminal_size=(100, 30), run_before=shown(app))


def test_the_journal_with_an_undo_and_an_abort(snap_compare, tmp_path, monkeypatch):
    monkeypatch.setattr("runbook.store.sqlite.secrets.token_hex", lambda n: "abcd")
    with Store(tmp_path / "runs.db") as store:
        clock = ManualClock(LOADED.plan.start)
        engine = new_run(store, LOADED, clock, OPS, samples=2_000)
        engine.start("go-no-go")
        clock.advance(60)
        engine.complete("go-no-go")  # a mis-press
        clock.advance(5)
        engine.undo()
        clock.advance(60)
        engine.note("storage vendor not on the bridge", "go-no-go")
        clock.advance(30)
        engine.abort("NO-GO: storage vendor not on the bridge")
        app = quiet(operator_app(engine, False, interval=None))

        async def before(pilot):
            await shown(app)(pilot)
            app.main.toggle_log()
            await pilot.pause()

        assert snap_compare(app, terminal_size=(100, 30), run_before=before)


def test_picking_one_of_several_contingencies(snap_compare, tmp_path, monkeypatch):
    from tests.tui.conftest import small_runbook
    monkeypatch.setattr("runbook.store.sqlite.secrets.token_hex", lambda n: "abcd")
    with Store(tmp_path / "runs.db") as store:
        clock = ManualClock(small_runbook().plan.start)
        engine = new_run(store, small_runbook(contingencies=2), clock, OPS, samples=2_000)
        engine.start("prep")
        clock.advance(12 * 60)
        app = quiet(operator_app(engine, False, interval=None))
        assert snap_compare(app, terminal_size=(100, 30), run_before=shown(app), press=["c"])


def across(tmp_path, monkeypatch, loaded, start, minutes, steps):
    monkeypatch.setattr("runbook.store.sqlite.secrets.token_hex", lambda n: "abcd")
    store = Store(tmp_path / "runs.db")
    clock = ManualClock(start)
    engine = new_run(store, loaded, clock, OPS, samples=2_000)
    for step, took in steps:
        engine.start(step)
        clock.advance(took * 60)
        engine.complete(step)
    next_step = engine.state.ids("ready")[0]
    engine.start(next_step)
    clock.set(start + timedelta(minutes=minutes))
    return store, engine


def test_a_run_across_midnight(snap_compare, tmp_path, monkeypatch):
    from datetime import UTC, datetime

    from tests.conftest import make_runbook, three
    loaded = make_runbook(
        [{"id": "drain", "estimate": three(10, 15, 30)}, {"id": "upgrade", "estimate": three(30, 45, 90)},
         {"id": "verify", "estimate": three(5, 10, 20)}],
        window={"start": "2026-11-24T23:30", "announced_resume": "2026-11-25T00:45",
                "hard_deadline": "2026-11-25T06:00"})
    store, engine = across(tmp_path, monkeypatch, loaded,
                           datetime(2026, 11, 24, 14, 30, tzinfo=UTC), 25, [("drain", 20)])
    try:
        app = quiet(operator_app(engine, False, interval=None))
        assert snap_compare(app, terminal_size=(100, 24), run_before=shown(app))
    finally:
        store.close()


def test_a_run_across_a_dst_fall_back(snap_compare, tmp_path, monkeypatch):
    from datetime import UTC, datetime

    from tests.conftest import make_runbook
    loaded = make_runbook(
        [{"id": "stop", "estimate": "40m"}, {"id": "migrate", "estimate": "60m"},
         {"id": "start", "estimate": "20m"}], timezone="Europe/Berlin",
        window={"start": "2026-10-25T01:30", "announced_resume": "2026-10-25T03:30"})
    store, engine = across(tmp_path, monkeypatch, loaded,
                           datetime(2026, 10, 24, 23, 30, tzinfo=UTC), 100, [("stop", 45)])
    try:
        app = quiet(operator_app(engine, False, interval=None))
        assert snap_compare(app, terminal_size=(100, 24), run_before=shown(app))
    finally:
        store.close()


def test_sixty_columns(snap_compare, played):
    app = quiet(operator_app(played(35.5), False, interval=None))
    assert snap_compare(app, terminal_size=(60, 24), run_before=shown(app))
