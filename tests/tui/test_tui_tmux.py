"""End to end in a real terminal (tmux): operator keys, a live watcher, kill -9, resume.

Uses its own tmux server socket, so it never touches the user's sessions. Skipped without tmux,
except in CI.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runbook.store import Store
from tests.tui.conftest import small_runbook

# skipped, saying why, on a machine without tmux; in CI (.ci/run installs it) they must run
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None and not os.environ.get("CI"),
                                reason="tmux is not installed")
RUNBOOK = str(Path(sys.executable).parent / "runbook")


class Tmux:
    def __init__(self, socket: str, cwd: Path) -> None:
        self.socket, self.cwd = socket, cwd

    def __call__(self, *args: str) -> str:
        out = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True,
                             cwd=self.cwd, timeout=20)
        return out.stdout

    def start(self, name: str, command: str) -> None:
        env = "env -u NO_COLOR TERM=xterm-256color RUNBOOK_KEYMAP= "
        self("new-session", "-d", "-s", name, "-x", "100", "-y", "30", env + command)
        self("set-option", "-t", name, "remain-on-exit", "on")

    def screen(self, name: str) -> str:
        return self("capture-pane", "-p", "-t", name)

    def wait_for(self, name: str, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen(name)
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} did not appear in {name}:\n{screen}")
            time.sleep(0.1)

    def keys(self, name: str, *keys: str) -> None:
        self("send-keys", "-t", name, *keys)

    def pid(self, name: str) -> int:
        return int(self("display-message", "-p", "-t", name, "#{pane_pid}").strip())


@pytest.fixture
def tmux(tmp_path):
    t = Tmux(f"runbook-test-{os.getpid()}-{tmp_path.name}", tmp_path)
    (tmp_path / "night.yaml").write_text(small_runbook().text)
    yield t
    t("kill-server")


def events(path: Path) -> list[tuple[str, str | None]]:
    with Store(path, readonly=True) as s:
        return [(e.type, e.step) for e in s.events(s.resolve(None).id)
                if e.type not in ("alert", "operator_joined", "run_started")]


def test_operator_and_watcher_in_real_terminals_and_kill_9_loses_nothing(tmux, tmp_path):
    db = tmp_path / "runs.db"
    run = f"{RUNBOOK} run night.yaml --db {db} --operator kim"
    tmux.start("op", run + " --start now")  # the plan's window is in the past: rehearse it now
    tmux.wait_for("op", "New run started")  # loaded behind the first frame: keys count now
    tmux.keys("op", "Space")
    tmux.wait_for("op", "▶ RUNNING")
    assert events(db) == [("step_started", "prep")]

    tmux.start("watch", f"{RUNBOOK} watch --db {db}")
    tmux.wait_for("watch", "WATCHING — read-only")
    tmux.wait_for("watch", "▶ RUNNING")
    tmux.keys("watch", "d")  # refused in the watcher: nothing recorded
    tmux.wait_for("watch", "read-only")
    assert events(db) == [("step_started", "prep")]

    tmux.keys("op", "Space")  # complete prep, start cable
    tmux.wait_for("op", "Completed prep")
    started = time.monotonic()
    tmux.wait_for("watch", "✓ done", timeout=5)
    assert time.monotonic() - started < 3  # the watcher follows within its 1 s refresh

    os.kill(tmux.pid("op"), signal.SIGKILL)  # no goodbye
    assert events(db) == [("step_started", "prep"), ("step_completed", "prep"),
                          ("step_started", "cable")]
    tmux("kill-session", "-t", "op")
    tmux.start("op2", run)
    tmux.wait_for("op2", "REATTACHED")
    screen = tmux.wait_for("op2", "▶ RUNNING")  # the first refresh fills the table
    assert "cable" in screen
    tmux.keys("op2", "q")
    tmux.wait_for("op2", "resumes it")  # the goodbye line says how to resume


def test_the_screen_keeps_running_while_another_process_holds_the_store(tmux, tmp_path):
    import re
    db = tmp_path / "runs.db"
    tmux.start("op", f"{RUNBOOK} run night.yaml --db {db} --operator kim --start now")
    tmux.wait_for("op", "New run started")  # loaded behind the first frame: keys count now
    tmux.wait_for("op", "○ ready")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys, time\n"
         f"c = sqlite3.connect({str(db)!r}, isolation_level=None, timeout=5)\n"
         "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); time.sleep(5); c.rollback()"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        tmux.keys("op", "Space")
        first = tmux.wait_for("op", "saving… next step")
        second = tmux.wait_for("op", "the store is busy", timeout=4)  # counts the wait
        clock = re.compile(r"\d\d:\d\d:\d\d [A-Z]{3}")
        assert clock.search(first).group() != clock.search(second).group()  # still redrawing
        assert "▶ RUNNING" not in second  # nothing shown before it is committed
        assert events(db) == []
    finally:
        holder.wait(timeout=10)
    tmux.wait_for("op", "Started prep", timeout=10)
    tmux.wait_for("op", "▶ RUNNING")
    assert events(db) == [("step_started", "prep")]
    tmux.keys("op", "u")  # a mis-press undone, in a real terminal
    tmux.wait_for("op", "Undid start prep")
    tmux.keys("op", "a")
    tmux.wait_for("op", "Abort the run?")
    tmux.keys("op", "NO-GO: vendor not on the bridge", "Enter")
    screen = tmux.wait_for("op", "Run ABORTED")
    assert "NO-GO: vendor not on the bridge" in screen
    assert events(db) == [("step_started", "prep"), ("action_undone", "prep"),
                          ("run_aborted", None)]


@pytest.mark.parametrize("key,moved", [("n", False), ("ㅛ", True)])
def test_the_window_question_is_asked_on_the_screen_in_a_real_terminal(tmux, tmp_path, key,
                                                                       moved):
    """The plan's window is in the past (the examples' night): `runbook run` without --start asks
    in a dialog on its screen; n keeps the planned times, y (here as typed in Hangul mode, ㅛ)
    moves the window to now."""
    db = tmp_path / "runs.db"
    tmux.start("op", f"{RUNBOOK} run night.yaml --db {db} --operator kim")
    screen = tmux.wait_for("op", "Move the whole window to start now")
    assert "[y] move it to now  [n] keep the planned times  [q] quit" in screen
    assert "OPERATOR kim@" in screen and not db.exists()  # the screen first, nothing recorded
    tmux.keys("op", key)
    tmux.wait_for("op", "New run started")
    with Store(db, readonly=True) as s:
        assert (s.resolve(None).meta.get("window_start") is not None) is moved
    tmux.keys("op", "q")
    tmux.wait_for("op", "resumes it")
