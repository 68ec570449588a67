"""Run state as a fold of the event log. Pure: no I/O, no clock.

The events are the only truth; :func:`fold` replays them over the plan. :func:`check_action`
says whether an action fits a state (``None``) or why not (one sentence), so the engine can refuse
an action before anything is recorded.

Undo is a correcting event, never a deletion: ``action_undone`` names the events it reverts
(``undoes``: their seqs), and the fold replays the log without them. What can be undone, and
why (see :func:`undo_target`): the operator's own last action, within :data:`UNDO_GRACE_S` —
start, complete, fail, skip and note, with what the same key press recorded along with it (space
completes one step and starts the next; the last completion finishes the run). Triggering a
contingency and aborting cannot be undone: both are confirmed in a dialog, and people act on them
at once (the rollback team starts, the customer desk is told); a wrong trigger is answered by the
next decision, recorded as such.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from runbook.format.plan import MAIN, Plan
from runbook.i18n import N_, _, current

# Event types (the ``type`` column of the store).
RUN_STARTED = "run_started"
OPERATOR_JOINED = "operator_joined"
STEP_STARTED = "step_started"
STEP_COMPLETED = "step_completed"
STEP_FAILED = "step_failed"
STEP_SKIPPED = "step_skipped"
NOTE = "note"
CONTINGENCY_TRIGGERED = "contingency_triggered"
RUN_FINISHED = "run_finished"
RUN_ABORTED = "run_aborted"
UNDONE = "action_undone"
ALERT = "alert"
HOOK_FAILED = "hook_failed"
NOTICE = "customer_notice"  # a customer notice copied by an operator or sent by the hooks

# Step statuses (DESIGN §4).
PENDING = "pending"
READY = "ready"
RUNNING = "running"
COMPLETED = "completed"
FAILED = "failed"
SKIPPED = "skipped"
ABANDONED = "abandoned"

DONE = frozenset({COMPLETED, SKIPPED})
UNDOABLE = frozenset({STEP_STARTED, STEP_COMPLETED, STEP_FAILED, STEP_SKIPPED, NOTE})
BOOKKEEPING = frozenset({ALERT, HOOK_FAILED, OPERATOR_JOINED, NOTICE})  # not undoable, never
# "the last action" (what customers were told cannot be unsaid)
UNDO_GRACE_S = 60.0  # a mis-press is noticed within seconds; a minute is generous
_revisions = itertools.count(1)
TERMINAL = frozenset({COMPLETED, SKIPPED, ABANDONED})


class EventLike(Protocol):
    seq: int
    at: datetime
    actor: str
    host: str
    type: str
    step: str | None
    payload: dict[str, Any]


@dataclass(frozen=True)
class Note:
    at: datetime
    actor: str
    text: str
    step: str | None = None


@dataclass(frozen=True)
class StepState:
    status: str = PENDING
    started_at: datetime | None = None  # first start
    finished_at: datetime | None = None  # completion, skip, or abandonment
    attempt_started_at: datetime | None = None
    attempts: int = 0
    failures: int = 0
    started_by: str | None = None
    finished_by: str | None = None
    notes: tuple[Note, ...] = ()
    failed_at: datetime | None = None  # the last failure (a failed step's time stops there)

    @property
    def actual_s(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    def elapsed_s(self, now: datetime) -> float:
        if self.started_at is None:
            return 0.0
        end = self.finished_at or (self.failed_at if self.status == FAILED else None) or now
        return max(0.0, (end - self.started_at).total_seconds())


@dataclass(frozen=True)
class Alert:
    at: datetime
    level: str
    message: str  # as recorded: in the language of the operator who recorded it
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The message in the current language (see :func:`alert_text`)."""
        return alert_text(self.payload) or self.message


def alert_text(payload: dict[str, Any]) -> str:
    """An alert's message in the current language: alerts carry it in every language
    (``payload["messages"]``, made from the same numbers at the moment it was raised); one
    recorded before that keeps the text it was recorded with (``payload["message"]``)."""
    texts = payload.get("messages")
    if isinstance(texts, dict):
        said = texts.get(current())
        if isinstance(said, str) and said:
            return said
    return str(payload.get("message", ""))


@dataclass(frozen=True)
class Notice:
    """A customer notice as given: the exact text, its level and language, who copied it or that
    the alert hooks sent it (``via``: ``copy`` or ``hooks``), and when."""

    at: datetime
    actor: str
    level: str
    lang: str
    text: str
    via: str


@dataclass
class RunState:
    plan: Plan
    steps: dict[str, StepState]
    path: str = MAIN
    started_at: datetime | None = None
    triggered_at: datetime | None = None
    triggered_by: str | None = None
    resumed_at: datetime | None = None
    finished_at: datetime | None = None
    aborted: bool = False
    abort_reason: str | None = None
    operators: list[str] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    last_seq: int = 0
    last_at: datetime | None = None
    revision: int = 0  # unique per folded state: lets the forecast cache per state
    log: list[EventLike] = field(default_factory=list)  # every event folded, in order
    undone: dict[int, EventLike] = field(default_factory=dict)  # seq -> the undo that reverted it

    def __post_init__(self) -> None:
        self.revision = next(_revisions)

    @classmethod
    def initial(cls, plan: Plan) -> RunState:
        state = cls(plan=plan, steps={s.id: StepState() for s in plan.steps})
        _refresh_ready(state)
        return state

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    @property
    def resumed(self) -> bool:
        return self.resumed_at is not None

    @property
    def level(self) -> str | None:
        """The level of the last recorded alert, if any."""
        return self.alerts[-1].level if self.alerts else None

    def status(self, step_id: str) -> str:
        return self.steps[step_id].status

    def ids(self, *statuses: str, path: str | None = None) -> list[str]:
        """Ids of steps in the given statuses (file order), optionally only on ``path``."""
        return [
            s.id for s in self.plan.steps
            if self.steps[s.id].status in statuses and (path is None or s.path == path)
        ]

    def active_ids(self) -> list[str]:
        return [self.plan.steps[i].id for i in self.plan.paths[self.path]]

    def all_done(self) -> bool:
        return all(self.steps[i].status in DONE for i in self.active_ids())


def fold(plan: Plan, events: Iterable[EventLike], state: RunState | None = None) -> RunState:
    """Apply ``events`` (in seq order) to ``state`` (default: the initial state)."""
    state = state or RunState.initial(plan)
    for ev in events:
        state.log.append(ev)
        if ev.type == UNDONE:
            _undo(state, ev)
        else:
            _apply(state, ev)
        state.last_seq = ev.seq
        state.last_at = ev.at if state.last_at is None else max(state.last_at, ev.at)
    _refresh_ready(state)
    state.revision = next(_revisions)
    return state


_KEEP = ("log", "undone", "last_seq", "last_at", "revision")


def _undo(state: RunState, ev: EventLike) -> None:
    """Revert the events ``ev`` names: replay the log without them (and without undo events)."""
    for seq in ev.payload.get("undoes") or ():
        state.undone.setdefault(int(seq), ev)
    fresh = RunState.initial(state.plan)
    for e in state.log:
        if e.type != UNDONE and e.seq not in state.undone:
            _apply(fresh, e)
    for f in dataclasses.fields(RunState):
        if f.name not in _KEEP:
            setattr(state, f.name, getattr(fresh, f.name))


def _set(state: RunState, step: str, **changes: Any) -> None:
    state.steps[step] = replace(state.steps[step], **changes)


def _apply(state: RunState, ev: EventLike) -> None:
    kind, step, at = ev.type, ev.step, ev.at
    if kind in (RUN_STARTED, OPERATOR_JOINED):
        if state.started_at is None:
            state.started_at = at
        name = ev.payload.get("operator") or ev.actor
        if name and name not in state.operators:
            state.operators.append(name)
        return
    if step is not None and step not in state.steps:
        return  # an event about a step this plan does not know: ignore, never crash a report
    if kind == STEP_STARTED and step:
        cur = state.steps[step]
        _set(state, step, status=RUNNING, started_at=cur.started_at or at, attempt_started_at=at,
             attempts=cur.attempts + 1, started_by=cur.started_by or ev.actor, finished_at=None)
        _note(state, ev, step, ev.payload.get("note"))
    elif kind == STEP_COMPLETED and step:
        _set(state, step, status=COMPLETED, finished_at=at, finished_by=ev.actor)
        _note(state, ev, step, ev.payload.get("note"))
        if state.resumed_at is None and state.plan.resume.get(state.path) == state.plan.by_id[step].index:
            state.resumed_at = at
    elif kind == STEP_FAILED and step:
        cur = state.steps[step]
        _set(state, step, status=FAILED, failures=cur.failures + 1, failed_at=at)
        _note(state, ev, step, ev.payload.get("note"))
    elif kind == STEP_SKIPPED and step:
        cur = state.steps[step]
        _set(state, step, status=SKIPPED, finished_at=at, finished_by=ev.actor)
        _note(state, ev, step, ev.payload.get("reason"))
    elif kind == NOTE:
        _note(state, ev, step, ev.payload.get("text"))
    elif kind == CONTINGENCY_TRIGGERED:
        state.path = ev.payload["contingency"]
        state.triggered_at = at
        state.triggered_by = ev.actor
        for s in state.plan.steps:
            if s.path == MAIN and state.steps[s.id].status not in DONE:
                _set(state, s.id, status=ABANDONED, finished_at=at if state.steps[s.id].started_at else None)
        _note(state, ev, None, ev.payload.get("note"))
    elif kind == RUN_FINISHED:
        state.finished_at = at
    elif kind == RUN_ABORTED:
        state.finished_at = at
        state.aborted = True
        state.abort_reason = ev.payload.get("reason")
        for sid in state.ids(RUNNING, FAILED):
            _set(state, sid, status=ABANDONED, finished_at=at)
        _note(state, ev, None, ev.payload.get("reason"))
    elif kind == NOTICE:
        p = ev.payload
        state.notices.append(Notice(at=at, actor=ev.actor, level=str(p.get("level", "")),
                                    lang=str(p.get("lang", "")), text=str(p.get("text", "")),
                                    via=str(p.get("via", "copy"))))
    elif kind == ALERT:
        state.alerts.append(Alert(at=at, level=ev.payload.get("level", ""),
                                  message=ev.payload.get("message", ""), payload=dict(ev.payload)))


def _note(state: RunState, ev: EventLike, step: str | None, text: str | None) -> None:
    if not text:
        return
    note = Note(at=ev.at, actor=ev.actor, text=str(text), step=step)
    state.notes.append(note)
    if step is not None:
        cur = state.steps[step]
        _set(state, step, notes=(*cur.notes, note))


def _refresh_ready(state: RunState) -> None:
    """pending <-> ready for the active path; other paths' steps stay pending."""
    plan = state.plan
    for s in plan.steps:
        cur = state.steps[s.id]
        if cur.status not in (PENDING, READY):
            continue
        ready = (
            not state.finished
            and s.path == state.path
            and all(state.steps[plan.steps[p].id].status in DONE for p in s.preds)
        )
        want = READY if ready else PENDING
        if cur.status != want:
            _set(state, s.id, status=want)


def check_action(state: RunState, kind: str, step: str | None = None,
                 contingency: str | None = None, *, now: datetime | None = None,
                 actor: str | None = None) -> str | None:
    """Why ``kind`` does not fit ``state``, or None when it does.

    With ``now`` (and ``actor``), a step another operator just moved on says who and when:
    "cable was completed by park just now", not "start it first"."""
    plan = state.plan
    if state.finished:
        if state.aborted:
            return _("the run was aborted; nothing more can be recorded")
        return _("the run is finished; nothing more can be recorded")
    if kind in (STEP_STARTED, STEP_COMPLETED, STEP_FAILED, STEP_SKIPPED) and step in state.steps \
            and now is not None:
        moved = _moved_by_other(state, kind, step, now, actor)
        if moved:
            return moved
    if kind in (STEP_STARTED, STEP_COMPLETED, STEP_FAILED, STEP_SKIPPED):
        if step is None or step not in state.steps:
            return _("unknown step {step}").format(step=repr(step))
        s, cur = plan.by_id[step], state.steps[step]
        status = status_word(cur.status)
        if s.path != state.path:
            if cur.status == ABANDONED:
                return _("{step} was abandoned when {contingency} was triggered").format(
                    step=step, contingency=state.path)
            if s.path == MAIN:
                return _("{step} belongs to the main path, which is not running (trigger it "
                         "first)").format(step=step)
            return _("{step} belongs to contingency {contingency}, which is not running (trigger "
                     "it first)").format(step=step, contingency=repr(s.path))
        if kind == STEP_STARTED:
            if cur.status == FAILED:
                return None  # a retry
            if cur.status != READY:
                if cur.status == PENDING:
                    waiting = [plan.steps[p].id for p in s.preds
                               if state.steps[plan.steps[p].id].status not in DONE]
                    return _("{step} waits for {steps}").format(step=step,
                                                                steps=", ".join(waiting))
                return _("{step} is {status}; only a ready or failed step can start").format(
                    step=step, status=status)
        elif kind in (STEP_COMPLETED, STEP_FAILED):
            if cur.status in (COMPLETED, SKIPPED):
                return _("{step} is already {status}").format(step=step, status=status)
            if cur.status != RUNNING:
                return _("{step} is {status}, not running; start it first").format(
                    step=step, status=status)
        elif kind == STEP_SKIPPED and cur.status in (COMPLETED, SKIPPED):
            return _("{step} is already {status}").format(step=step, status=status)
        return None
    if kind == CONTINGENCY_TRIGGERED:
        if contingency not in plan.paths or contingency == MAIN:
            known = ", ".join(plan.contingencies) or _("none in this runbook")
            return _("unknown contingency {contingency} (known: {known})").format(
                contingency=repr(contingency), known=known)
        if state.path != MAIN:
            return _("contingency {contingency} is already running").format(
                contingency=repr(state.path))
        if state.resumed:
            return _("service has already resumed; a contingency would come too late")
        return None
    if kind == NOTE and step is not None and step not in state.steps:
        return _("unknown step {step}").format(step=repr(step))
    if kind == RUN_FINISHED:
        running = state.ids(RUNNING)
        if running:
            return _("{steps} still running; complete, fail or skip it first").format(
                steps=", ".join(running))
        return None
    return None


STATUS_WORDS = {PENDING: N_("pending"), READY: N_("ready"), RUNNING: N_("running"),
                COMPLETED: N_("completed"), FAILED: N_("failed"), SKIPPED: N_("skipped"),
                ABANDONED: N_("abandoned")}


def status_word(status: str) -> str:
    """A step status (a code: ``completed``) as words in the current language."""
    return _(STATUS_WORDS[status]) if status in STATUS_WORDS else status


_DID = {STEP_STARTED: N_("started"), STEP_COMPLETED: N_("completed"),
        STEP_FAILED: N_("marked failed"), STEP_SKIPPED: N_("skipped"), NOTE: N_("noted"),
        CONTINGENCY_TRIGGERED: N_("triggered"), RUN_FINISHED: N_("finished"),
        RUN_ABORTED: N_("aborted")}


def ago(then: datetime, now: datetime) -> str:
    """``just now`` (under a minute), ``4m ago``, ``1h05m ago``."""
    s = (now - then).total_seconds()
    if s < 60:
        return _("just now")
    m = int(s // 60)
    if m < 60:
        return _("{minutes}m ago").format(minutes=m)
    return _("{hours}h{minutes:02d}m ago").format(hours=m // 60, minutes=m % 60)


def last_step_event(state: RunState, step: str) -> EventLike | None:
    """The newest event in effect (not undone) that changed ``step``."""
    for ev in reversed(state.log):
        if ev.step == step and ev.type in _DID and ev.type != NOTE and ev.seq not in state.undone:
            return ev
    return None


def _moved_by_other(state: RunState, kind: str, step: str, now: datetime,
                    actor: str | None) -> str | None:
    """The action collides with what another operator just did to the same step."""
    cur = state.steps[step].status
    fits = {STEP_STARTED: (READY, FAILED), STEP_COMPLETED: (RUNNING,), STEP_FAILED: (RUNNING,),
            STEP_SKIPPED: (PENDING, READY, RUNNING, FAILED)}[kind]
    if cur in fits:
        return None
    ev = last_step_event(state, step)
    if ev is None or ev.actor == actor:
        return None
    return _("{step} was {did} by {who} {ago}; nothing recorded").format(
        step=step, did=_(_DID[ev.type]), who=ev.actor, ago=ago(ev.at, now))
