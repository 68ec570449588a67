"""The hand-offs on the operator's screen: saving while the store is locked, a bounced key,
undo, abort (NO-GO), the keymap, the bell, and what watchers are offered."""

from __future__ import annotations

import sqlite3

from runbook.engine.state import RUN_ABORTED, STEP_COMPLETED, STEP_STARTED, UNDONE
from runbook.tui.dialogs import ConfirmScreen, HelpScreen
from tests.tui.conftest import actions, notices, press, settle, table_text


def message(app) -> str:
    return str(app.main.query_one("#message").render())


def header(app) -> str:
    return " ".join(str(app.main.query_one(f"#{i}").render()) for i in ("title", "clock", "level"))


async def test_a_write_waiting_for_the_store_lock_never_freezes_the_screen(rig):
    app = rig.operator()
    async with app.run_test(size=(100, 30)) as pilot:
        app.refresh_now()
        await pilot.pause()
        mono = [100.0]
        app.monotonic = lambda: mono[0]
        other = sqlite3.connect(rig.path, timeout=0, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        try:
            await pilot.press("space")
            await pilot.pause()
            assert app.saving == "next step"
            assert message(app).startswith("saving… next step")
            assert "○ ready" in table_text(app).splitlines()[0]  # nothing shown before commit
            assert actions(rig.events()) == []
            before = header(app)
            rig.clock.advance(3)
            mono[0] += 3
            app.tick()  # the 1 Hz timer: the clock keeps running, the line counts the wait
            await pilot.pause()
            assert header(app) != before and "00:00:03" in header(app)
            assert "the store is busy" in message(app)
            await pilot.press("d")  # another key meanwhile: refused, not queued behind
            assert "Still saving next step; wait for it to be recorded" in notices(app)
        finally:
            other.rollback()
            other.close()
        await settle(pilot)
        assert app.saving is None
        assert actions(rig.events()) == [(STEP_STARTED, "prep")]
        assert "▶ RUNNING" in table_text(app).splitlines()[0]
        assert message(app).startswith("Started prep")


async def test_a_bounced_key_is_one_action(rig):
    app = rig.operator()
    async with app.run_test(size=(100, 30)) as pilot:
        app.refresh_now()
        mono = [10.0]
        app.monotonic = lambda: mono[0]
        await press(pilot, "space")
        mono[0] += 0.15
        await press(pilot, "space")  # 0.15 s later: a bounce
        assert actions(rig.events()) == [(STEP_STARTED, "prep")]
        assert "Ignored a repeated advance (0.15s after the first)" in notices(app)
        mono[0] += 1
        await press(pilot, "space")  # a second later: meant
        assert actions(rig.events())[-2:] == [(STEP_COMPLETED, "prep"), (STEP_STARTED, "cable")]


async def test_u_undoes_a_mis_pressed_space_at_once_and_the_log_keeps_both(rig):
    app = rig.operator()
    async with app.run_test(size=(100, 30)) as pilot:
        app.refresh_now()
        await press(pilot, "space")
        rig.clock.advance(60)
        await press(pilot, "space")  # meant to start the next step only: completed prep too
        assert "✓ done" in table_text(app)
        rig.clock.advance(5)
        await press(pilot, "u")
        assert actions(rig.events())[-1] == (UNDONE, "prep")
        assert "Undid complete prep" in notices(app)
        rows = table_text(app).splitlines()
        assert "▶ RUNNING ◆ prep" in rows[0] and "waiting" in rows[1]
        rig.clock.advance(120)
        await press(pilot, "u")  # nothing left to undo within the grace period
        assert "undo works for 60s" in notices(app) or "nothing to undo" in notices(app)
        assert [e.type for e in rig.raw_events()].count(UNDONE) == 1


async def test_a_asks_for_the_reason_and_ends_the_run_as_aborted(rig):
    app = rig.operator()
    async with app.run_test(size=(100, 30)) as pilot:
        app.refresh_now()
        await press(pilot, "space")
        await press(pilot, "a")
        assert isinstance(app.screen, ConfirmScreen)
        await press(pilot, "enter")  # a reason is required
        assert isinstance(app.screen, ConfirmScreen)
        assert "Type some text first" in str(app.screen.query_one("#dialog-error").render())
        app.screen.query_one("Input").value = "NO-GO: vendor not on the bridge"
        await press(pilot, "enter")
        assert actions(rig.events())[-1] == (RUN_ABORTED, None)
        app.refresh_now()
        await pilot.pause()
        assert "ABORTED" in header(app)
        assert "NO-GO: vendor not on the bridge" in str(app.main.query_one("#forecast").render())
        await press(pilot, "space")
        assert "aborted" in notices(app).splitlines()[-1]


async def test_a_bad_keymap_entry_warns_and_the_rest_applies(rig, monkeypatch):
    monkeypatch.setenv("RUNBOOK_KEYMAP", "complete=x;compleet=z;garbage")
    engine, resumed = rig.engine()
    from runbook.tui.launch import operator_app
    from tests.tui.conftest import quiet
    app = quiet(operator_app(engine, resumed, interval=None))
    async with app.run_test(size=(100, 30)) as pilot:
        app.refresh_now()
        await pilot.pause()
        said = notices(app)
        assert "RUNBOOK_KEYMAP: no key has the id 'compleet'" in said
        assert "RUNBOOK_KEYMAP: 'garbage' is not id=key" in said
        await press(pilot, "space", "x")
        assert actions(rig.events()) == [(STEP_STARTED, "prep"), (STEP_COMPLETED, "prep")]


async def test_worse_levels_seconds_apart_ring_one_bell(rig):
    import dataclasses

    from runbook.format.model import Level
    app = rig.operator()
    bells = []
    async with app.run_test(size=(100, 30)) as pilot:
        snap = app.refresh_now()
        app.bell = lambda: bells.append(1)
        t0 = snap.now
        from datetime import timedelta
        for seconds, level in ((1, Level.at_risk), (4, Level.decide_now), (30, Level.late)):
            app.show(dataclasses.replace(snap, level=level, now=t0 + timedelta(seconds=seconds)))
        await pilot.pause()
    assert len(bells) == 2  # at_risk and decide_now 3 s apart: one; late 26 s later: another


async def test_watchers_are_offered_no_action_that_changes_the_run(rig):
    engine, _ = rig.engine()
    engine.start("prep")
    app = rig.watcher()
    async with app.run_test(size=(100, 40)) as pilot:
        app.refresh_now()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for gone in ("Next: complete the running step, start the next", "Undo my last action",
                     "Abort the run (NO-GO)…", "Trigger a contingency…", "Add a note…"):
            assert gone not in titles
        assert "Show or hide the run's timeline" in titles
        await press(pilot, "question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("Static").render())
        assert "read-only" in text and "(advance)" not in text and "(undo)" not in text
        assert "(log)" in text
