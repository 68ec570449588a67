"""The operator's desk: one session, one lock, the refresh and the actions. No Textual.

Threads: the refresh (sync + director + tick + forecast + snapshot) runs in a worker thread;
actions run on the UI thread. Both hold :attr:`Desk.lock`, because a session folds events into
its state in place and its forecaster caches per state. The store's SQLite connection is opened
with ``check_same_thread=False`` and serialises its own use, so either thread may read or write
through it. The worker never waits for the UI thread while it holds the lock (it posts a message
afterwards, never ``call_from_thread``), so the two cannot deadlock. The UI reads only immutable
snapshots, whose state is a copy taken under the lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from runbook.engine.notices import Notice
from runbook.engine.risk import word
from runbook.engine.run import ActionRefused, Engine, Session, Tick
from runbook.engine.state import (
    ABANDONED,
    CONTINGENCY_TRIGGERED,
    DONE,
    FAILED,
    NOTE,
    READY,
    RUNNING,
    STEP_COMPLETED,
    STEP_FAILED,
    STEP_SKIPPED,
    STEP_STARTED,
    RunState,
    check_action,
)
from runbook.engine.undo import undid, undo_target
from runbook.format.durations import duration_text, format_clock
from runbook.format.model import Level
from runbook.i18n import _, ngettext
from runbook.tui import operator, timeline, view
from runbook.tui.journal import Journal
from runbook.tui.operator import OPERATOR_ACTIONS

KINDS = {"start": STEP_STARTED, "complete": STEP_COMPLETED, "fail": STEP_FAILED,
         "skip": STEP_SKIPPED}


class Director(Protocol):
    """Something that operates the run between refreshes (the demo's script)."""

    def step(self, engine: Engine) -> None: ...


@dataclass(frozen=True)
class Outcome:
    """What an action recorded, in words for the operator."""

    message: str
    seq: int


class Desk:
    """A session as the screen needs it: snapshots, availability with reasons, actions."""

    def __init__(self, session: Session, *, mode: str = "run", resumed: bool = False,
                 director: Director | None = None, readonly_reason: str | None = None) -> None:
        if mode not in ("run", "watch", "demo"):
            raise ValueError(f"unknown mode {mode!r}")
        self.session = session
        self.mode = mode
        self.resumed = resumed
        self.director = director
        self.lock = threading.RLock()
        self._critical: frozenset[str] | None = None
        self._planned: tuple = ()
        self._rows = view.RowCache()
        self._journal = Journal(session.plan.timezone)
        self._tick: Tick | None = None
        self.timeline_width = 0  # the screen's timeline, in cells (set by the app; 0: unknown)
        if readonly_reason is None:
            readonly_reason = operator.readonly_reason(mode)
        if readonly_reason is None and not isinstance(session, Engine):
            readonly_reason = _("read-only session")
        self.readonly_reason = readonly_reason

    # -- reading ---------------------------------------------------------------------------
    @property
    def plan(self):
        return self.session.plan

    @property
    def engine(self) -> Engine:
        assert isinstance(self.session, Engine)
        return self.session

    def prepare(self) -> None:
        """The once-per-run work (critical path, planned schedule); done by the first refresh."""
        with self.lock:
            if self._critical is None:
                crit = self.session.forecaster.criticality()
                self._critical = frozenset(crit.path)
                self._planned = timeline.planned_instants(
                    self.plan, timeline.planned_schedule(self.plan, crit.path))

    def refresh(self, now: datetime | None = None) -> view.Snapshot:
        """Sync, let the director act (demo), tick (alerts, hooks), and build a snapshot."""
        self.prepare()
        with self.lock:
            if self.director is not None and isinstance(self.session, Engine):
                self.director.step(self.session)
            if not isinstance(self.session, Engine):
                self.session.sync()
            self._tick = self.session.tick(now)
            return self._build()

    def view(self) -> view.Snapshot:
        """A snapshot of the current state with the last forecast (no new forecast work)."""
        with self.lock:
            return self._build()

    def _build(self) -> view.Snapshot:
        s = self.session
        tick = self._tick
        now = s.now() if tick is None else max(tick.now, s.state.last_at or tick.now)
        level = tick.level if tick is not None else Level(s.state.level or Level.on_track)
        needs: dict[str, float] = {}
        fc = tick.forecast if tick is not None else None
        if fc is not None and fc.contingency and fc.contingency_need_s is not None:
            needs[fc.contingency] = fc.contingency_need_s
        warnings = view.store_warnings(getattr(s, "clock_skew_s", None),
                                       getattr(s, "store_down_since", None), self.plan.timezone, now)
        snap = view.build(self.plan, s.state, now=now, level=level, forecast=fc,
                          run_id=s.run_id, label=s.info.label, critical=self._critical or frozenset(),
                          planned=self._planned, needs=needs, rows=self._rows, warnings=warnings,
                          notice_lang=s.notice_lang, journal=self._journal)
        if self.timeline_width:
            snap.timeline_rows(self.timeline_width)  # here, off the UI thread
        return snap

    # -- availability ----------------------------------------------------------------------
    def why_not(self, action: str, step: str | None = None, *, state: RunState | None = None,
                contingency: str | None = None, now: datetime | None = None) -> str | None:
        """Why ``action`` cannot be done now (one sentence), or None when it can."""
        if action not in OPERATOR_ACTIONS:
            return None
        if self.readonly_reason:
            return self.readonly_reason
        if state is None:
            with self.lock:
                return self._why_not(action, step, self.session.state, contingency, now)
        return self._why_not(action, step, state, contingency, now)

    def _why_not(self, action: str, step: str | None, state: RunState,
                 contingency: str | None, now: datetime | None = None) -> str | None:
        if action == "copy_notice":
            return None  # the screen knows whether its level has a notice (app.why_not)
        if action == "undo":
            found = undo_target(state, self.engine.actor.name,
                                now or state.last_at or self.session.now())
            return found if isinstance(found, str) else None
        if state.finished:
            if state.aborted:
                return _("the run was aborted; nothing more can be recorded")
            return _("the run is finished; nothing more can be recorded")
        if action == "advance":
            plan = advance_plan(state, step)
            return plan if isinstance(plan, str) else None
        if action == "abort":
            return None
        if action == "note":
            return check_action(state, NOTE, step)
        if action == "trigger":
            if not self.plan.contingencies:
                return _("this runbook has no contingency path")
            return check_action(state, CONTINGENCY_TRIGGERED, None,
                                contingency or self.plan.contingencies[0])
        if step is None:
            return _("select a step first (arrow keys)")
        return check_action(state, KINDS[action], step)

    # -- actions (UI thread; each returns after the event is committed) ----------------------
    def _act(self, fn: Callable[[], str]) -> Outcome:
        if self.readonly_reason:
            raise ActionRefused(self.readonly_reason)
        with self.lock:
            text = fn()
            return Outcome(text, self.session.state.last_seq)

    def advance(self, selected: str | None = None) -> Outcome:
        """space: complete the running step and start the next ready one (or start the first)."""
        def go() -> str:
            e = self.engine
            plan = advance_plan(e.state, selected)
            if isinstance(plan, str):
                raise ActionRefused(plan)
            kind, sid = plan
            if kind == "start":
                e.start(sid)
                return self._started(sid)
            done = e.complete(sid)
            said = self._completed(sid)
            nxt = next_after(e.state, sid)
            if nxt is not None and not e.state.finished:
                e.start(nxt, chain=done.seq)
                said += f" · {self._started(nxt)}"
            elif e.state.finished:
                said += " · " + _("run finished")
            return said
        return self._act(go)

    def start(self, step: str) -> Outcome:
        def go() -> str:
            retry = self.engine.state.steps[step].status == FAILED
            self.engine.start(step)
            return (_("Retrying: {what}") if retry else "{what}").format(what=self._started(step))
        return self._act(go)

    def complete(self, step: str) -> Outcome:
        def go() -> str:
            self.engine.complete(step)
            return self._completed(step)
        return self._act(go)

    def fail(self, step: str, note: str | None = None) -> Outcome:
        def go() -> str:
            self.engine.fail(step, note or None)
            return _("{step} marked FAILED ({reason}): {hint}").format(
                step=step, reason=note or _("no reason given"), hint=failed_hint(self.engine.state))
        return self._act(go)

    def abort(self, reason: str) -> Outcome:
        def go() -> str:
            self.engine.abort(reason)
            return _("Run ABORTED: {reason}. Nothing more can be recorded; the report shows why."
                     ).format(reason=reason)
        return self._act(go)

    def undo(self) -> Outcome:
        def go() -> str:
            ev = self.engine.undo()
            return _("Undid {what} (recorded as a correction; the log keeps both)").format(
                what=undid(self.engine.state, ev))
        return self._act(go)

    def skip(self, step: str, reason: str | None = None) -> Outcome:
        def go() -> str:
            self.engine.skip(step, reason or None)
            return _("Skipped {step}").format(step=step) + (f" ({reason})" if reason else "")
        return self._act(go)

    def note(self, text: str, step: str | None = None) -> Outcome:
        def go() -> str:
            self.engine.note(text, step)
            return (_("Note recorded on {step}").format(step=step) if step
                    else _("Note recorded"))
        return self._act(go)

    def give_notice(self, notice: Notice) -> Outcome:
        """The operator copied the customer notice: record who, which, its exact text, when."""
        def go() -> str:
            self.engine.give_notice(notice.level, notice.lang, notice.text)
            return _("Copied the {level} customer notice ({lang}); recorded with your name and "
                     "the time for the report").format(level=word(notice.level), lang=notice.lang)
        return self._act(go)

    def trigger(self, contingency: str, note: str | None = None) -> Outcome:
        def go() -> str:
            self.engine.trigger(contingency, note or None)
            before = self.engine.state.ids(ABANDONED, path="main")
            first = next(iter(self.engine.state.ids(READY, path=contingency)), None)
            said = ngettext("{contingency} triggered: {n} main step abandoned",
                            "{contingency} triggered: {n} main steps abandoned", len(before)
                            ).format(contingency=contingency, n=len(before))
            return said + (_("; next: {step} (space starts it)").format(step=first) if first
                           else "")
        return self._act(go)

    def _started(self, sid: str) -> str:
        s = self.plan.by_id[sid]
        return _("Started {step} (plan {likely}, at worst {pessimistic})").format(
            step=sid, likely=duration_text(s.likely), pessimistic=duration_text(s.pessimistic))

    def _completed(self, sid: str) -> str:
        s, st = self.plan.by_id[sid], self.session.state.steps[sid]
        took = st.actual_s or 0.0
        diff = took - s.likely
        off = duration_text(round(abs(diff) / 60) * 60)
        how = _("as planned") if abs(diff) < 30 else (
            _("{off} over plan") if diff > 0 else _("{off} under plan")).format(off=off)
        return _("Completed {step} in {took} ({how})").format(step=sid, took=format_clock(took),
                                                               how=how)


def advance_plan(state: RunState, selected: str | None) -> tuple[str, str] | str:
    """What space does now: ("complete", id) or ("start", id), or why it cannot."""
    path = state.path
    running = state.ids(RUNNING, path=path)
    if len(running) == 1:
        return ("complete", running[0])
    if running:
        if selected in running:
            return ("complete", selected)
        return _("{n} steps are running ({steps}): select the one that finished and press space "
                 "or d").format(n=len(running),
                                steps=", ".join(running[:3]) + ("…" if len(running) > 3 else ""))
    ready = state.ids(READY, path=path)
    if ready:
        return ("start", selected if selected in ready else ready[0])
    failed = state.ids(FAILED, path=path)
    if failed:
        return _("{step} failed: {hint}").format(step=failed[0], hint=failed_hint(state))
    if all(state.steps[i].status in DONE for i in state.active_ids()):
        return _("every step is done")
    return _("no step is ready to start")


def next_after(state: RunState, completed: str) -> str | None:
    """The step space starts after completing ``completed``: a successor it made ready, else the
    first ready step when nothing else is running."""
    plan = state.plan
    idx = plan.by_id[completed].index
    for j in plan.succs[idx]:
        sid = plan.steps[j].id
        if state.steps[sid].status == READY:
            return sid
    if state.ids(RUNNING, path=state.path):
        return None
    ready = state.ids(READY, path=state.path)
    return ready[0] if ready else None


def failed_hint(state: RunState) -> str:
    """What to do about a failed step: the keys, and the contingency while it can run."""
    if state.path == "main" and state.plan.contingencies:
        return _("s retries it, k skips it, or c triggers the contingency")
    return _("s retries it, k skips it")
