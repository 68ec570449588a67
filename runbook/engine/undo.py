"""Undo: which events one undo reverts, and why there may be nothing to undo. Pure.

An undo is a correcting event (``action_undone``) naming the events it reverts; the fold in
:mod:`runbook.engine.state` replays the log without them. See the state module's docstring for
what can be undone and why trigger and abort cannot.
"""

from __future__ import annotations

from datetime import datetime

from runbook.engine.actions import action_text
from runbook.engine.state import (
    BOOKKEEPING,
    CONTINGENCY_TRIGGERED,
    RUN_ABORTED,
    RUN_FINISHED,
    RUN_STARTED,
    UNDO_GRACE_S,
    UNDOABLE,
    UNDONE,
    EventLike,
    RunState,
    ago,
)
from runbook.i18n import _


def describe(ev: EventLike) -> str:
    """An action in a few words: ``complete cable``, ``note on prep``, ``trigger rollback`` (in
    the current language)."""
    target = ev.payload.get("contingency") if ev.type == CONTINGENCY_TRIGGERED else ev.step
    return action_text(ev.type, target)


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
