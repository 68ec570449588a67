"""The contract keys, pressed on the real app: what lands in the store and what the screen says."""

from __future__ import annotations

from textual.widgets import Input

from runbook.engine.state import (
    CONTINGENCY_TRIGGERED,
    NOTE,
    STEP_COMPLETED,
    STEP_FAILED,
    STEP_SKIPPED,
    STEP_STARTED,
)
from runbook.tui.dialogs import ConfirmScreen, HelpScreen, PickScreen
from runbook.tui.runlog import RunLog
from tests.tui.conftest import actions, notices, press, settle, small_runbook, table_text


def type_in(app, text: str) -> None:
    """Type into the dialog's input (faster than a key press per character)."""
    app.screen.query_one(Input).value = text


async def test_space_starts_the_first_step_then_completes_and_starts_the_next(rig):
    app = rig.operator()
    async with app.run_test(size=(100, 30)) as pilot:
        app.refresh_now()
        await press(pilot, "space")
        assert actions(rig.events()) == [(STEP_STARTED, "prep")]
        assert "Started prep" in notices(app)
        rig.clock.advance(4 * 60)
        await press(pilot, "space")
        assert actions(rig.events()) == [(STEP_STARTED, "prep"), (STEP_COMPLETED, "prep"),
                                         (STEP_STARTED, "cable")]
        assert "Completed prep in 4:00 (1m over plan)" in notices(app)
        await pilot.pause()
        assert "▶ RUNNING ◆ cable" in table_text(app)
        assert "✓ done" in table_text(app)
        assert app.main.selected == "cable"  # the selection follows the next actionable step


async def test_every_action_records_the_operator_and_host(rig):
    app = rig.operator()
    async with app.run_test() as pilot:
        app.refresh_now()
        await press(pilot, "space")
    started = [e for e in rig.raw_events() if e.type == STEP_STARTED]
    assert [(e.actor, e.host) for e in started] == [("kim", "ops-host")]


async def test_s_starts_the_selected_ready_step_on_a_parallel_track(rig):
    app = rig.operator()
    async with app.run_test(size=(100, 30)) as pilot:
        app.refresh_now()
        await press(pilot, "space")  # start prep
        await press(pilot, "space")  # complete prep, start cable (its successor)
        app.main.table.select("notify")
        await press(pilot, "s")
        assert actions(rig.events())[-1] == (STEP_STARTED, "notify")
        assert app.desk.session.state.ids("running") == ["cable", "notify"]
        # with two running, space needs a selection: it completes the selected one
        app.main.table.select("notify")
        await press(pilot, "space")
        assert actions(rig.events())[-1] == (STEP_COMPLETED, "notify")


async def test_d_completes_and_f_fails_the_selected_running_step_and_s_retries(rig):
    app = rig.operator()
    async with app.run_test(size=(100, 30)) as pilot:
        app.refresh_now()
        await press(pilot, "space")
        await press(pilot, "d")
        assert actions(rig.events())[-1] == (STEP_COMPLETED, "prep")
        app.main.table.select("cable")
        await press(pilot, "s")
        await press(pilot, "f")  # asks what went wrong (optional)
        assert isinstance(app.screen, ConfirmScreen)
        type_in(app, "latch stuck")
        await press(pilot, "enter")
        assert actions(rig.events())[-1] == (STEP_FAILED, "cable")
        failed = [e for e in rig.raw_events() if e.type == STEP_FAILED][0]
        assert failed.payload == {"note": "latch stuck"}
        assert ("cable marked FAILED (latch stuck): s retries it, k skips it, or c triggers the "
                "contingency") in notices(app)
        await pilot.pause()
        assert "✗ FAILED ◆ cable" in table_text(app)
        await press(pilot, "s")  # retry
        assert actions(rig.events())[-1] == (STEP_STARTED, "cable")
        assert app.desk.session.state.steps["cable"].attempts == 2


async def test_an_unavailable_key_records_nothing_and_says_why(rig):
    app = rig.operator()
    async with app.run_test(size=(100, 30)) as pilot:
        app.refresh_now()
        before = rig.events()
        await press(pilot, "d")  # prep is ready, not running
        assert rig.events() == before
        assert "Prep is ready, not running; start it first" in notices(app)
        active = app.screen.active_bindings
        assert not active["d"].enabled and active["space"].enabled  # shown dimmed in the footer


async def test_k_asks_before_skipping_and_cancel_records_nothing(rig):
    app = rig.operator()
    async with app.run_test(size=(100, 30)) as pilot:
        app.refresh_now()
        before = rig.events()
        await press(pilot, "k")
        assert isinstance(app.screen, ConfirmScreen)
        await press(pilot, "escape")
        assert not isinstance(app.screen, ConfirmScreen)
        assert rig.events() == before
        await press(pilot, "k")
        type_in(app, "not needed tonight")
        await press(pilot, "enter")
        await pilot.pause()
        assert actions(rig.events()) == [(STEP_SKIPPED, "prep")]
        skipped = [e for e in rig.raw_events() if e.type == STEP_SKIPPED][0]
        assert skipped.payload["reason"] == "not needed tonight"
        assert "↷ skipped" in table_text(app)


async def test_n_records_a_note_on_the_selected_step(rig):
    app = rig.operator()
    async with app.run_test(size=(100, 30)) as pilot:
        app.refresh_now()
        await press(pilot, "n")
        await press(pilot, "enter")  # empty: refused, the dialog stays
        assert isinstance(app.screen, ConfirmScreen)
        type_in(app, "bridge is noisy")
        await press(pilot, "enter")
        await pilot.pause()
        assert actions(rig.events()) == [(NOTE, "prep")]
        note = [e for e in rig.raw_events() if e.type == NOTE][0]
        assert note.payload["text"] == "bridge is noisy"
        app.main.toggle_log()
        await pilot.pause()
        assert "bridge is noisy" in app.main.query_one(RunLog).visible_text()


async def test_c_asks_then_triggers_the_contingency_and_shows_its_steps(rig):
    app = rig.operator()
    async with app.run_test(size=(100, 30)) as pilot:
        app.refresh_now()
        await press(pilot, "space")
        await press(pilot, "c")
        assert isinstance(app.screen, ConfirmScreen)
        assert "rb-" not in table_text(app)  # contingency steps appear only once triggered
        type_in(app, "port dead")
        await press(pilot, "enter")
        await pilot.pause()
        assert actions(rig.events())[-1] == (CONTINGENCY_TRIGGERED, None)
        trig = [e for e in rig.raw_events() if e.type == CONTINGENCY_TRIGGERED][0]
        assert trig.payload == {"contingency": "rollback", "note": "port dead"}
        text = table_text(app)
        assert "– abandoned" in text and "○ ready   rb-restore" in text
        assert app.main.selected == "rb-restore"
        await press(pilot, "c")  # a second trigger is refused and says why
        assert "already running" in notices(app)


async def test_c_lets_you_pick_when_there_are_several_contingencies(rig):
    rig.loaded = small_runbook(contingencies=2)
    app = rig.operator()
    async with app.run_test(size=(100, 30)) as pilot:
        app.refresh_now()
        await press(pilot, "c")
        assert isinstance(app.screen, PickScreen)
        await press(pilot, "down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await press(pilot, "enter")
        await pilot.pause()
        trig = [e for e in rig.raw_events() if e.type == CONTINGENCY_TRIGGERED][0]
        assert trig.payload["contingency"] == "failover"


async def test_question_mark_shows_help_with_the_keys_as_mapped(rig):
    app = rig.operator(keymap={"complete": "x"})
    async with app.run_test(size=(100, 40)) as pilot:
        app.refresh_now()
        await press(pilot, "question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("Static").render())
        assert "x  Complete the selected running step" in text and "DECIDE NOW" in text
        await press(pilot, "escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_keys_can_be_remapped_with_a_keymap(rig):
    app = rig.operator(keymap={"complete": "x", "advance": "g"})
    async with app.run_test(size=(100, 30)) as pilot:
        app.refresh_now()
        await press(pilot, "g")
        assert actions(rig.events()) == [(STEP_STARTED, "prep")]
        await press(pilot, "space")  # the old key is free now
        assert actions(rig.events()) == [(STEP_STARTED, "prep")]
        await press(pilot, "x")
        assert actions(rig.events())[-1] == (STEP_COMPLETED, "prep")


async def test_q_quits_at_once_and_the_run_resumes_where_it_stopped(rig):
    app = rig.operator()
    async with app.run_test(size=(100, 30)) as pilot:
        app.refresh_now()
        await press(pilot, "space")
        await press(pilot, "q")
        await pilot.pause()
        assert app.return_code == 0 and not app.is_running
    again = rig.operator()
    assert again.desk.resumed
    async with again.run_test(size=(100, 30)) as pilot:
        again.refresh_now()
        await pilot.pause()
        assert str(again.main.query_one("#mode").render()).startswith("REATTACHED")  # not RESUMED
        assert "Reattached to the unfinished run" in notices(again)
        assert "▶ RUNNING ◆ prep" in table_text(again)
        await press(pilot, "space")
        assert actions(rig.events())[-2:] == [(STEP_COMPLETED, "prep"), (STEP_STARTED, "cable")]


async def test_every_action_is_in_the_command_palette_and_explains_refusals(rig):
    app = rig.operator()
    async with app.run_test(size=(100, 30)) as pilot:
        app.refresh_now()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for want in ("Next: complete the running step, start the next", "Start the selected step",
                     "Done: complete the selected step", "Mark the selected step failed…",
                     "Skip the selected step…", "Add a note…", "Trigger a contingency…",
                     "Undo my last action", "Abort the run (NO-GO)…",
                     "Help: keys, levels, symbols", "Quit (the run stays resumable)"):
            assert want in titles
        await app.run_palette_action("complete")
        await pilot.pause()
        assert "not running" in notices(app)
        await app.run_palette_action("advance")
        await settle(pilot)
        assert actions(rig.events()) == [(STEP_STARTED, "prep")]


async def test_y_copies_the_command_and_never_runs_it(rig):
    app = rig.operator()
    async with app.run_test(size=(100, 30)) as pilot:
        app.refresh_now()
        await press(pilot, "y")
        assert app.clipboard == "ansible-playbook prep.yml"
        assert actions(rig.events()) == []


async def test_the_selection_stays_where_the_operator_moved_it(rig):
    app = rig.operator()
    async with app.run_test(size=(100, 30)) as pilot:
        app.refresh_now()
        await press(pilot, "space")
        assert app.main.selected == "prep"
        await press(pilot, "down", "down", "down")
        assert app.main.selected == "start-db"  # reading ahead while prep runs
        rig.clock.advance(60)
        app.desk.engine.note("bridge quiet")  # new events arrive; start-db itself is unchanged
        app.refresh_now()
        await pilot.pause()
        assert app.main.selected == "start-db"
        await press(pilot, "up", "up", "up")  # back on the followed step: following resumes
        await press(pilot, "d")
        await pilot.pause()
        assert app.main.selected == "cable"
