"""Fixtures for `runbook serve`: a runbook whose window is now, an operator in another process,
the real server in another process, and a real headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from tests.conftest import ROOT
from tests.store.conftest import pg_admin, pg_cluster, pg_url  # noqa: F401  (fixtures)

pytest.importorskip("aiohttp", reason="runbook serve needs the serve extra (pip install -e '.[test]')")
pytest.importorskip("textual_serve", reason="runbook serve needs the serve extra")

HERE = Path(__file__).resolve().parent
SECRET_COMMAND = "ansible-playbook secret-cmd-7f3a.yml"
SECRET_NOTE = "secret-note-91c2"
TOKEN = "test-token-0123456789abcdef"


def live_runbook(path: Path, *, title: str = "Swap the SAN port <fabric A>",
                 announced_after_m: int = 40) -> Path:
    """A runbook whose window starts this minute (Asia/Seoul), written to ``path``."""
    start = datetime.now(ZoneInfo("Asia/Seoul")).replace(second=0, microsecond=0)

    def local(t: datetime) -> str:
        return t.strftime("%Y-%m-%dT%H:%M")

    data = {
        "runbook": 1, "id": "san-swap", "title": title, "timezone": "Asia/Seoul",
        "window": {"start": local(start),
                   "announced_resume": local(start + timedelta(minutes=announced_after_m))},
        "steps": [
            {"id": "prep", "title": "Prepare the change", "owner": "ops",
             "estimate": {"optimistic": "2m", "likely": "3m", "pessimistic": "6m"},
             "command": SECRET_COMMAND, "check": "secret-check-55aa", "notes": SECRET_NOTE},
            {"id": "swap", "title": "Swap the SFP and cable",
             "estimate": {"optimistic": "5m", "likely": "8m", "pessimistic": "15m"}},
            {"id": "start-db", "title": "Start the database",
             "estimate": {"optimistic": "3m", "likely": "5m", "pessimistic": "9m"},
             "resumes_service": True},
            {"id": "verify", "title": "Verify the batch", "estimate": "5m"},
        ],
        "contingencies": [{"id": "rollback", "title": "Roll back to the old port", "steps": [
            {"id": "rb-restore", "title": "Restore the old port",
             "estimate": {"optimistic": "4m", "likely": "6m", "pessimistic": "10m"}},
            {"id": "rb-start", "title": "Start on the old port", "estimate": "5m",
             "resumes_service": True}]}],
    }
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RUNBOOK_DB", "RUNBOOK_SERVE_TOKEN")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


class Operator:
    """tests/web/writer.py: the real Engine recording actions, in its own process."""

    def __init__(self, db: Path | str, runbook: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "writer.py"), str(db), str(runbook)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=_env())
        line = self.proc.stdout.readline()  # type: ignore[union-attr]
        assert line.startswith("run "), line
        self.run_id = line.split()[1]

    def do(self, command: str) -> tuple[int, float]:
        """Record one action; (its seq, the wall-clock time just after its commit)."""
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline().split()
        assert reply and reply[0] == "ok", reply
        return int(reply[1]), float(reply[2])

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Served:
    """`runbook serve` in its own process on a free port; ``url`` ends in '/'."""

    def __init__(self, db: Path | str, *args: str, token: str | None = None) -> None:
        env = _env(**({"RUNBOOK_SERVE_TOKEN": token} if token else {}))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "runbook", "serve", "--db", str(db), "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
            start_new_session=True)
        self.out: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()  # type: ignore[union-attr]
            if not line:
                raise AssertionError(f"serve exited: {self.proc.stderr.read()}")  # type: ignore[union-attr]
            self.out.append(line)
            if m := re.search(r"status page\s+(http://\S+?/)(\?|\s|$)", line):
                self.url = m.group(1)
                return
        raise AssertionError("serve did not print its address: " + "".join(self.out))

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return self.proc.returncode


@pytest.fixture
def operator(tmp_path):
    """An operator process with a fresh run in tmp_path/runs.db."""
    op = Operator(tmp_path / "runs.db", live_runbook(tmp_path / "san-swap.yaml"))
    yield op
    op.close()


@pytest.fixture
def served(tmp_path, operator):
    """`runbook serve` on loopback (no token) following the operator's run."""
    s = Served(tmp_path / "runs.db")
    yield s
    s.stop()


@pytest.fixture
def served_with_token(tmp_path, operator):
    s = Served(tmp_path / "runs.db", token=TOKEN)
    yield s
    s.stop()


# -- a real headless browser ---------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture
def browser(tmp_path):
    """Debian's Chromium, headless, driven by chromedriver through selenium. Without them the
    test skips, except in CI (CI=true), where it fails: .ci/run installs them."""
    if not (CHROMIUM and CHROMEDRIVER):
        reason = ("no chromium/chromedriver on this machine: apt-get install -y chromium "
                  "chromium-driver")
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'chromium'}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
