"""Run state as a fold of the event log. Pure: no I/O, no clock.

The events are the only truth; :func:`fold` replays them over the plan.
:func:`runbook.engine.rules.check_action` says whether an action fits a state (``None``) or why
not (one sentence), so the engine can refuse an action before anything is recorded.

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

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from runbook.engine import replay
from runbook.engine.index import StatusIndex
from runbook.format.plan import MAIN, Plan
from runbook.i18n import current

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
_generations = itertools.count(1)
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
    # What lets a fold and a forecast cost what an event touched, not the plan (issue #11):
    # ``changes`` lists the index of every step whose StepState was replaced, in order, since
    # ``generation`` began (an undo replays the log: a new generation, the list starts again);
    # readers remember how far they have read. ``_where`` indexes the steps by status (built on
    # first use); ``_consistent``: every pending/ready status follows the rules (else the next
    # fold recomputes them all, as for a state built by hand).
    changes: list[int] = field(default_factory=list, init=False, repr=False, compare=False)
    generation: int = field(default=0, init=False, repr=False, compare=False)
    _where: StatusIndex | None = field(default=None, init=False, repr=False, compare=False)
    snapshots: list | None = field(default=None, init=False, repr=False, compare=False)  # undo
    _consistent: bool = field(default=False, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.revision = next(_revisions)
        self.generation = next(_generations)

    @classmethod
    def initial(cls, plan: Plan) -> RunState:
        state = cls(plan=plan, steps={s.id: StepState() for s in plan.steps})
        _refresh_ready(state)
        state.snapshots = []  # a replay of its log: it may keep snapshots for undo
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

    def where(self) -> StatusIndex:
        """The steps by status (built on first use, then kept up to date by every change)."""
        if self._where is None:
            self._where = StatusIndex(((s.index, s.path, self.steps[s.id].status)
                                       for s in self.plan.steps), DONE)
        return self._where

    def copy(self) -> RunState:
        """A copy to read while this state folds new events (the screen's, made by the refresh
        worker): its containers copied, the steps' states shared (a StepState is replaced, never
        changed in place), the index by status copied (0.3 ms at 10,000 steps) rather than built
        again at the first question asked of the copy."""
        twin = replace(self, steps=dict(self.steps), operators=list(self.operators),
                       alerts=list(self.alerts), notes=list(self.notes), notices=list(self.notices),
                       log=list(self.log), undone=dict(self.undone))
        twin.revision = self.revision
        twin._where = self.where().copy()
        return twin

    def ids(self, *statuses: str, path: str | None = None) -> list[str]:
        """Ids of steps in the given statuses (file order), optionally only on ``path``."""
        steps = self.plan.steps
        return [steps[i].id for i in self.where().indices(*statuses)
                if path is None or steps[i].path == path]

    def active_ids(self) -> list[str]:
        return list(self.plan.path_ids[self.path])

    def all_done(self) -> bool:
        return self.where().done.get(self.path, 0) == len(self.plan.paths[self.path])


def fold(plan: Plan, events: Iterable[EventLike], state: RunState | None = None) -> RunState:
    """Apply ``events`` (in seq order) to ``state`` (default: the initial state).

    Pending/ready are then refreshed for the steps the events changed and their successors
    only; a change of path, an undo (a replay) or a state built by hand refreshes every step."""
    state = state or RunState.initial(plan)
    mark, generation, length = len(state.changes), state.generation, len(state.log)
    path, finished = state.path, state.finished
    for ev in events:
        state.log.append(ev)
        if ev.type == UNDONE:
            replay.undo(state, ev)  # the log without what it names (see runbook.engine.replay)
        else:
            _apply(state, ev)
            replay.applied(state, ev)
        state.last_seq = ev.seq
        state.last_at = ev.at if state.last_at is None else max(state.last_at, ev.at)
    if not state._consistent or state.generation != generation or state.path != path \
            or (finished and not state.finished):
        _refresh_ready(state)
    else:
        if state.finished and not finished:  # nothing is ready in a finished run
            for sid in state.ids(READY):
                _set(state, sid, status=PENDING)
        _refresh_some(state, state.changes[mark:])
    replay.after_fold(state, length)
    state.revision = next(_revisions)
    return state


def _set(state: RunState, step: str, **changes: Any) -> None:
    cur = state.steps[step]
    new = state.steps[step] = replace(cur, **changes)
    s = state.plan.by_id[step]
    if state._where is not None and new.status != cur.status:
        state._where.remove(s.index, s.path, cur.status)
        state._where.add(s.index, s.path, new.status)
    state.changes.append(s.index)


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
    for s in state.plan.steps:
        _refresh_step(state, s.index)
    state._consistent = True


def _refresh_some(state: RunState, changed: list[int]) -> None:
    """pending <-> ready for the steps that changed and their successors: whether a step is
    ready depends only on its predecessors (and on the path and the run's end, unchanged here)."""
    succs = state.plan.succs
    seen = set(changed)
    for i in set(changed):
        seen.update(succs[i])
    for i in sorted(seen):
        _refresh_step(state, i)


def _refresh_step(state: RunState, index: int) -> None:
    plan = state.plan
    s = plan.steps[index]
    cur = state.steps[s.id]
    if cur.status not in (PENDING, READY):
        return
    ready = (
        not state.finished
        and s.path == state.path
        and all(state.steps[plan.steps[p].id].status in DONE for p in s.preds)
    )
    want = READY if ready else PENDING
    if cur.status != want:
        _set(state, s.id, status=want)


# check_action and what it says (ago, status_word, ...) live in runbook.engine.rules; they are
# still importable from here.
_RULES = frozenset({"check_action", "STATUS_WORDS", "status_word", "ago", "last_step_event"})


def __getattr__(name: str) -> Any:
    if name in _RULES:
        from runbook.engine import rules

        return getattr(rules, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
