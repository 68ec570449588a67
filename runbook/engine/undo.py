"""Undo: which events one undo reverts, and why there may be nothing to undo. Pure.

An undo is a correcting event (``action_undone``) naming the events it reverts; the fold in
:mod:`runbook.engine.state` replays the log without them. See the state module's docstring for
what can be undone and why trigger and abort cannot.
"""

from __future__ import annotations

from datetime import datetime

from runbook.engine.state import (
    BOOKKEEPING,
    CONTINGENCY_TRIGGERED,
    NOTE,
    RUN_ABORTED,
    RUN_FINISHED,
    RUN_STARTED,
    STEP_COMPLETED,
    STEP_FAILED,
    STEP_SKIPPED,
    STEP_STARTED,
    UNDO_GRACE_S,
    UNDOABLE,
    UNDONE,
    EventLike,
    RunState,
    ago,
)
from runbook.i18n import N_, _


def describe(ev: EventLike) -> str:
    """An action in a few words: ``complete cable``, ``note on prep``, ``trigger rollback`` (in
    the current language)."""
    if ev.type == CONTINGENCY_TRIGGERED:
        return _("trigger {contingency}").format(contingency=ev.payload.get("contingency"))
    if ev.type == NOTE:
        return _("note on {step}").format(step=ev.step) if ev.step else _("note")
    if ev.type in ACTION_WORDS:
        word, with_step = ACTION_WORDS[ev.type]
        return _(with_step).format(step=ev.step) if ev.step else _(word)
    return f"{ev.type} {ev.step}" if ev.step else ev.type


ACTION_WORDS = {  # event type -> (the action, the action on a step)
    STEP_STARTED: (N_("start"), N_("start {step}")),
    STEP_COMPLETED: (N_("complete"), N_("complete {step}")),
    STEP_FAILED: (N_("fail"), N_("fail {step}")),
    STEP_SKIPPED: (N_("skip"), N_("skip {step}")),
    RUN_FINISHED: (N_("finish"), N_("finish {step}")),
    RUN_ABORTED: (N_("abort"), N_("abort {step}")),
    UNDONE: (N_("undo"), N_("undo {step}")),
}


def undid(state: RunState, ev: EventLike) -> str:
    """What an undo event reverted, in the current language (its first undone event described
    again), or as recorded when that event is not in ``state``."""
    seqs = ev.payload.get("undoes") or []
    first = next((e for e in state.log if seqs and e.seq == seqs[0]), None)
    if first is not None:
        return describe(first)
    return str(ev.payload.get("what") or _("an action"))


def undo_target(state: RunState, actor: str, now: datetime,
                grace_s: float = UNDO_GRACE_S) -> list[EventLike] | str:
    """The events one undo by ``actor`` at ``now`` reverts (the last action and what the same
    key press recorded with it), or why there is nothing to undo."""
    def is_action(e: EventLike) -> bool:
        return (e.type not in BOOKKEEPING and e.type not in (UNDONE, RUN_STARTED)
                and e.seq not in state.undone)

    last = next((e for e in reversed(state.log) if is_action(e)), None)
    if last is None:
        return _("nothing to undo yet")
    root = int(last.payload.get("chain") or last.seq)
    group: list[EventLike] = []
    for e in reversed(state.log):  # the press's events are the newest actions: stop at its root
        if e.seq < root:
            break
        if is_action(e) and (e.seq == root or e.payload.get("chain") == root):
            group.insert(0, e)
    first = group[0]
    what = describe(first)
    if first.type == RUN_ABORTED:
        return _("the run was aborted, and an abort cannot be undone")
    if first.type == RUN_FINISHED:
        return _("the run is finished; nothing more can be recorded")
    if first.type not in UNDOABLE:
        return _("the last action ({what}) cannot be undone; record what happens next instead "
                 "(n adds a note)").format(what=what)
    if first.actor != actor:
        return _("the last action ({what}) was {who}'s; only {who} can undo it").format(
            what=what, who=first.actor)
    age = (now - first.at).total_seconds()
    if age > grace_s:
        return _("the last action ({what}) was {ago}: undo works for {seconds}s after an "
                 "action; record a note or the next action instead").format(
            what=what, ago=ago(first.at, now), seconds=f"{grace_s:.0f}")
    return group
