"""The run engine: one code path for every action, and the refresh that raises alerts.

An action is validated against the latest state *inside* the store's write transaction (so two
operators cannot both complete the same step), appended, committed, and only then folded into the
in-memory state: the screen never shows what the store does not hold.

Event instants come from the injected clock, but never go backwards: an event is stamped no
earlier than the run's last event, so a wall clock stepping back cannot make a duration negative.
Within one process :class:`runbook.clock.SystemClock` is anchored to the monotonic clock, so a
clock step forward or back during the window does not distort durations either.
"""

from __future__ import annotations

import getpass
import socket
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from runbook.engine.clock import Clock
from runbook.engine.notify import Notifier
from runbook.engine.risk import LevelTracker, level_for, message
from runbook.engine.state import (
    ALERT,
    CONTINGENCY_TRIGGERED,
    HOOK_FAILED,
    NOTE,
    OPERATOR_JOINED,
    RUN_ABORTED,
    RUN_FINISHED,
    RUN_STARTED,
    STEP_COMPLETED,
    STEP_FAILED,
    STEP_SKIPPED,
    STEP_STARTED,
    check_action,
    fold,
)
from runbook.forecast.core import Forecast, Forecaster, Prior
from runbook.format.loader import Loaded
from runbook.format.model import Level
from runbook.format.shift import load_recorded, run_meta
from runbook.format.times import iso
from runbook.store import Event, RunInfo, Store

ACTIONS = (STEP_STARTED, STEP_COMPLETED, STEP_FAILED, STEP_SKIPPED, NOTE, CONTINGENCY_TRIGGERED,
           RUN_FINISHED, RUN_ABORTED)


class ActionRefused(Exception):
    """The action does not fit the run's state; nothing was recorded."""


@dataclass(frozen=True)
class Actor:
    name: str
    host: str

    @classmethod
    def current(cls, name: str | None = None) -> Actor:
        try:
            user = getpass.getuser()
        except Exception:
            user = "operator"
        return cls(name or user, socket.gethostname())


@dataclass(frozen=True)
class Tick:
    """One refresh: the forecast, the level shown, and the alert raised now (if any)."""

    now: datetime
    forecast: Forecast
    level: Level
    raw_level: Level
    alert: dict[str, Any] | None = None


class Session:
    """A run as seen by one process: its plan, state, forecast and level. Read-only."""

    def __init__(self, store: Store, info: RunInfo, clock: Clock, *, loaded: Loaded | None = None,
                 forecaster: Forecaster | None = None) -> None:
        self.store = store
        self.info = info
        self.clock = clock
        self.loaded = loaded or load_recorded(info)  # with the window the run started with
        self.plan = self.loaded.plan
        meta = info.meta or {}
        prior = Prior.from_dict(meta.get("prior"))
        self.forecaster = forecaster or Forecaster(
            self.plan, samples=int(meta.get("samples", 10_000)), seed=int(meta.get("seed", 0)),
            prior=prior)
        self.state = fold(self.plan, store.events(info.id))
        self.tracker = LevelTracker(self.state.level or Level.on_track)
        self._version = store.data_version()
        # What the screen must warn about (None = nothing known to be wrong):
        self.clock_skew_s: float | None = None  # the store's clock minus this host's, seconds
        self.store_down_since: datetime | None = None  # the store has been unreachable since

    @property
    def run_id(self) -> str:
        return self.info.id

    def sync(self, force: bool = False) -> list[Event]:
        """Fold events that other processes appended; cheap when nothing changed."""
        version = self.store.data_version()
        if not force and version == self._version:
            return []
        self._version = version
        new = self.store.events(self.run_id, after_seq=self.state.last_seq)
        if new:
            self._fold(new)
        return new

    def _fold(self, events: list[Event]) -> None:
        before = len(self.state.alerts)
        fold(self.plan, events, self.state)
        if len(self.state.alerts) > before:  # someone recorded a level: follow it
            self.tracker = LevelTracker(self.state.alerts[-1].level)

    def now(self) -> datetime:
        return self.clock.now()

    def tick(self, now: datetime | None = None) -> Tick:
        now = now or self.now()
        fc = self.forecaster.forecast(self.state, now)
        raw = level_for(self.plan, self.state, fc, now)
        changed = None if self.state.finished else self.tracker.update(raw, now)
        alert = None
        if changed is not None:
            alert = self.alert_payload(changed, fc, now)
            self._on_alert(alert, now)
        return Tick(now, fc, self.tracker.current, raw, alert)

    def alert_payload(self, level: Level, fc: Forecast, now: datetime) -> dict[str, Any]:
        tz = self.plan.timezone
        return {
            "level": str(level),
            "message": message(level, self.plan, self.state, fc, now),
            "at": iso(now, tz),
            "p_on_time": round(fc.p_on_time, 4),
            "p50": iso(fc.p50, tz),
            "p90": iso(fc.p90, tz),
            "decision_deadline": iso(fc.decision_deadline, tz),
            "contingency": fc.contingency,
            "announced_resume": iso(self.plan.announced, tz),
            "run": self.run_id,
            "runbook": self.plan.id,
        }

    def _on_alert(self, alert: dict[str, Any], now: datetime) -> None:
        """Watchers only show an alert; the operator's engine records it."""


class Engine(Session):
    """The operator's session: records actions and alerts."""

    def __init__(self, store: Store, info: RunInfo, clock: Clock, actor: Actor, *,
                 loaded: Loaded | None = None, forecaster: Forecaster | None = None,
                 notifier: Notifier | None = None, auto_finish: bool = True) -> None:
        super().__init__(store, info, clock, loaded=loaded, forecaster=forecaster)
        self.actor = actor
        self.notifier = notifier or Notifier(None)
        self.auto_finish = auto_finish

    def _stamp(self) -> datetime:
        now = self.clock.now()
        last = self.state.last_at
        return last if last is not None and now < last else now

    def record(self, kind: str, step: str | None = None, payload: dict[str, Any] | None = None,
               *, validate: bool = True) -> Event:
        """Validate against the latest state, append, commit; then update the state."""
        payload = dict(payload or {})
        with self.store.writing(self.run_id) as w:
            fresh = w.events_after(self.state.last_seq)
            if fresh:
                self._fold(fresh)
            if validate:
                reason = check_action(self.state, kind, step, payload.get("contingency"))
                if reason:
                    raise ActionRefused(reason)
            event = w.append(at=self._stamp(), actor=self.actor.name, host=self.actor.host, type=kind,
                             step=step, payload=payload)
        self._fold([event])
        self._version = self.store.data_version()
        return event

    # -- actions (the one code path for TUI, simulate and tests) ---------------------------------

    def act(self, kind: str, step: str | None = None, **payload: Any) -> Event:
        if kind not in ACTIONS:
            raise ActionRefused(f"unknown action {kind!r}")
        payload = {k: v for k, v in payload.items() if v is not None}
        event = self.record(kind, step, payload)
        if (self.auto_finish and kind in (STEP_COMPLETED, STEP_SKIPPED)
                and self.state.all_done() and not self.state.finished):
            self.record(RUN_FINISHED, None, {"auto": True})
        return event

    def start(self, step: str) -> Event:
        return self.act(STEP_STARTED, step)

    def complete(self, step: str, note: str | None = None) -> Event:
        return self.act(STEP_COMPLETED, step, note=note)

    def fail(self, step: str, note: str | None = None) -> Event:
        return self.act(STEP_FAILED, step, note=note)

    def skip(self, step: str, reason: str | None = None) -> Event:
        return self.act(STEP_SKIPPED, step, reason=reason)

    def note(self, text: str, step: str | None = None) -> Event:
        if not text.strip():
            raise ActionRefused("a note needs some text")
        return self.act(NOTE, step, text=text)

    def trigger(self, contingency: str, note: str | None = None) -> Event:
        return self.act(CONTINGENCY_TRIGGERED, None, contingency=contingency, note=note)

    def finish(self) -> Event:
        return self.act(RUN_FINISHED)

    def abort(self, reason: str | None = None) -> Event:
        return self.act(RUN_ABORTED, None, reason=reason)

    # -- refresh ------------------------------------------------------------------------------------

    def tick(self, now: datetime | None = None) -> Tick:
        self.sync()
        result = super().tick(now)
        self._record_hook_failures()
        return result

    def _on_alert(self, alert: dict[str, Any], now: datetime) -> None:
        if self.state.level == alert["level"]:
            return  # another operator's process recorded this change already
        self.record(ALERT, None, alert, validate=False)
        self.notifier.send(alert)

    def _record_hook_failures(self) -> None:
        for f in self.notifier.failures():
            self.record(HOOK_FAILED, None, {"hook": f.hook, "error": f.error, "level": f.level},
                        validate=False)

    def close(self, wait_hooks: bool = True) -> None:
        if wait_hooks and self.notifier.enabled:
            self.notifier.wait()
            self._record_hook_failures()


def new_run(store: Store, loaded: Loaded, clock: Clock, actor: Actor, *, label: str = "live",
            samples: int = 10_000, seed: int = 0, prior: Prior | None = None,
            notifier: Notifier | None = None) -> Engine:
    """Start a new run of ``loaded`` in ``store``."""
    meta: dict[str, Any] = {"samples": samples, "seed": seed, "timezone": loaded.plan.timezone,
                            **run_meta(loaded)}  # a window moved by --start
    if prior is not None:
        meta["prior"] = prior.as_dict()
    now = clock.now()
    info = store.create_run(runbook_id=loaded.plan.id, title=loaded.plan.title, label=label,
                            source_text=loaded.text, source_name=loaded.name,
                            created_at=now, meta=meta)
    store.append(info.id, at=now, actor=actor.name, host=actor.host, type=RUN_STARTED,
                 payload={"operator": actor.name, "label": label})
    return Engine(store, info, clock, actor, loaded=loaded, notifier=notifier)


def unfinished_run(store: Store, runbook_id: str) -> RunInfo | None:
    """The newest run of ``runbook_id`` that has not finished, if any."""
    for info in store.runs_of(runbook_id):
        types = {e.type for e in store.events(info.id)}
        if RUN_FINISHED not in types and RUN_ABORTED not in types:
            return info
    return None


def open_run(store: Store, loaded: Loaded, clock: Clock, actor: Actor, *, label: str = "live",
             samples: int = 10_000, seed: int = 0, prior: Prior | None = None,
             notifier: Notifier | None = None) -> tuple[Engine, bool]:
    """Resume this runbook's unfinished run, or start a new one. Returns (engine, resumed)."""
    info = unfinished_run(store, loaded.plan.id)
    if info is None:
        return new_run(store, loaded, clock, actor, label=label, samples=samples, seed=seed,
                       prior=prior, notifier=notifier), False
    engine = Engine(store, info, clock, actor, notifier=notifier)
    engine.record(OPERATOR_JOINED, None, {"operator": actor.name, "resumed": True}, validate=False)
    return engine, True
