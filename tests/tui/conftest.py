"""Fixtures for the TUI: a small runbook, a store in tmp_path, a manual clock, the real app.

The apps are built with ``interval=None`` (no 1 Hz timer): tests move the ManualClock and call
``app.refresh_now()``, the same refresh the worker runs.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import pytest

from runbook.engine.clock import ManualClock
from runbook.engine.run import Actor, Engine, Session, open_run
from runbook.format.loader import Loaded
from runbook.store import Store
from runbook.tui.app import RunbookApp
from runbook.tui.launch import operator_app, watch_app
from tests.conftest import START, make_runbook, three

OPS = Actor("kim", "ops-host")
SAMPLES = 2_000


def small_runbook(contingencies: int = 1) -> Loaded:
    """prep -> (cable || notify) -> start-db (resumes service) -> verify; a rollback (or two)."""
    conts = [{"id": "rollback", "title": "Roll back to the old port", "steps": [
        {"id": "rb-restore", "after": [], "estimate": three(4, 6, 10), "command": "restore.sh"},
        {"id": "rb-start", "estimate": three(3, 5, 9), "resumes_service": True}]}]
    if contingencies > 1:
        conts.append({"id": "failover", "title": "Fail over to the DR site", "steps": [
            {"id": "fo-switch", "after": [], "estimate": three(5, 8, 12), "resumes_service": True}]})
    return make_runbook(
        [
            {"id": "prep", "title": "Prepare", "estimate": three(2, 3, 6), "owner": "ops",
             "command": "ansible-playbook prep.yml", "check": "all green"},
            {"id": "cable", "title": "Swap the cable", "estimate": three(5, 8, 15), "owner": "net"},
            {"id": "notify", "title": "Tell the desk", "after": ["prep"], "estimate": "2m",
             "kind": "comms"},
            {"id": "start-db", "title": "Start the DB", "after": ["cable", "notify"],
             "estimate": three(3, 5, 9), "resumes_service": True},
            {"id": "verify", "title": "Verify", "estimate": "5m"},
        ],
        announced="2026-11-25T00:40",
        contingencies=conts,
    )


@dataclass
class Rig:
    """One store, one clock, and ways to open apps on them."""

    path: Path
    clock: ManualClock
    loaded: Loaded
    stores: list[Store]

    def store(self, readonly: bool = False) -> Store:
        s = Store(self.path, readonly=readonly)
        self.stores.append(s)
        return s

    def engine(self, actor: Actor = OPS) -> tuple[Engine, bool]:
        return open_run(self.store(), self.loaded, self.clock, actor, samples=SAMPLES)

    def operator(self, **kwargs) -> RunbookApp:
        engine, resumed = self.engine()
        return quiet(operator_app(engine, resumed, interval=None, **kwargs))

    def watcher(self) -> RunbookApp:
        ro = self.store(readonly=True)
        return quiet(watch_app(Session(ro, ro.resolve(None), self.clock), interval=None))

    def events(self) -> list[tuple[str, str | None]]:
        with Store(self.path, readonly=True) as s:
            run = s.resolve(None)
            return [(e.type, e.step) for e in s.events(run.id)]

    def raw_events(self):
        with Store(self.path, readonly=True) as s:
            return s.events(s.resolve(None).id)


@pytest.fixture
def rig(tmp_path, monkeypatch) -> Rig:
    monkeypatch.setattr("runbook.store.sqlite.secrets.token_hex", lambda n: "abcd")  # stable run ids
    monkeypatch.delenv("RUNBOOK_KEYMAP", raising=False)
    r = Rig(tmp_path / "runs.db", ManualClock(START), small_runbook(), [])
    yield r
    for s in r.stores:
        s.close()


def quiet(app: RunbookApp) -> RunbookApp:
    """No animations (Pilot waits for them after every key), and presses a second apart: a
    test's keys arrive within microseconds, which the app would take as a bounced key."""
    app.animation_level = "none"
    app.monotonic = itertools.count(1000.0, 1.0).__next__
    return app


async def settle(pilot) -> None:
    """Wait until the app's saves (thread workers) are done and their results are on screen."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def press(pilot, *keys: str) -> None:
    """Press keys one after another as a person does: each action recorded before the next."""
    for key in keys:
        await pilot.press(key)
        await settle(pilot)


def actions(events: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    """Events without the bookkeeping ones (run start, joins, alerts)."""
    return [e for e in events if e[0] not in ("run_started", "operator_joined", "alert")]


def notices(app: RunbookApp) -> str:
    """Every message the app said (message line, oldest first), as one text."""
    return "\n".join(app.said)


def table_text(app: RunbookApp) -> str:
    """The steps table as the operator sees it, one line per row."""
    table = app.main.table
    lines = []
    for row in range(table.row_count):
        lines.append(" ".join(str(c) for c in table.get_row_at(row)))
    return "\n".join(lines)
