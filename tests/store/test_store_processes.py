"""The store with real processes, on both backends: operators starting together, clocks faked
20 minutes off (libfaketime), kill -9, a PostgreSQL server restarted mid-run, two writers and
five followers. Marked slow; CI runs them (and fails, not skips, without faketime or PostgreSQL).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from runbook.store import Store

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
HELPER = str(ROOT / "tests" / "helpers" / "store_proc.py")
_children: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def no_orphans() -> Iterator[None]:
    yield
    while _children:
        proc = _children.pop()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream:
                stream.close()


def faketime(offset: str | None) -> list[str]:
    """The command prefix that runs a process with its clock ``offset`` off (e.g. "+20m")."""
    if offset is None:
        return []
    if shutil.which("faketime") is None:
        if os.environ.get("CI") or os.environ.get("RUNBOOK_REQUIRE_PG"):
            pytest.fail("faketime is required in CI (apt-get install faketime)")
        pytest.skip("faketime is not installed (apt-get install faketime)")
    return ["faketime", "-f", offset]


def spawn(*args: str, clock: str | None = None, **kw) -> subprocess.Popen:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([*faketime(clock), sys.executable, HELPER, *args], env=env,
                            text=True, cwd=ROOT, **kw)
    _children.append(proc)
    return proc


class Operator:
    """A `runbook run`-equivalent process: open_run on the system clock, then actions on stdin."""

    def __init__(self, db: str, runbook: Path, name: str, clock: str | None = None) -> None:
        self.proc = spawn("operate", db, str(runbook), name, clock=clock, stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE)
        self.opened = self._answer()

    def _answer(self) -> dict:
        line = self.proc.stdout.readline()
        assert line, f"operator exited ({self.proc.wait()})"
        return json.loads(line)

    def __call__(self, command: str) -> dict:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self._answer()

    def quit(self) -> None:
        self.proc.stdin.close()
        assert self.proc.wait(60) == 0
        self.proc.stdout.close()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()


def live_runbook(tmp_path: Path, *, ahead_min: int = 8) -> Path:
    """A runbook whose window started two minutes ago; resume announced ``ahead_min`` from now."""
    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    path = tmp_path / "live.yaml"
    path.write_text(
        "runbook: 1\nid: live-drill\ntitle: Live drill\ntimezone: UTC\nwindow:\n"
        f"  start: {(now - timedelta(minutes=2)).isoformat()}\n"
        f"  announced_resume: {(now + timedelta(minutes=ahead_min)).isoformat()}\n"
        "steps:\n" + "".join(f"  - {{id: {s}, title: Step {s}, estimate: 2m}}\n"
                             for s in ("a", "b", "c")))
    return path


def report(db: str, run_id: str) -> dict:
    res = subprocess.run([sys.executable, "-m", "runbook", "report", run_id, "--db", db,
                          "--format", "json"], capture_output=True, text=True, cwd=ROOT,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def durations(db: str, run_id: str) -> dict[str, float]:
    with Store(db, readonly=True) as s:
        events = s.events(run_id)
    started = {e.step: e.at for e in events if e.type == "step_started"}
    return {e.step: (e.at - started[e.step]).total_seconds()
            for e in events if e.type == "step_completed"}


# -- issue 8 item 5: open the unfinished run or create one, atomically ----------------------------

def test_operators_starting_together_on_an_empty_store_share_one_run(backend: str,
                                                                    tmp_path: Path) -> None:
    book = live_runbook(tmp_path)
    procs = [spawn("open", backend, str(book), f"op{k}", stdin=subprocess.PIPE,
                   stdout=subprocess.PIPE) for k in range(5)]
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    for p in procs:  # released together
        p.stdin.write("go\n")
        p.stdin.flush()
    opened = [json.loads(p.stdout.readline()) for p in procs]
    for p in procs:
        p.stdin.close()
        assert p.wait(60) == 0
    assert len({o["run"] for o in opened}) == 1, opened
    assert sorted(o["resumed"] for o in opened) == [False] + [True] * 4
    with Store(backend, readonly=True) as s:
        [run] = s.runs()
        types = [e.type for e in s.events(run.id)]
    assert types[0] == "run_started" and types.count("run_started") == 1
    assert sorted(types[1:]) == ["operator_joined"] * 4


# -- issue 8 item 6 / issue 12: operators whose clocks are 20 minutes off -------------------------

def test_operators_with_clocks_20_minutes_off_record_true_durations(backend: str,
                                                                   tmp_path: Path) -> None:
    book = live_runbook(tmp_path)
    honest = Operator(backend, book, "kim")
    fast = Operator(backend, book, "lee", clock="+20m")
    slow = Operator(backend, book, "park", clock="-20m")
    run_id = honest.opened["run"]
    assert fast.opened["run"] == slow.opened["run"] == run_id
    assert abs(honest.opened["skew"]) < 2.0
    assert fast.opened["skew"] == pytest.approx(-1200, abs=5)  # the screen warns: store - host
    assert slow.opened["skew"] == pytest.approx(1200, abs=5)
    assert "error" not in honest("start a")
    time.sleep(1.0)  # the step's real duration, the quantity under test
    assert "error" not in fast("complete a")
    assert "error" not in fast("start b")
    time.sleep(1.0)
    assert "error" not in slow("complete b")  # a slow clock must not record a 0 s step
    assert "error" not in slow("start c")
    time.sleep(1.0)
    assert "error" not in honest("complete c")
    for op in (honest, fast, slow):
        op.quit()
    took = durations(backend, run_id)
    for step in ("a", "b", "c"):
        assert 0.9 <= took[step] < 30, took
    summary = report(backend, run_id)["summary"]
    assert summary["outage_report_required"] is False, summary  # an on-time run is on time
    assert summary["overrun_s"] is None or summary["overrun_s"] <= 0, summary
