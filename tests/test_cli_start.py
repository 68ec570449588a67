"""`--start now|TIME` and windows in the past or far away (issue 10, item 4).

The commands' clock is pinned (tests/conftest.py `command_clock`); these tests move it to the day
the README is read on, four days after the examples' window."""

from __future__ import annotations

import asyncio
import contextlib
import json
import textwrap
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from textual.widgets import Static
from textual.worker import WorkerCancelled

import runbook.commands
from runbook.cli import main
from runbook.engine.clock import ManualClock
from runbook.engine.run import Session
from runbook.store import Store
from tests.conftest import RUNBOOKS

STORY = RUNBOOKS / "san-port-swap.yaml"
OVERRUN = RUNBOOKS / "san-port-swap.overrun.events.yaml"
TODAY = datetime(2026, 11, 29, 5, 3, 27, tzinfo=UTC)  # 2026-11-29 14:03:27 in Seoul


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def today(command_clock: ManualClock) -> ManualClock:
    command_clock.set(TODAY)
    return command_clock


# -- check -----------------------------------------------------------------------------------


def test_check_start_now_moves_the_whole_window_keeping_its_durations(capsys, today):
    _, planned, _ = run(capsys, "check", STORY, "--json", "--samples", "1000")
    code, out, err = run(capsys, "check", STORY, "--json", "--samples", "1000", "--start", "now")
    assert code == 0, err
    a, b = json.loads(planned), json.loads(out)
    assert b["window_start"] == "2026-11-29T14:03:27+09:00"
    assert b["announced_resume"] == "2026-11-29T15:23:27+09:00"
    assert b["hard_deadline"] == "2026-11-29T20:03:27+09:00"
    assert b["planned_window_start"] == "2026-11-25T00:00:00+09:00"
    assert a["planned_window_start"] is None
    shift = datetime.fromisoformat(b["p90"]) - datetime.fromisoformat(a["p90"])
    assert shift == TODAY - datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # the forecast moved too
    assert b["p_on_time"] == a["p_on_time"] and b["findings"] != a["findings"]


def test_check_says_a_window_in_the_past_is_over_and_how_to_rehearse(capsys, today):
    code, out, _ = run(capsys, "check", STORY, "--samples", "1000")
    assert code == 0
    assert ("warning  window_over            line 23   The window 2026-11-25 00:00 to 2026-11-25 "
            "01:20 (Asia/Seoul) is over: its announced resume was 4d12h43m ago. To rehearse it "
            "now: --start now") in out
    assert run(capsys, "check", STORY, "--samples", "1000", "--strict")[0] == 1
    code, out, _ = run(capsys, "check", STORY, "--samples", "1000", "--start", "now")
    assert code == 0 and "window_over" not in out
    assert "  Moved      by --start from the planned 2026-11-25 00:00 (+4d14h3m); durations kept" in out


def test_check_notes_a_window_more_than_a_day_ahead(capsys, command_clock):
    command_clock.set(datetime(2026, 11, 20, 3, 0, tzinfo=UTC))
    code, out, _ = run(capsys, "check", STORY, "--samples", "1000", "--verbose")
    assert code == 0 and "info     window_far_ahead" in out and "starts in 4d12h" in out
    assert run(capsys, "check", STORY, "--samples", "1000", "--strict")[0] == 0


def test_a_time_given_to_start_is_read_in_the_runbooks_zone(capsys, today):
    code, out, _ = run(capsys, "check", STORY, "--samples", "1000", "--start", "2026-12-05T22:00")
    assert code == 0
    assert ("Window     2026-12-05 22:00 -> announced resume 23:20 (1h20m, Asia/Seoul), "
            "hard deadline 04:00 +1d") in out


def test_a_window_moved_across_a_dst_change_keeps_its_durations(capsys, tmp_path):
    book = tmp_path / "berlin.yaml"
    book.write_text(textwrap.dedent("""\
        runbook: 1
        title: Moved onto the night the clocks go back
        timezone: Europe/Berlin
        window: {start: 2026-10-20T01:30, announced_resume: 2026-10-20T04:00}
        steps:
          - {id: a, title: A, estimate: 1h}
        """))
    code, out, _ = run(capsys, "check", book, "--json", "--samples", "500",
                       "--start", "2026-10-25T01:30")
    data = json.loads(out)
    assert data["announced_resume"] == "2026-10-25T03:00:00+01:00"  # 2h30m later, not 04:00


@pytest.mark.parametrize("value,says", [
    ("tomorrow", "--start tomorrow: 'tomorrow' is not an ISO 8601 time"),
    ("0001-01-01T00:00", "year 0001 is out of range"),
    ("2026-11-29", "has no time of day"),
])
def test_a_bad_start_is_unusable_input(capsys, value, says):
    code, out, err = run(capsys, "check", STORY, "--start", value)
    assert code == 2 and out == "" and says in err and "or write --start now" in err


# -- simulate --------------------------------------------------------------------------------


def test_simulate_start_moves_offsets_and_absolute_times_with_the_window(capsys, tmp_path, today):
    script = tmp_path / "mixed.events.yaml"
    script.write_text("start: 2026-11-25T00:00\nevents:\n  - {at: 0m, start: go-no-go}\n"
                      "  - {at: '2026-11-25T00:03', complete: go-no-go}\n")
    db = tmp_path / "runs.db"
    code, out, err = run(capsys, "simulate", STORY, "--events", script, "--json", "--samples",
                         "500", "--start", "2026-11-29T14:00", "--db", db)
    assert code == 0, err
    data = json.loads(out)
    assert data["window_start"] == "2026-11-29T14:00:00+09:00"
    assert data["planned_window_start"] == "2026-11-25T00:00:00+09:00"
    steps = {s["id"]: s for s in data["steps"]}
    assert steps["go-no-go"]["started_at"] == "2026-11-29T14:00:00+09:00"
    assert steps["go-no-go"]["finished_at"] == "2026-11-29T14:03:00+09:00"
    with Store(db, readonly=True) as s:
        (info,) = s.runs()
    assert info.meta["window_start"] == "2026-11-29T05:00:00+00:00"
    assert info.meta["planned_window_start"] == "2026-11-24T15:00:00+00:00"
    code, out, _ = run(capsys, "simulate", STORY, "--events", script, "--samples", "500",
                       "--start", "2026-11-29T14:00")
    assert ("  window moved to 2026-11-29 14:00 by --start from the planned 2026-11-25 00:00 "
            "(+4d14h); durations kept; the script's times moved with it") in out


def test_a_moved_run_is_reported_and_watched_with_its_moved_window(capsys, tmp_path, today):
    db = tmp_path / "runs.db"
    assert run(capsys, "simulate", STORY, "--events", OVERRUN, "--samples", "500", "--db", db,
               "--start", "now")[0] == 0
    code, md, _ = run(capsys, "report", "--db", db, "--format", "md")
    assert ("| Window start | 2026-11-29 14:03 (moved by --start from the planned 2026-11-25 "
            "00:00) |") in md
    assert "| Announced resume | 2026-11-29 15:23 |" in md
    report = json.loads(run(capsys, "report", "--db", db, "--format", "json")[1])
    assert report["summary"]["announced_resume"] == "2026-11-29T15:23:27+09:00"
    assert report["summary"]["overrun_s"] == 0  # against the moved window, not 4 days late
    assert report["summary"]["planned_window_start"] == "2026-11-25T00:00:00+09:00"
    _, out, _ = run(capsys, "runs", "--db", db)
    assert " / 15:23 (" in out  # announced as moved: the same day as the start
    with Store(db, readonly=True) as s:
        session = Session(s, s.runs()[0], today)
        assert session.plan.announced == TODAY + timedelta(minutes=80)


# -- run -------------------------------------------------------------------------------------


class FakeApp:
    """The operator screen, replaced (for `run` without a terminal, where nothing is asked on
    it): opens the run as the real one does, records what it was started on."""

    started: list = []
    failure = None

    def __init__(self, open_engine, actor, title) -> None:
        self.open_engine = open_engine

    def run(self) -> None:
        def ask(*words):
            raise AssertionError(f"asked without a terminal: {words}")

        self.engine, self.resumed = self.open_engine(ask)
        FakeApp.started.append(self)


@pytest.fixture
def screen(monkeypatch):
    import runbook.tui.launch

    FakeApp.started = []
    monkeypatch.setattr(runbook.tui.launch, "opening_operator_app", FakeApp)
    return FakeApp.started


@dataclass
class Operator:
    """`runbook run` at a terminal, on the real screen under Textual's pilot: ``keys`` are
    pressed one at a time while the window question is on screen. Records what the dialog said
    each time it was shown, the first frame, and the run the screen opened (if any)."""

    keys: list[str] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)
    first: str = ""  # the header and mode line of the first frame
    read: list[str] = field(default_factory=list)  # runbooks read (startup.load_with_start)
    read_at_first: int = -1  # ... when the first frame was drawn
    title: str = ""  # the header's once the run is open
    apps: list = field(default_factory=list)

    @property
    def engine(self):
        app = self.apps[-1]
        return app.desk.engine if app.snapshot is not None else None

    async def drive(self, app) -> None:
        from runbook.tui.dialogs import WindowScreen

        app.animation_level = "none"
        display = app._display

        def frame(screen, renderable) -> None:  # as a frame goes to the terminal
            if renderable is not None and screen is app.main and not self.first:
                self.read_at_first = len(self.read)
                self.first = " · ".join(str(app.main.query_one(w).render())
                                        for w in ("#title", "#mode"))
            display(screen, renderable)

        app._display = frame
        async with app.run_test(size=(110, 32)) as pilot:
            deadline = time.monotonic() + 30
            while app.is_running and time.monotonic() < deadline:
                if isinstance(app.screen, WindowScreen) and not app.screen.closed:
                    await pilot.pause()  # drawn
                    self.asked.append("\n".join(str(w.render()) for w in app.screen.query(Static)))
                    await pilot.press(self.keys.pop(0) if self.keys else "escape")
                elif app.snapshot is not None and app.snapshot.forecast is not None:
                    await pilot.pause()
                    self.title = str(app.main.query_one("#title").render())
                    break  # the run is open and on screen
                await asyncio.sleep(0.01)  # the opener works in a thread
            with contextlib.suppress(WorkerCancelled):  # an app that ended cancelled its refresh
                await app.workers.wait_for_complete()


@pytest.fixture
def operator(monkeypatch):
    """The real `runbook run` screen at a (pretended) terminal; set ``operator.keys``."""
    import runbook.tui.launch
    from runbook import startup

    made, load = runbook.tui.launch.opening_operator_app, startup.load_with_start
    driven = Operator()

    def load_with_start(path, *args):
        driven.read.append(str(path))
        return load(path, *args)

    def opening_operator_app(open_engine, actor, title):
        app = made(open_engine, actor, title, freeze_gc=False)
        app.run = lambda: asyncio.run(driven.drive(app))
        driven.apps.append(app)
        return app

    monkeypatch.setattr(runbook.commands, "_terminal", lambda: True)
    monkeypatch.setattr(runbook.tui.launch, "opening_operator_app", opening_operator_app)
    monkeypatch.setattr(startup, "load_with_start", load_with_start)
    return driven


def window_of(db) -> tuple[str | None, str | None]:
    with Store(db, readonly=True) as s:
        (info,) = s.runs()
        return info.meta.get("window_start"), info.meta.get("planned_window_start")


def test_run_on_a_window_that_is_over_without_a_terminal_stops_and_says_how(capsys, tmp_path,
                                                                           today, screen):
    db = tmp_path / "runs.db"
    code, out, err = run(capsys, "run", STORY, "--db", db)
    assert code == 2 and not screen and not db.exists()
    assert "is over: its announced resume was 4d12h43m ago." in err
    assert "Not starting a run without asking: add --start now to rehearse it now" in err
    assert "or --start 2026-11-25T00:00 to keep the planned times." in err


@pytest.mark.parametrize("reply,moved", [("y", True), ("n", False)])
def test_run_on_a_window_that_is_over_asks_first_and_offers_the_move(capsys, tmp_path, today,
                                                                    operator, reply, moved):
    operator.keys = ["x", reply]  # x answers nothing: the question stays
    db = tmp_path / "runs.db"
    code, out, err = run(capsys, "run", STORY, "--db", db, "--operator", "kim")
    assert code == 0, err
    assert len(operator.asked) == 2 and operator.asked[0] == operator.asked[1]
    assert operator.asked[0] == (
        "The window 2026-11-25 00:00 to 2026-11-25 01:20 (Asia/Seoul) is over: its announced "
        "resume was 4d12h43m ago.\n"
        "Move the whole window to start now, 2026-11-29 14:03 (announced resume 2026-11-29 "
        "15:23, durations kept)?\n"
        "[y] move it to now  [n] keep the planned times  [q] quit")
    plan = operator.engine.plan
    if moved:
        assert plan.start == TODAY.replace(microsecond=0)
        assert window_of(db) == ("2026-11-29T05:03:27+00:00", "2026-11-24T15:00:00+00:00")
    else:
        assert plan.start == datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
        assert window_of(db) == (None, None)
    assert "is saved and unfinished" in out


@pytest.mark.parametrize("key", ["q", "escape"])
def test_quitting_at_the_question_starts_nothing(capsys, tmp_path, today, operator, key):
    operator.keys = [key]
    db = tmp_path / "runs.db"
    code, out, err = run(capsys, "run", STORY, "--db", db)
    assert (code, out, err) == (0, "", "")
    assert len(operator.asked) == 1 and operator.engine is None and not db.exists()


def test_run_far_ahead_asks_too_and_start_now_does_not(capsys, tmp_path, operator,
                                                      command_clock):
    command_clock.set(datetime(2026, 11, 20, 3, 0, tzinfo=UTC))
    operator.keys = ["q"]
    code, out, _ = run(capsys, "run", STORY, "--db", tmp_path / "a.db")
    assert code == 0 and len(operator.asked) == 1 and operator.engine is None
    assert operator.asked[0].startswith(
        "The window 2026-11-25 00:00 to 2026-11-25 01:20 (Asia/Seoul) starts in 4d12h.")
    operator.asked.clear()
    code, out, err = run(capsys, "run", STORY, "--db", tmp_path / "b.db", "--start", "now")
    assert code == 0, err
    assert not operator.asked and operator.engine is not None
    assert window_of(tmp_path / "b.db")[0] == "2026-11-20T03:00:00+00:00"


def test_run_at_a_terminal_reads_the_runbook_behind_its_first_frame(capsys, tmp_path, today,
                                                                   operator):
    operator.keys = ["y"]
    assert run(capsys, "run", STORY, "--db", tmp_path / "runs.db", "--operator", "kim")[0] == 0
    assert operator.read_at_first == 0 and operator.read == [str(STORY)]
    assert operator.first.startswith("san-port-swap.yaml · OPERATOR kim@")  # the file's name
    assert operator.first.endswith(" · opening the run…")
    assert operator.title == "Replace faulty SAN switch port (core DB <-> storage, fabric A)"


def test_a_broken_runbook_under_run_at_a_terminal_is_reported_after_the_screen(capsys, tmp_path,
                                                                              operator):
    from runbook.format.loader import LoadError, load_runbook

    book = tmp_path / "broken.yaml"
    book.write_text(STORY.read_text().replace("timezone: Asia/Seoul", "timezone: Mars/Olympus"))
    with pytest.raises(LoadError) as said:
        load_runbook(book)
    db = tmp_path / "runs.db"
    code, out, err = run(capsys, "run", book, "--db", db)
    assert code == 2 and out == "" and not operator.asked and not db.exists()
    assert err == said.value.render() + "\n"  # as the loader says it, once
    assert "Mars/Olympus" in err and operator.apps[0].return_code == 2


@pytest.mark.parametrize(("start", "says"), [
    ("tomorrow", "--start tomorrow: 'tomorrow' is not an ISO 8601 time"),
    ("now", "is unfinished and keeps the window it started with"),
])
def test_unusable_input_under_run_at_a_terminal_exits_2_after_the_screen(capsys, tmp_path, today,
                                                                        operator, start, says):
    db = tmp_path / "runs.db"
    if start == "now":  # an unfinished run to resume
        import runbook.tui.launch

        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(runbook.commands, "_terminal", lambda: False)
            mp.setattr(runbook.tui.launch, "opening_operator_app", FakeApp)
            assert run(capsys, "run", STORY, "--db", db, "--start", "now")[0] == 0
    code, out, err = run(capsys, "run", STORY, "--db", db, "--start", start)
    assert code == 2 and out == "" and says in err and err.startswith("runbook: "), err
    assert operator.apps and not operator.asked and operator.engine is None


def test_the_question_at_the_terminal_prompt_takes_y_n_q_and_asks_again(capsys, monkeypatch,
                                                                       today):
    """The prompt (the question before any screen) still answers as the dialog does."""
    from runbook import startup
    from runbook.format.loader import load_runbook

    loaded = load_runbook(STORY)
    for replies, start in ((["maybe", "y"], TODAY.replace(microsecond=0)),
                           (["아니요"], loaded.plan.start), (["ㅂ"], None), (["?"] * 5, None)):
        asked = answer(monkeypatch, *replies)
        got = startup.confirm_window(loaded, TODAY, asking=True)
        assert (got.plan.start if got else None) == start
        assert len(asked) == len(replies)
        out = capsys.readouterr().out
        assert "Move the whole window to start now, 2026-11-29 14:03 (announced resume " \
               "2026-11-29 15:23, durations kept)?" in out


def answer(monkeypatch, *replies: str) -> list[str]:
    """Replies typed at the terminal prompt (input()), in order; then the end of input."""
    asked: list[str] = []
    replies_left = list(replies)

    def fake_input(prompt: str) -> str:
        asked.append(prompt)
        if not replies_left:
            raise EOFError
        return replies_left.pop(0)

    monkeypatch.setattr("builtins.input", fake_input)
    return asked


def test_run_within_a_day_of_the_window_asks_nothing(capsys, monkeypatch, tmp_path, screen,
                                                    command_clock):
    command_clock.set(datetime(2026, 11, 24, 14, 50, tzinfo=UTC))  # ten minutes before the start
    monkeypatch.setattr(runbook.commands, "_terminal", lambda: False)
    assert run(capsys, "run", STORY, "--db", tmp_path / "runs.db")[0] == 0
    assert len(screen) == 1 and window_of(tmp_path / "runs.db") == (None, None)


def test_start_does_not_apply_to_an_unfinished_run(capsys, tmp_path, today, screen):
    db = tmp_path / "runs.db"
    assert run(capsys, "run", STORY, "--db", db, "--start", "now")[0] == 0
    code, _, err = run(capsys, "run", STORY, "--db", db, "--start", "now")
    assert code == 2 and "is unfinished and keeps the window it started with" in err
    assert run(capsys, "run", STORY, "--db", db)[0] == 0  # resumed, no question: its own window
    assert screen[-1].resumed and screen[-1].engine.plan.start == TODAY.replace(microsecond=0)


def test_readme_examples_work_on_any_date(capsys, tmp_path, today, screen):
    # the README's commands, four days after their window (the date the README is read on)
    db = tmp_path / "runs.db"
    assert run(capsys, "check", STORY, "--samples", "500")[0] == 0
    assert run(capsys, "simulate", STORY, "--events", OVERRUN, "--samples", "500")[0] == 0
    assert run(capsys, "run", STORY, "--start", "now", "--db", db, "--operator", "kim")[0] == 0
    for fmt in ("md", "csv", "json", "html"):
        assert run(capsys, "report", "--db", db, "--format", fmt, "-o", tmp_path / f"r.{fmt}")[0] == 0
    assert run(capsys, "runs", "--db", db)[0] == 0


class SkewedClock:
    """A real clock ten minutes fast, as on an operator host whose time is off."""

    real = True

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(minutes=10)


def test_start_now_moves_the_window_to_the_stores_clock_not_a_skewed_host_clock(
        capsys, monkeypatch, tmp_path, screen):
    import runbook.startup

    monkeypatch.setattr(runbook.startup, "system_clock", SkewedClock)
    db = tmp_path / "runs.db"
    before = datetime.now(UTC)
    assert run(capsys, "run", STORY, "--db", db, "--start", "now")[0] == 0
    after = datetime.now(UTC)
    start = datetime.fromisoformat(window_of(db)[0])
    # the store's clock (this host's kernel clock on SQLite), not the process's +10 minutes
    assert before - timedelta(seconds=2) <= start <= after + timedelta(seconds=1)
    assert screen[0].engine.plan.start == start
