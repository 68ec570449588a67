"""Shared fixtures: build runbooks from Python data, drive a manual clock."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from runbook.engine.clock import ManualClock
from runbook.format.loader import Loaded, load_text

# The tests read English unless they ask for Korean: a machine with LANG=ko_KR.UTF-8 (or a
# Korean LANGUAGE) must not change what `runbook` prints in-process or in a subprocess.
os.environ["LANGUAGE"] = "en"

ROOT = Path(__file__).resolve().parent.parent
RUNBOOKS = ROOT / "runbooks"
START = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # 2026-11-25 00:00 in Asia/Seoul


def make_runbook(steps: list[dict], *, announced: str = "2026-11-25T00:30",
                 contingencies: list[dict] | None = None, policy: dict | None = None,
                 hard_deadline: str | None = None, **extra) -> Loaded:
    """A runbook starting 2026-11-25T00:00 Asia/Seoul from step dicts (estimate defaults 5m)."""
    data: dict = {
        "runbook": 1,
        "id": extra.pop("id", "test"),
        "title": "Test runbook",
        "timezone": "Asia/Seoul",
        "window": {"start": "2026-11-25T00:00", "announced_resume": announced},
        "steps": [{"title": s["id"].upper(), "estimate": "5m", **s} for s in steps],
    }
    if hard_deadline:
        data["window"]["hard_deadline"] = hard_deadline
    if policy:
        data["policy"] = policy
    if contingencies:
        data["contingencies"] = [
            {**c, "steps": [{"title": s["id"].upper(), "estimate": "5m", **s} for s in c["steps"]]}
            for c in contingencies
        ]
    data.update(extra)
    return load_text(yaml.safe_dump(data, sort_keys=False), "test.yaml")


def three(a: float, m: float, b: float) -> dict:
    """A three-point estimate in minutes."""
    return {"optimistic": f"{a}m", "likely": f"{m}m", "pessimistic": f"{b}m"}


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


@pytest.fixture(autouse=True)
def english():
    """Every test starts in English, whatever the one before it chose."""
    from runbook import i18n

    i18n.set_language("en")
    yield
    i18n.set_language("en")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture(autouse=True)
def command_clock(monkeypatch: pytest.MonkeyPatch) -> ManualClock:
    """The clock the commands read (`runbook.startup.system_clock`), pinned to the examples' window
    start so that no test depends on the date it runs on; a test moves it to try other days."""
    import runbook.startup

    pinned = ManualClock(START)
    monkeypatch.setattr(runbook.startup, "system_clock", lambda: pinned)
    return pinned
