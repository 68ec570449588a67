"""Hostile text on the screen: one escaping path (runbook.tui.text), correct for every input.

A `[` in a note or a contingency title used to crash the operator screen and every watcher (and
every restart of that run); a command `awk '$1 ~ /^[A-Z]/'` was shown as `awk '$1 ~ /^/'`.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from textual import events
from textual.content import Content

from runbook.engine.state import NOTE, fold
from runbook.format.safe import terminal
from runbook.tui import view
from runbook.tui.dialogs import ConfirmScreen
from runbook.tui.runlog import RunLog
from runbook.tui.text import line, markup, plain
from runbook.tui.widgets import detail
from tests.conftest import START, make_runbook, three
from tests.tui.conftest import press, quiet

NASTY = ["vendor case [INC-42", "Roll back to fabric B [SR 7-2026", "awk '$1 ~ /^[A-Z]/'",
         "[b]bold?[/b]", "trailing \\", "\\[not escaped", "[/]", "[$accent]x", "a [@click=quit]b",
         "\x1b]52;c;Y3VybCBldmlsLnNofHNo\x07", "tab\there", "[[[", "]]]", "\\\\[x]"]
TEXT = st.one_of(st.text(), st.text(alphabet="[]\\/$@#=:;abc \x1b\x07\n\t", max_size=30),
                 st.sampled_from(NASTY))


@given(TEXT)
def test_plain_shows_any_text_exactly_with_controls_made_visible(text):
    assert plain(text).plain == terminal(text)
    assert line("x ", (text, "bold $accent"), " y").plain == f"x {terminal(text)} y"
    assert "\x1b" not in plain(text).plain and "\x07" not in plain(text).plain


@given(TEXT)
def test_markup_escape_is_exact_where_textual_only_takes_markup(text):
    assert Content.from_markup(markup(text)).plain == terminal(text, newlines=False)


def test_textual_own_escape_is_not_enough():
    """Why this module exists: textual.markup.escape leaves these to the parser."""
    from textual.markup import escape
    broken = 0
    for text in ("[/", "\\[", "a [[b:;b=#@;\\$"):
        try:
            broken += Content.from_markup(escape(text)).plain != text
        except Exception:
            broken += 1
    assert broken == 3


def nasty_runbook():
    return make_runbook(
        [{"id": "prep", "title": "Prepare [INC-42", "estimate": three(2, 3, 6),
          "command": "awk '$1 ~ /^[A-Z]/' /var/log/[x].log \\", "check": "[b]all green",
          "notes": "see [SR 7-2026", "owner": "ops [night]"},
         {"id": "verify", "title": "Verify", "estimate": "5m"}],
        announced="2026-11-25T00:40", title="Swap [CHG-0417] \x1b]0;pwned\x07 port",
        contingencies=[{"id": "rollback", "title": "Roll back to fabric B [SR 7-2026",
                        "steps": [{"id": "rb", "after": [], "estimate": "5m"}]}])


class Ev:
    def __init__(self, seq, type, step, payload, actor="kim [ops"):
        self.seq, self.at, self.actor, self.host = seq, START, actor, "h"
        self.type, self.step, self.payload = type, step, payload


PLAN = nasty_runbook().plan


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(TEXT)
def test_the_step_detail_shows_any_note_and_the_command_byte_for_byte(text):
    state = fold(PLAN, [Ev(1, NOTE, "prep", {"text": text})])
    snap = view.build(PLAN, state, now=START, level=view.Level.on_track, forecast=None,
                      run_id="r", label="live", critical=frozenset(), planned=())
    _, body = detail(snap, "prep")
    shown = body.plain
    assert "awk '$1 ~ /^[A-Z]/' /var/log/[x].log \\" in shown
    assert "[b]all green" in shown and "see [SR 7-2026" in shown
    assert terminal(text) in shown


async def test_brackets_everywhere_never_crash_the_operator_nor_a_watcher_and_the_run_reopens(rig):
    rig.loaded = nasty_runbook()
    app = rig.operator()
    async with app.run_test(size=(120, 36)) as pilot:
        app.refresh_now()
        await press(pilot, "n")
        app.screen.query_one("Input").value = "vendor case [INC-42 \\"
        await press(pilot, "enter")
        await pilot.pause()
        app.refresh_now()
        await pilot.pause()
        shown = str(app.main.query_one("#detail-text").render())
        assert "awk '$1 ~ /^[A-Z]/' /var/log/[x].log \\" in shown
        assert "vendor case [INC-42 \\" in shown
        assert "\x1b" not in app.export_screenshot()
        await press(pilot, "c")  # the contingency title in the confirm dialog
        assert isinstance(app.screen, ConfirmScreen)
        assert "Roll back to fabric B [SR 7-2026" in str(app.screen.query_one("#dialog-body").render())
        await press(pilot, "escape")
    watcher = rig.watcher()
    async with watcher.run_test(size=(100, 30)) as pilot:
        watcher.refresh_now()
        watcher.main.toggle_log()
        await pilot.pause()
        assert "vendor case [INC-42" in watcher.main.query_one(RunLog).visible_text()
    again = rig.operator()  # the note is in the log now: the run must reopen
    async with again.run_test(size=(100, 30)) as pilot:
        again.refresh_now()
        await pilot.pause()
        assert "Swap [CHG-0417]" in str(again.main.query_one("#title").render())


async def test_an_operator_name_with_brackets_is_shown_as_typed(rig):
    from runbook.engine.run import Actor
    from runbook.tui.launch import operator_app
    engine, resumed = rig.engine(Actor("kim [night", "host[1]"))
    app = quiet(operator_app(engine, resumed, interval=None))
    async with app.run_test(size=(100, 30)) as pilot:
        app.refresh_now()
        await pilot.pause()
        assert "kim [night@host[1]" in str(app.main.query_one("#mode").render())


def enter_burst(app, n: int = 4) -> None:
    """Enter n times faster than the screen can pop (as a held key or a key-repeat does)."""
    for _ in range(n):
        app.post_message(events.Key("enter", "\r"))


async def test_enter_pressed_repeatedly_on_a_confirm_dialog_records_once_and_closes_once(rig):
    app = rig.operator()
    async with app.run_test(size=(100, 30)) as pilot:
        app.refresh_now()
        await press(pilot, "k")
        enter_burst(app)
        await pilot.pause()
        skips = [e for e in rig.raw_events() if e.type == "step_skipped"]
        assert len(skips) == 1
        assert app.screen is app.main and app.main.is_mounted
        app.refresh_now()
        await pilot.pause()
        assert "↷ skipped" in str(app.main.table.get_row_at(0)[0])


async def test_a_dialog_dismissed_twice_in_one_go_pops_only_itself(rig):
    app = rig.operator()
    results = []
    async with app.run_test(size=(100, 30)) as pilot:
        app.refresh_now()
        dialog = ConfirmScreen("Note", "body", require_text=False, danger=False)
        app.push_screen(dialog, results.append)
        await pilot.pause()
        dialog.dismiss("a")
        dialog.dismiss("b")  # a second Enter already in the queue
        await pilot.pause()
        assert results == ["a"]
        assert app.screen is app.main


async def test_enter_pressed_repeatedly_on_the_note_dialog_records_one_note(rig):
    app = rig.operator()
    async with app.run_test(size=(100, 30)) as pilot:
        app.refresh_now()
        await press(pilot, "n")
        app.screen.query_one("Input").value = "bridge is noisy"
        enter_burst(app)
        await pilot.pause()
        assert len([e for e in rig.raw_events() if e.type == "note"]) == 1
        assert app.screen is app.main
