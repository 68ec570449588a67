"""Issue 12, done when, as one test: two `runbook run` processes with clocks faked 20 minutes
apart drive one run in a PostgreSQL this session started; a browser follows it on the status page
and in /tui; a kill -9 of an operator and a server restart lose nothing.

Everything is the real program: the operators are `runbook run` screens in a private tmux server
(keys by send-keys, reading by capture-pane), each under `faketime` (lee +10 min, park -10 min);
the server is `runbook serve --db postgresql://...`; the browser is headless Chromium.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import signal
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.request import urlopen

import pytest

from runbook.store import Store
from tests.helpers.pg_cluster import Cluster
from tests.store.test_store_processes import report
from tests.tui.test_tui_tmux import Tmux
from tests.web.conftest import Served
from tests.web.test_browser import CAPTURE_WEBSOCKETS, open_live, text, wait_for

pytestmark = pytest.mark.slow
RUNBOOK = str(Path(sys.executable).parent / "runbook")
STEPS = ("a", "b", "c", "d")
CLOCKS = {"lee": "+10m", "park": "-10m"}
ROW = re.compile(r"^ (?P<status>\S+ \S+)\s+◆? ?(?P<step>[a-d]) +Step [a-d]\b", re.M)


def night_runbook(tmp_path: Path) -> Path:
    """Four steps in a row; the window started two minutes ago, resume announced in ten."""
    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    path = tmp_path / "night.yaml"
    path.write_text(
        "runbook: 1\nid: night\ntitle: Night on PostgreSQL\ntimezone: UTC\nwindow:\n"
        f"  start: {(now - timedelta(minutes=2)).isoformat()}\n"
        f"  announced_resume: {(now + timedelta(minutes=10)).isoformat()}\n"
        "steps:\n" + "".join(f"  - {{id: {s}, title: Step {s}, estimate: 2m"
                             + (", resumes_service: true" if s == "d" else "") + "}\n"
                             for s in STEPS))
    return path


def rows(screen: str) -> dict[str, str]:
    """The steps table as the screen shows it: {step: "▶ RUNNING"}."""
    return {m["step"]: m["status"] for m in ROW.finditer(screen)}


def runbook_process(pid: int) -> int:
    """The `runbook` process under ``pid`` (itself included): the real `runbook run`, not the
    shell, env or the faketime wrapper tmux started it with."""
    def cmdline(p: int) -> str:
        try:
            return Path(f"/proc/{p}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            return ""

    def children(p: int) -> list[int]:
        found = []
        for task in Path(f"/proc/{p}/task").glob("*"):
            with contextlib.suppress(OSError):
                found += [int(c) for c in (task / "children").read_text().split()]
        return found

    todo = [pid]
    while todo:
        p = todo.pop()
        argv = cmdline(p).split(" ")
        if RUNBOOK in argv[:2] and Path(argv[0]).name.startswith(("python", "runbook")):
            return p
        todo += children(p)
    raise AssertionError(f"no `runbook run` under {pid}")


def operator_processes(who: str) -> list[int]:
    """Every process on this machine running `runbook run ... --operator who` (or its wrapper)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            argv = (proc / "cmdline").read_bytes().decode().split("\0")
        except OSError:
            continue
        if RUNBOOK in argv and "--operator" in argv and who in argv:
            found.append(int(proc.name))
    return found


@dataclass
class Press:
    """One key press: who, which key, what it must record, and when (wall clock) it was pressed
    and when the operator's screen showed it done."""

    who: str
    key: str
    records: list[tuple[str, str]]
    pressed: float = 0.0
    shown: float = 0.0


class Night:
    served: Served
    page: str  # the browser's windows
    tui: str

    def __init__(self, tmux: Tmux, db: str, book: Path, browser) -> None:
        self.tmux, self.db, self.book, self.browser = tmux, db, book, browser
        self.session = {"lee": "lee", "park": "park"}
        self.presses: list[Press] = []
        self.run_id = ""

    def operator(self, who: str, session: str, *start: str) -> None:
        """`runbook run` as ``who`` under a faked clock in a new tmux session."""
        self.session[who] = session
        command = [RUNBOOK, "run", str(self.book), "--db", self.db, "--operator", who, *start]
        env = "env -u NO_COLOR -u COLUMNS -u LINES TERM=xterm-256color RUNBOOK_KEYMAP= "
        self.tmux("new-session", "-d", "-s", session, "-x", "140", "-y", "36",
                  env + f"faketime -f {CLOCKS[who]} " + shlex.join(command))
        self.tmux("set-option", "-t", session, "remain-on-exit", "on")

    def screen(self, who: str) -> str:
        return self.tmux.screen(self.session[who])

    def wait(self, who: str, text: str, timeout: float = 20.0) -> str:
        return self.tmux.wait_for(self.session[who], text, timeout)

    def sees(self, who: str, **states: str) -> None:
        """Wait until ``who``'s steps table shows each step in its state ("running", "done")."""
        words = {"ready": "○ ready", "running": "▶ RUNNING", "done": "✓ done",
                 "waiting": "· waiting"}
        want = {step: words[s] for step, s in states.items()}
        deadline = time.monotonic() + 20
        while True:
            screen = self.screen(who)
            shown = rows(screen)
            if all(shown.get(k) == v for k, v in want.items()):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{who} does not show {want}:\n{screen}")
            time.sleep(0.1)

    def press(self, who: str, key: str, says: str, records: list[tuple[str, str]]) -> Press:
        """``who`` presses ``key``; the screen says ``says`` once the store has it."""
        p = Press(who, key, records, pressed=time.time())
        self.tmux.keys(self.session[who], key)
        self.wait(who, says, timeout=15)
        p.shown = time.time()
        self.presses.append(p)
        return p

    # -- the browser ---------------------------------------------------------------------------
    def status(self) -> dict:
        with urlopen(self.served.url + "status.json", timeout=10) as r:
            return json.load(r)

    def page_follows(self, done: int, running: list[str], within: float = 3.0) -> None:
        """The status page (drawn, in the browser) and /status.json show the store's last event,
        ``done`` steps and ``running`` within ``within`` seconds of the operator's screen."""
        with Store(self.db, readonly=True) as store:
            last = store.events(self.run_id)[-1].seq
        self.browser.switch_to.window(self.page)
        now_doing = f"Now: {', '.join(running)}" if running else ""
        started = time.monotonic()
        wait_for(lambda: text(self.browser, "progress") == f"{done}/{len(STEPS)} steps"
                 and text(self.browser, "now-doing") == now_doing, timeout=within)
        status = wait_for(lambda: (s := self.status())["seq"] >= last and s, timeout=within)
        assert status["run"]["id"] == self.run_id
        assert status["progress"]["done"] == done and status["progress"]["running"] == running
        assert time.monotonic() - started < within

    def tui_since(self, mark: int, *expected: str, timeout: float = 30.0) -> str:
        """What /tui's websocket brought after ``mark`` characters, once it has ``expected``."""
        self.browser.switch_to.window(self.tui)

        def ready():
            got = self.browser.execute_script("return window.__received")[mark:]
            return got if all(e in got for e in expected) else None

        return wait_for(ready, timeout=timeout, step=0.2)

    def tui_mark(self) -> int:
        self.browser.switch_to.window(self.tui)
        return self.browser.execute_script("return window.__received.length")


@pytest.fixture
def tmux(tmp_path):
    t = Tmux(f"e2e-{os.getpid()}", tmp_path)
    yield t
    t("kill-server")


def test_two_faked_clocks_a_browser_kill_9_and_a_server_restart_lose_nothing(
        programs, own_db: str, pg_cluster: Cluster, tmux: Tmux, browser, tmp_path: Path) -> None:
    book = night_runbook(tmp_path)
    night = Night(tmux, own_db, book, browser)

    # -- two operators on one run: lee (+10 min) creates it, park (-10 min) joins it -------------
    night.operator("lee", "lee", "--start", "now")
    first = night.wait("lee", "New run started", timeout=60)
    with Store(own_db, readonly=True) as store:
        [run] = store.runs()
    night.run_id = run.id
    assert f"LIVE run {run.id}" in first
    night.operator("park", "park")
    joined = night.wait("park", "REATTACHED", timeout=60)
    assert f"Reattached to the unfinished run {night.run_id}" in joined
    night.wait("lee", "this host's clock is 10m ahead of the store's")  # the fakes are in force
    night.wait("park", "this host's clock is 10m behind the store's")

    # -- the server and a browser: the status page in one window, /tui in another --------------
    night.served = served = Served(own_db)
    try:
        browser.set_window_size(1200, 900)
        open_live(browser, night.served.url)
        night.page = browser.current_window_handle
        assert text(browser, "level-word") == "ON TRACK"
        night.page_follows(0, [])
        browser.switch_to.new_window("window")
        night.tui = browser.current_window_handle
        browser.set_window_size(1200, 900)
        browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument",
                                {"source": CAPTURE_WEBSOCKETS})
        browser.get(night.served.url + "tui")
        night.tui_since(0, "WATCHING — read-only", night.run_id, "Step d")

        # -- keys, alternately; each operator first sees what the other did -------------------
        night.sees("lee", a="ready")
        a_start = night.press("lee", "Space", "Started a", [("step_started", "a")])
        night.page_follows(0, ["Step a"])
        night.sees("park", a="running")
        wait_for(lambda: time.time() >= a_start.shown + 1.0, timeout=5)  # a real duration
        mark = night.tui_mark()
        night.press("park", "d", "Completed a", [("step_completed", "a")])
        night.page_follows(1, [])
        night.tui_since(mark, "1/4 steps", "✓ done")
        night.sees("lee", a="done", b="ready")
        night.press("lee", "s", "Started b", [("step_started", "b")])
        night.page_follows(1, ["Step b"])
        night.sees("park", b="running")

        # -- kill -9 lee mid-step, then restart the PostgreSQL server --------------------------
        with Store(own_db, readonly=True) as store:
            before_kill = [(e.seq, e.event_id) for e in store.events(night.run_id)]
        lee = runbook_process(tmux.pid("lee"))
        os.kill(lee, signal.SIGKILL)
        wait_for(lambda: tmux("display-message", "-p", "-t", "lee", "#{pane_dead}").strip() == "1",
                 timeout=10)
        wait_for(lambda: not operator_processes("lee"), timeout=10)  # gone, not orphaned
        tmux("kill-session", "-t", "lee")

        pg_cluster.stop()
        night.wait("park", "store unreachable since", timeout=15)
        down = wait_for(lambda: (s := night.status())["store"]["reachable"] is False and s,
                        timeout=15)
        assert down["store"]["unreachable_since"]
        browser.switch_to.window(night.page)
        wait_for(lambda: "Store unreachable since" in text(browser, "stale"), timeout=10)
        pg_cluster.run_server()
        deadline = time.monotonic() + 30
        while "store unreachable" in night.screen("park"):  # it comes back by itself
            assert time.monotonic() < deadline, night.screen("park")
            time.sleep(0.1)
        wait_for(lambda: night.status()["store"]["reachable"], timeout=15)
        browser.switch_to.window(night.page)
        wait_for(lambda: text(browser, "stale") == "", timeout=10)
        with Store(own_db, readonly=True) as store:
            after_restart = [(e.seq, e.event_id) for e in store.events(night.run_id)]
        assert after_restart[:len(before_kill)] == before_kill

        # -- park carries on; one space completes b and starts c --------------------------------
        mark = night.tui_mark()
        c_start = night.press("park", "Space", "Completed b",
                              [("step_completed", "b"), ("step_started", "c")])
        night.page_follows(2, ["Step c"])
        night.tui_since(mark, "2/4 steps")  # the watch screen came through the restart too

        # -- lee comes back: the same run, reattached -----------------------------------------
        night.operator("lee", "lee2")
        back = night.wait("lee", "REATTACHED", timeout=60)
        assert f"Reattached to the unfinished run {night.run_id}" in back
        night.sees("lee", a="done", b="done", c="running")
        wait_for(lambda: time.time() >= c_start.shown + 1.0, timeout=5)
        night.press("lee", "d", "Completed c", [("step_completed", "c")])
        night.page_follows(3, [])
        night.sees("lee", d="ready")
        d_start = night.press("lee", "Space", "Started d", [("step_started", "d")])
        night.page_follows(3, ["Step d"])
        night.sees("park", c="done", d="running")
        wait_for(lambda: time.time() >= d_start.shown + 1.0, timeout=5)
        mark = night.tui_mark()
        night.press("park", "d", "Completed d", [("step_completed", "d")])
        night.page_follows(4, [])
        night.tui_since(mark, "4/4 steps", "FINISHED")
        final = night.status()
        browser.switch_to.window(night.page)
        page_word = text(browser, "level-word")
    finally:
        served.stop()
    for who in ("lee", "park"):  # q: the screen closes and says the run is finished
        session = night.session[who]
        night.tmux.keys(session, "q")
        wait_for(lambda s=session: tmux("display-message", "-p", "-t", s, "#{pane_dead}")
                 .strip() == "1", timeout=20)
        said = tmux("capture-pane", "-p", "-J", "-S", "-100", "-t", session)
        assert f"Run {night.run_id} finished. Timing log: runbook report" in said, said

    # -- from the store: nothing lost, nothing twice, true durations -------------------------
    with Store(own_db, readonly=True) as store:
        events = store.events(night.run_id)
        assert [r.id for r in store.runs()] == [night.run_id]
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert [(e.seq, e.event_id) for e in events][:len(after_restart)] == after_restart
    assert len({e.event_id for e in events}) == len(events)
    steps = [(e.type, e.step, e.actor) for e in events
             if e.type in ("step_started", "step_completed")]
    assert steps == [(t, s, p.who) for p in night.presses for t, s in p.records]
    assert [e.type for e in events].count("run_finished") == 1
    assert events[0].type == "run_started" and events[0].actor == "lee"
    at = {(e.type, e.step): e.at.timestamp() for e in events}
    by = {(t, s): p for p in night.presses for t, s in p.records}
    for s in STEPS:  # stamped by the server: between the press and the screen showing it
        start, done = by[("step_started", s)], by[("step_completed", s)]
        took = at[("step_completed", s)] - at[("step_started", s)]
        assert done.pressed - start.shown - 0.05 <= took <= done.shown - start.pressed + 0.05, (
            s, took)
        assert took >= 0.9, (s, took)

    # -- the page's last word, and the report ------------------------------------------------
    summary = report(own_db, night.run_id)["summary"]
    assert summary["outage_report_required"] is False, summary
    assert final["run"]["finished_at"] is not None and not final["run"]["aborted"]
    assert final["progress"] == {**final["progress"], "done": 4, "total": 4, "running": []}
    assert final["level"] == "resumed" and final["tell_customers"]["service_back"] is True
    assert page_word == final["level_word"] == "RESUMED"
    assert final["seq"] == events[-1].seq
