"""The run engine: one code path for every action, and the refresh that raises alerts.

An action is validated against the latest state *inside* the store's write transaction (so two
operators cannot both complete the same step), appended, committed, and only then folded into the
in-memory state: the screen never shows what the store does not hold.

Event instants never go backwards: an event is stamped no earlier than the run's last event. On
the simulated clocks (simulate, demo, tests) they come from the injected clock. On the real clock
they come from the store's clock (PostgreSQL: the server's; SQLite: this host's kernel clock, which
a faked or skewed process clock does not change), read inside the write transaction, so durations
do not depend on which operator's host stamped them. The session measures its clock's offset from
the store's (``clock_skew_s``) and shows time on the store's clock too.

The event that ends a run, and every event recorded after it, carries the run's summary (what
`runbook runs` and the forecast prior need of it), derived in the same write transaction from the
state with that event folded in: see runbook/engine/summary.py.

The store being unreachable (a database restart, a network drop) refuses actions with
StoreUnavailable and sets ``store_down_since``; alerts and hook failures noticed meanwhile are
recorded when it returns. Every action carries a unique event id, and an action whose commit
outcome is unknown is retried with the same id, so it is never recorded twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from runbook.engine import notices
from runbook.engine.actor import Actor
from runbook.engine.clock import Clock
from runbook.engine.notify import Notifier
from runbook.engine.risk import LevelTracker, messages
from runbook.engine.rules import check_action
from runbook.engine.state import (
    ALERT,
    CONTINGENCY_TRIGGERED,
    HOOK_FAILED,
    NOTE,
    NOTICE,
    OPERATOR_JOINED,
    RUN_ABORTED,
    RUN_FINISHED,
    RUN_STARTED,
    STEP_COMPLETED,
    STEP_FAILED,
    STEP_SKIPPED,
    STEP_STARTED,
    UNDONE,
    fold,
)
from runbook.engine.summary import settle, with_event
from runbook.engine.undo import describe, undo_target
from runbook.forecast.core import Forecast, Forecaster, Prior
from runbook.format.loader import Loaded
from runbook.format.model import Level
from runbook.format.shift import load_recorded, run_meta
from runbook.format.times import iso
from runbook.i18n import DEFAULT, _, current, using
from runbook.store import ENDINGS, Event, First, RunInfo, Store, StoreUnavailable, clock_offset

SKEW_EVERY_S = 30.0  # how often a session re-measures its clock against the store's
FINISHED = ENDINGS  # (RUN_FINISHED, RUN_ABORTED): the store counts a run as ended on these
ACTIONS = (STEP_STARTED, STEP_COMPLETED, STEP_FAILED, STEP_SKIPPED, NOTE, CONTINGENCY_TRIGGERED,
           RUN_FINISHED, RUN_ABORTED, UNDONE)


class ActionRefused(Exception):
    """The action does not fit the run's state; nothing was recorded."""


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
        # What the screen must warn about (None = nothing known to be wrong):
        self.clock_skew_s: float | None = None  # the store's clock minus this host's, seconds
        self.store_down_since: datetime | None = None  # the store has been unreachable since
        self._real = bool(getattr(clock, "real", False))  # simulated clocks have no skew
        self._skew_at: datetime | None = None
        self.notice_lang = notices.language()  # customer notices: the run's language
        self.state = fold(self.plan, store.events(info.id))
        self.tracker = LevelTracker(self.state.level or Level.on_track)
        self._version = store.data_version()
        self.measure_skew()

    @property
    def run_id(self) -> str:
        return self.info.id

    def sync(self, force: bool = False) -> list[Event]:
        """Fold events that other processes appended; cheap when nothing changed.

        An unreachable store is not an error here: ``store_down_since`` says since when, and the
        next sync catches up by seq once it is back."""
        try:
            version = self.store.data_version()
            if force or version != self._version:
                new = self.store.events(self.run_id, after_seq=self.state.last_seq)
                self._version = version
            else:
                new = []
        except StoreUnavailable:
            self._went_down()
            return []
        self.store_down_since = None
        if new:
            self._fold(new)
        if self._real and (self._skew_at is None or abs(
                (self.clock.now() - self._skew_at).total_seconds()) >= SKEW_EVERY_S):
            self.measure_skew()
        return new

    def measure_skew(self) -> float | None:
        """Measure the store's clock minus this process's (real clocks only): ``clock_skew_s``."""
        if not self._real:
            return None
        try:
            offset, _rtt = clock_offset(self.store, self.clock.now)
        except StoreUnavailable:
            self._went_down()
            return self.clock_skew_s
        self._skew_at = self.clock.now()
        self.clock_skew_s = round(offset, 3)
        return self.clock_skew_s

    def _went_down(self) -> None:
        if self.store_down_since is None:
            self.store_down_since = self.now()

    def _fold(self, events: list[Event]) -> None:
        before = len(self.state.alerts)
        fold(self.plan, events, self.state)
        if len(self.state.alerts) > before:  # someone recorded a level: follow it
            self.tracker.follow(self.state.alerts[-1].level)

    def now(self) -> datetime:
        """The current instant on the store's clock (this clock corrected by the measured skew)."""
        now = self.clock.now()
        return now + timedelta(seconds=self.clock_skew_s) if self.clock_skew_s else now

    def tick(self, now: datetime | None = None) -> Tick:
        now = now or self.now()
        fc = self.forecaster.forecast(self.state, now)
        raw, changed = self.tracker.observe(self.plan, self.state, fc, now)
        if self.state.finished:
            changed = None
        alert = None
        if changed is not None:
            alert = self.alert_payload(changed, fc, now)
            self._on_alert(alert, now)
        return Tick(now, fc, self.tracker.current, raw, alert)

    def alert_payload(self, level: Level, fc: Forecast, now: datetime) -> dict[str, Any]:
        tz = self.plan.timezone
        texts = messages(level, self.plan, self.state, fc, now)
        return {
            "level": str(level),
            "message": texts[current()],  # in the operator's language (hooks, old readers)
            "messages": texts,  # the same numbers in every language: reports in any language
            "at": iso(now, tz),
            "p_on_time": round(fc.p_on_time, 4),
            "p50": iso(fc.p50, tz),
            "p90": iso(fc.p90, tz),
            "decision_deadline": iso(fc.decision_deadline, tz),
            "contingency": fc.contingency,
            "announced_resume": iso(self.plan.announced, tz),
            "run": self.run_id,
            "runbook": self.plan.id,
            "notice": self.notice_for(level, fc),
        }

    def notice_for(self, level: Level | str, fc: Forecast | None) -> dict[str, str] | None:
        """The customer notice for ``level`` now (runbook ``comms:``), or None."""
        found = notices.notice(self.plan, str(level), self.state, fc, self.notice_lang)
        return None if found is None else found.as_dict()

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
        self._uncertain: tuple[tuple, str] | None = None  # (action, event id) of a lost commit
        self._later: list[tuple[str, dict[str, Any], Callable[[], bool] | None, str]] = []

    def _stamp(self, writer: Any) -> datetime:
        """The store's clock for a real clock, else the injected one; never before the last event."""
        now = writer.now() if self._real else self.clock.now()
        last = self.state.last_at
        return last if last is not None and now < last else now

    def record(self, kind: str, step: str | None = None, payload: dict[str, Any] | None = None,
               *, validate: bool = True, only_if: Callable[[], bool] | None = None,
               event_id: str | None = None) -> Event | None:
        """Validate against the latest state, append, commit; then update the state.

        ``only_if`` is asked inside the write transaction, after what other processes wrote is
        folded in: False records nothing and returns None (one alert per level change, whichever
        engine ticks first). An unreachable store raises StoreUnavailable; the same action asked
        again reuses its event id, so a commit that did land is not recorded twice."""
        payload = dict(payload or {})
        key = (kind, step, repr(sorted(payload.items())))
        if event_id is None:
            uncertain = self._uncertain
            event_id = uncertain[1] if uncertain and uncertain[0] == key else uuid.uuid4().hex
        event = None
        try:
            with self.store.writing(self.run_id) as w:
                fresh = w.events_after(self.state.last_seq)
                if fresh:
                    self._fold(fresh)
                self._uncertain, self.store_down_since = None, None
                if mine := next((e for e in fresh if e.event_id == event_id), None):
                    return mine  # an earlier attempt did commit
                if only_if is not None and not only_if():
                    return None
                if validate:
                    reason = check_action(self.state, kind, step, payload.get("contingency"))
                    if reason:
                        raise ActionRefused(reason)
                event = w.append(at=self._stamp(w), actor=self.actor.name, host=self.actor.host,
                                 type=kind, step=step, payload=payload, event_id=event_id)
                if kind in FINISHED or self.state.finished:  # the run's summary, with its end
                    settle(w, self.plan, with_event(self.state, event))
        except StoreUnavailable:
            self._uncertain = (key, event_id) if event is not None else None
            self._went_down()
            raise
        self._fold([event])
        self._version = self.store.data_version()
        if kind == STEP_COMPLETED:
            self.store.checkpoint()  # the main file keeps up even if the WAL file is lost
        return event

    # -- actions (the one code path for TUI, simulate and tests) ---------------------------------

    def act(self, kind: str, step: str | None = None, **payload: Any) -> Event:
        """Record one action. ``chain=SEQ`` marks it as part of the key press that recorded
        event SEQ (space completes one step and starts the next): one undo reverts both."""
        if kind not in ACTIONS:
            raise ActionRefused(f"unknown action {kind!r}")
        if kind == UNDONE:
            return self.undo()
        payload = {k: v for k, v in payload.items() if v is not None}
        try:
            event = self.record(kind, step, payload)
        except ActionRefused:
            # the state now holds what another operator did meanwhile: say who, and when
            why = check_action(self.state, kind, step, payload.get("contingency"),
                               now=self.clock.now(), actor=self.actor.name)
            if why:
                raise ActionRefused(why) from None
            raise
        if (self.auto_finish and kind in (STEP_COMPLETED, STEP_SKIPPED)
                and self.state.all_done() and not self.state.finished):
            self.record(RUN_FINISHED, None,
                        {"auto": True, "chain": int(payload.get("chain") or event.seq)})
        return event

    def start(self, step: str, chain: int | None = None) -> Event:
        return self.act(STEP_STARTED, step, chain=chain)

    def complete(self, step: str, note: str | None = None) -> Event:
        return self.act(STEP_COMPLETED, step, note=note)

    def fail(self, step: str, note: str | None = None) -> Event:
        return self.act(STEP_FAILED, step, note=note)

    def skip(self, step: str, reason: str | None = None) -> Event:
        return self.act(STEP_SKIPPED, step, reason=reason)

    def note(self, text: str, step: str | None = None) -> Event:
        if not text.strip():
            raise ActionRefused(_("a note needs some text"))
        return self.act(NOTE, step, text=text)

    def trigger(self, contingency: str, note: str | None = None) -> Event:
        return self.act(CONTINGENCY_TRIGGERED, None, contingency=contingency, note=note)

    def finish(self) -> Event:
        return self.act(RUN_FINISHED)

    def abort(self, reason: str | None = None) -> Event:
        """NO-GO: end the run as aborted, with the reason (cannot be undone)."""
        return self.act(RUN_ABORTED, None, reason=reason)

    def undo(self) -> Event:
        """Revert this operator's last action (see :func:`runbook.engine.state.undo_target`):
        append an ``action_undone`` event naming it. Nothing is deleted.

        Recorded through :meth:`record` like every action; inside its write transaction, after
        what other operators wrote is folded in, the target must still be this operator's last
        action (another action in between makes it no longer the last)."""
        self.sync(force=True)  # the newest events, even those this connection wrote
        group = undo_target(self.state, self.actor.name, self.now())
        if isinstance(group, str):
            raise ActionRefused(group)
        seqs = [e.seq for e in group]

        def still_last() -> bool:
            again = undo_target(self.state, self.actor.name, self.now())
            if isinstance(again, str):
                raise ActionRefused(again)
            if [e.seq for e in again] != seqs:
                raise ActionRefused(_("another action was recorded meanwhile; nothing undone "
                                      "(undo again to revert the newest)"))
            return True

        first = group[0]
        with using(DEFAULT):  # recorded data: English; shown with undo.undid() in any language
            what = describe(first)
        payload = {"undoes": seqs, "what": what, "undone_at": first.at.isoformat()}
        event = self.record(UNDONE, first.step, payload, validate=False, only_if=still_last)
        assert event is not None  # still_last() never answers False
        return event

    # -- refresh ------------------------------------------------------------------------------------

    def tick(self, now: datetime | None = None) -> Tick:
        self.sync()
        self._record_later()
        result = super().tick(now)
        self._record_hook_failures()
        return result

    def _on_alert(self, alert: dict[str, Any], now: datetime) -> None:
        level = alert["level"]
        # decided inside the transaction: another engine may have recorded this change already
        if self._record_or_keep(ALERT, alert, lambda: self.state.level != level):
            self.notifier.send(alert)

    def _record_hook_failures(self) -> None:
        for f in self.notifier.failures():
            self._record_or_keep(HOOK_FAILED, {"hook": f.hook, "error": f.error, "level": f.level})
        for given in self.notifier.notices_sent():  # what the hooks were handed, exactly
            self._record_or_keep(NOTICE, {**given, "via": "hooks"})

    def give_notice(self, level: str, lang: str, text: str) -> Event:
        """The operator copied a customer notice to pass it on: recorded with its exact text."""
        if not text.strip():
            raise ActionRefused("no customer notice to copy")
        event = self.record(NOTICE, None, {"level": str(level), "lang": lang, "text": text,
                                           "via": "copy"}, validate=False)
        assert event is not None
        return event

    def _record_or_keep(self, kind: str, payload: dict[str, Any],
                        only_if: Callable[[], bool] | None = None, event_id: str = "") -> bool:
        """Record what the engine noticed; while the store is away, keep it for later."""
        event_id = event_id or uuid.uuid4().hex
        try:
            return self.record(kind, None, payload, validate=False, only_if=only_if,
                               event_id=event_id) is not None
        except StoreUnavailable:
            self._later.append((kind, payload, only_if, event_id))
            return False

    def _record_later(self) -> None:
        if self.store_down_since is not None:
            return
        later, self._later = self._later, []
        for kind, payload, only_if, event_id in later:
            if kind == ALERT and payload["level"] != str(self.tracker.current):
                continue  # the level moved on while the store was away
            if self._record_or_keep(kind, payload, only_if, event_id) and kind == ALERT:
                self.notifier.send(payload)

    def close(self, wait_hooks: bool = True) -> None:
        if wait_hooks and self.notifier.enabled:
            self.notifier.wait()
            self._record_hook_failures()


def _meta(loaded: Loaded, samples: int, seed: int, prior: Prior | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"samples": samples, "seed": seed, "timezone": loaded.plan.timezone,
                            **run_meta(loaded)}  # a window moved by --start
    if prior is not None:
        meta["prior"] = prior.as_dict()
    return meta


def _creation(store: Store, loaded: Loaded, clock: Clock, actor: Actor, label: str,
              meta: dict[str, Any]) -> tuple[First, dict[str, Any]]:
    """The run_started event and the new run's fields, stamped by the store's clock when real."""
    now = store.now() if getattr(clock, "real", False) else clock.now()
    first = First(actor.name, actor.host, RUN_STARTED, {"operator": actor.name, "label": label})
    return first, dict(runbook_id=loaded.plan.id, title=loaded.plan.title, label=label,
                       source_text=loaded.text, source_name=loaded.name, created_at=now,
                       meta=meta)


def new_run(store: Store, loaded: Loaded, clock: Clock, actor: Actor, *, label: str = "live",
            samples: int = 10_000, seed: int = 0, prior: Prior | None = None,
            notifier: Notifier | None = None) -> Engine:
    """Start a new run of ``loaded`` in ``store``: the run and run_started in one transaction."""
    first, fields = _creation(store, loaded, clock, actor, label,
                              _meta(loaded, samples, seed, prior))
    info = store.create_run(**fields, first=first)
    return Engine(store, info, clock, actor, loaded=loaded, notifier=notifier)


def unfinished_run(store: Store, runbook_id: str) -> RunInfo | None:
    """The newest run of ``runbook_id`` that has not finished, if any."""
    return store.unfinished(runbook_id)


def open_run(store: Store, loaded: Loaded, clock: Clock, actor: Actor, *, label: str = "live",
             samples: int = 10_000, seed: int = 0, prior: Prior | None = None,
             notifier: Notifier | None = None) -> tuple[Engine, bool]:
    """Resume this runbook's unfinished run, or start a new one. Returns (engine, resumed).

    Decided in one store transaction, under a lock across processes and hosts: two operators
    starting together land in one run."""
    first, fields = _creation(store, loaded, clock, actor, label,
                              _meta(loaded, samples, seed, prior))
    info, resumed = store.open_or_create(finished=FINISHED, first=first, **fields)
    if not resumed:
        return Engine(store, info, clock, actor, loaded=loaded, notifier=notifier), False
    engine = Engine(store, info, clock, actor, notifier=notifier)
    engine.record(OPERATOR_JOINED, None, {"operator": actor.name, "resumed": True}, validate=False)
    return engine, True
