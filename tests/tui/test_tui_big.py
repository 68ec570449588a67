"""A big run on screen: what the operator sees stays exact while the screen does only what changed.

The journal kept by event equals the journal read from scratch; the timeline wraps as text does;
the steps table fills over frames with the selection held, shows a changed cell at once, and a
resize leaves it as a table drawn at that size; the run opens behind the first frame. (Speed is
measured in bench/, not here.)
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from textual.app import App
from textual.containers import VerticalScroll
from textual.widgets import Static

from runbook.engine.clock import ManualClock
from runbook.engine.run import Session, new_run
from runbook.engine.state import ABANDONED, COMPLETED, FAILED, PENDING, READY, RUNNING, SKIPPED
from runbook.store import Store
from runbook.tui import steps as steps_mod
from runbook.tui.journal import Entry, Journal, entries
from runbook.tui.launch import opening_operator_app, opening_watch_app, watch_app
from runbook.tui.runlog import RunLog
from runbook.tui.text import line, lines
from tests.conftest import START, make_runbook, three
from tests.tui.conftest import OPS, press, quiet, settle, small_runbook


def chain(n: int):
    """``n`` steps one after the other."""
    return make_runbook([{"id": f"s{k:04d}", "title": f"Step {k}", "estimate": three(1, 2, 4),
                          **({"after": [f"s{k - 1:04d}"]} if k else {})} for k in range(n)],
                        announced="2026-11-25T23:00")


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "runs.db") as s:
        yield s


def test_the_journal_kept_by_event_is_the_journal_read_from_scratch(store):
    clock = ManualClock(START)
    engine = new_run(store, small_runbook(), clock, OPS, samples=500)
    kept = Journal("Asia/Seoul")
    seen = []
    for act in (lambda: engine.start("prep"), lambda: engine.note("bridge [noisy]", "prep"),
                lambda: engine.complete("prep"), engine.undo, lambda: engine.complete("prep"),
                lambda: engine.start("cable")):
        clock.advance(30)
        act()
        seen.append(kept.update(engine.state, clock.now()))
        assert list(seen[-1]) == entries(engine.state, "Asia/Seoul", clock.now())
    assert any(e.undone for e in seen[-1])  # the undo marked what it reverted
    assert seen[-1][:2] == seen[0][:2] and seen[-1][0] is seen[0][0]  # kept, not made again
    clock.advance(24 * 3600)  # the next day: every time is written again, relative to it
    later = kept.update(engine.state, clock.now())
    assert list(later) == entries(engine.state, "Asia/Seoul", clock.now())
    assert later[0].time.endswith("-1d") and not seen[-1][0].time.endswith("-1d")


ENTRIES = [Entry(START, f"00:00:{k:02d}", "kim@ops" if k % 3 else "", ("note", "alert",
                                                                        "step_failed")[k % 3],
                 "word " * (k * 4) + ("\nsecond line" if k == 5 else ""), undone=k == 4)
           for k in range(12)]


class Side(App):
    CSS = "RunLog, VerticalScroll { height: 1fr; padding: 0 1; scrollbar-size-vertical: 1; }"

    def compose(self):
        yield RunLog()
        with VerticalScroll():
            yield Static(lines([line(*e.parts) for e in reversed(ENTRIES)]))


async def test_the_timeline_wraps_each_entry_as_text_does_newest_first():
    app = Side()
    async with app.run_test(size=(50, 120)) as pilot:
        log = app.query_one(RunLog)
        log.show(SimpleNamespace(journal=tuple(ENTRIES[:11])))
        log.show(SimpleNamespace(journal=tuple(ENTRIES)))  # one more event: added on top
        await pilot.pause()
        static = app.query_one(Static)
        want = [s.text.rstrip() for s in static.render_lines(static.size.region)]
        assert want[0].startswith("00:00:11 kim@ops word")
        assert "second line" in want and "word  (undone)" in want  # wrapped lines, as written
        assert log.visible_text().splitlines()[:len(want)] == want
        assert str(log.border_title) == "Timeline, newest first (12 events) · l hides"


async def test_a_big_table_fills_over_frames_and_holds_the_selection(tmp_path, monkeypatch):
    monkeypatch.setattr(steps_mod, "FILL_S", 0.0)  # a batch at a time, however fast the machine
    with Store(tmp_path / "big.db") as store:
        clock = ManualClock(START)
        engine = new_run(store, chain(400), clock, OPS, samples=200)
        for k in range(300):  # the running step is far down the table
            engine.start(f"s{k:04d}")
            engine.complete(f"s{k:04d}")
        engine.start("s0300")
        ro = Store(tmp_path / "big.db", readonly=True)
        app = quiet(watch_app(Session(ro, ro.resolve(None), clock), interval=None))
        async with app.run_test(size=(120, 40)) as pilot:
            snap = app.refresh_now()
            table = app.main.table
            assert 0 < table.row_count < 400  # the first batch drawn, the rest to come
            assert table.selected == "s0300" and not table.show_cursor  # held, not yet shown
            for _ in range(400):
                if table.row_count == 400:
                    break
                await pilot.pause()
            assert table.row_count == 400 and table.selected == "s0300"
            assert table.show_cursor and table.cursor_row == 300
            assert snap.row("s0300").status == "▶ RUNNING"
            engine.complete("s0300")
            app.refresh_now()  # a row on screen is updated in the first batch, before any frame
            assert str(table.get_row("s0300")[0]) == "✓ done"
        ro.close()


@pytest.mark.parametrize("size", [(150, 36), (80, 24)])  # columns narrower; the owner goes
async def test_a_changed_cell_is_drawn_at_once_and_a_resize_draws_the_table_as_new(rig, size):
    app = rig.operator()
    async with app.run_test(size=(170, 36)) as pilot:
        app.refresh_now()
        await pilot.pause()
        table = app.main.table
        table.render_lines(table.size.region)  # every cell drawn (and kept)
        rig.clock.advance(75)
        app.desk.engine.start("prep")
        app.refresh_now()
        rig.clock.advance(30)
        app.refresh_now()  # the running step ticks: only its row changes
        await pilot.pause()
        drawn = "\n".join(s.text for s in table.render_lines(table.size.region))
        assert "▶ RUNNING" in drawn and "0:30" in drawn
        await pilot.resize_terminal(*size)
        await pilot.pause()
        await pilot.pause()
        narrow = app.export_screenshot()
        kept = table.selected, [c.width for c in table.ordered_columns]
    fresh = rig.operator()
    async with fresh.run_test(size=size) as pilot:
        fresh.refresh_now()
        await pilot.pause()
        table = fresh.main.table
        assert kept == (table.selected, [c.width for c in table.ordered_columns])
        assert kept[0] == "prep"
        assert _table_lines(fresh.export_screenshot()) == _table_lines(narrow)


def _table_lines(svg: str) -> list[str]:
    import html
    import re

    rows: dict[float, list] = {}
    for m in re.finditer(r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', svg):
        rows.setdefault(float(m.group(2)), []).append((float(m.group(1)), html.unescape(m.group(3))))
    text = ["".join(t for _, t in sorted(v)).replace("\xa0", " ") for _, v in sorted(rows.items())]
    return [t for t in text if "prep" in t or "cable" in t or "Status" in t]


def test_the_table_styles_every_status_the_engine_has():
    assert set(steps_mod.STATUS_STYLE) == {PENDING, READY, RUNNING, COMPLETED, FAILED, SKIPPED,
                                           ABANDONED}


async def test_watch_draws_its_first_frame_before_the_run_is_loaded(rig):
    rig.operator()  # the run exists
    ro = rig.store(readonly=True)
    info = ro.resolve(None)
    opened = []

    def open_session():
        opened.append(1)
        return Session(ro, info, rig.clock)

    app = quiet(opening_watch_app(open_session, info.id, info.title, freeze_gc=False))
    async with app.run_test(size=(100, 30)) as pilot:
        assert not opened  # the first frame: the title, the mode line, "computing…"
        assert str(app.main.query_one("#title").render()) == info.title
        assert "computing" in str(app.main.query_one("#forecast").render())
        assert app.why_not("complete").startswith("read-only")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert opened and app.snapshot is not None and app.snapshot.forecast is not None
        assert "Watching read-only" in app.said[-1]


async def test_run_draws_its_first_frame_before_the_runbook_is_read(rig):
    opened = []

    def open_engine(ask):
        opened.append(1)  # `runbook run` reads the runbook here, then opens the run
        from runbook.engine.run import open_run

        return open_run(rig.store(), rig.loaded, rig.clock, OPS, samples=500)

    app = quiet(opening_operator_app(open_engine, OPS, "night.yaml", freeze_gc=False))
    async with app.run_test(size=(100, 30)) as pilot:
        assert not opened  # the first frame: the file's name, who operates, "computing…"
        assert str(app.main.query_one("#title").render()) == "night.yaml"
        assert str(app.main.query_one("#mode").render()) == \
            "OPERATOR kim@ops-host · opening the run…"
        assert "computing" in str(app.main.query_one("#forecast").render())
        assert app.why_not("complete") == "the run is still loading"
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert opened and app.snapshot is not None and app.snapshot.forecast is not None
        assert str(app.main.query_one("#title").render()) == rig.loaded.plan.title
        assert "New run started" in app.said[-1]


FIRST_FRAME = r"""
import sys
from textual.app import App
import runbook.commands
from runbook.tui.app import RunbookApp
runbook.commands._terminal = lambda: True  # an operator at a terminal (this one is a pipe)
display, run = App._display, RunbookApp.run
def _display(self, screen, renderable):
    display(self, screen, renderable)
    if renderable is not None and screen is self.main and not getattr(self, "drawn", False):
        self.drawn = True
        print("model imported at the first frame:", "runbook.format.model" in sys.modules)
        self.exit()
App._display = _display
RunbookApp.run = lambda self: run(self, headless=True, size=(100, 30))
from runbook.cli import main
raise SystemExit(main(sys.argv[1:]))
"""


def test_run_at_a_terminal_draws_its_first_frame_before_the_runbook_model_is_imported(tmp_path):
    """A new process, as the operator starts it: the runbook model (a tenth of a second of
    imports) and the runbook itself come behind the first frame, as for `watch`."""
    import subprocess
    import sys

    book = tmp_path / "night.yaml"
    book.write_text(small_runbook().text)
    out = subprocess.run([sys.executable, "-c", FIRST_FRAME, "run", str(book), "--db",
                          str(tmp_path / "runs.db"), "--start", "now"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "model imported at the first frame: False" in out.stdout


async def test_a_run_that_cannot_be_opened_stops_the_app_and_says_why(rig):
    def open_session():
        raise RuntimeError("the store went away")

    app = quiet(opening_watch_app(open_session, "r1", "Night", freeze_gc=False))
    async with app.run_test(size=(100, 30)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert isinstance(app.failure, RuntimeError) and app.return_code == 2


def test_rows_keep_their_object_until_their_step_changes(store):
    clock = ManualClock(START)
    engine = new_run(store, small_runbook(), clock, OPS, samples=500)
    from runbook.tui.desk import Desk

    desk = Desk(engine)
    first = desk.view()
    engine.start("prep")
    clock.advance(40)
    second = desk.view()
    same = [a is b for a, b in zip(first.rows, second.rows, strict=True)]
    assert same == [r.id != "prep" for r in first.rows]  # only prep changed


def test_a_snapshot_comes_with_what_the_ui_thread_would_otherwise_walk_the_plan_for(store,
                                                                                   monkeypatch):
    """The steps by status (which keys are available) and the timeline's rows at the screen's
    width are made by the worker that builds the snapshot, not by the frame that shows it."""
    import runbook.engine.state
    import runbook.tui.view
    from runbook.engine.index import StatusIndex
    from runbook.tui.desk import Desk, advance_plan
    from runbook.tui.timeline import timeline_rows

    clock = ManualClock(START)
    engine = new_run(store, chain(300), clock, OPS, samples=300)
    desk = Desk(engine)
    desk.timeline_width = 100  # as the app tells it
    engine.start("s0000")
    clock.advance(60)
    snap = desk.view()
    built, drawn = [], []

    class Counted(StatusIndex):
        def __init__(self, *args) -> None:
            built.append(1)
            super().__init__(*args)

    def counted_rows(*args):
        drawn.append(args[1])
        return timeline_rows(*args)

    monkeypatch.setattr(runbook.engine.state, "StatusIndex", Counted)
    monkeypatch.setattr(runbook.tui.view, "timeline_rows", counted_rows)
    assert advance_plan(snap.state, None) == ("complete", "s0000")  # what space does now
    assert snap.state.ids(READY) == [] and len(snap.state.ids(PENDING)) == 299
    assert snap.timeline_rows(100) == timeline_rows(snap.timeline, 100)
    assert not built and not drawn  # both came with the snapshot
    snap.timeline_rows(80)  # another width (the screen was resized): made then
    assert drawn == [80]
    engine.complete("s0000")  # the run moves on; the snapshot's index stays as it was
    assert snap.state.ids(RUNNING) == ["s0000"] and snap.state.ids(READY) == []
    assert engine.state.ids(RUNNING) == [] and engine.state.ids(READY) == ["s0001"]
    assert desk.view().state.ids(READY) == ["s0001"]


async def test_the_ui_thread_never_makes_the_timeline_at_start_up_or_after_an_action(
        rig, monkeypatch):
    """The timeline's rows (10-20 ms at 10,000 steps) come made with each snapshot, at the width
    of the strip on screen: from the first refresh on, and after an action."""
    import threading

    import runbook.tui.view
    from runbook.tui.launch import operator_app
    from runbook.tui.timeline import timeline_rows

    made = []

    def counted_rows(timeline, width):
        made.append((threading.current_thread() is threading.main_thread(), width))
        return timeline_rows(timeline, width)

    monkeypatch.setattr(runbook.tui.view, "timeline_rows", counted_rows)
    engine, resumed = rig.engine()
    app = quiet(operator_app(engine, resumed, interval=3600))  # the first refresh only
    shown, show = [], app.show

    def showing(snapshot):
        shown.append(set(snapshot.drawn))  # the widths made before it reached the screen
        show(snapshot)

    app.show = showing
    async with app.run_test(size=(123, 40)) as pilot:
        await settle(pilot)
        width = app.main.query_one("#timeline").size.width
        assert app.snapshot is not None and app.desk.timeline_width == width > 100
        assert shown[0] == {width}  # the very first snapshot too
        await press(pilot, "space")  # start prep: saved, then shown
        assert app.snapshot.state.ids(RUNNING) == ["prep"]
        assert "▒" in "".join(app.snapshot.timeline_rows(width))  # drawn running
        assert made and all(not ui and w == width for ui, w in made), made
        await pilot.resize_terminal(101, 40)  # another width: made on the spot, as before
        await pilot.pause()
        assert (True, app.main.query_one("#timeline").size.width) in made
