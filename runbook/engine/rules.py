"""Whether an action fits a run's state (:func:`check_action`: ``None``, or why not in one
sentence), so the engine can refuse an action before anything is recorded; and the words that
answer says (a status, how long ago, who moved a step on). Pure: no I/O, no clock.
"""

from __future__ import annotations

from datetime import datetime

from runbook.engine.state import (
    ABANDONED,
    COMPLETED,
    CONTINGENCY_TRIGGERED,
    DONE,
    FAILED,
    NOTE,
    PENDING,
    READY,
    RUN_ABORTED,
    RUN_FINISHED,
    RUNNING,
    SKIPPED,
    STEP_COMPLETED,
    STEP_FAILED,
    STEP_SKIPPED,
    STEP_STARTED,
    EventLike,
    RunState,
)
from runbook.format.plan import MAIN
from runbook.i18n import N_, _


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
