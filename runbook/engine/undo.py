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


def describe(ev: EventLike) -> str:
    """An action in a few words: ``complete cable``, ``note on prep``, ``trigger rollback``."""
    word = {STEP_STARTED: "start", STEP_COMPLETED: "complete", STEP_FAILED: "fail",
            STEP_SKIPPED: "skip", NOTE: "note", CONTINGENCY_TRIGGERED: "trigger",
            RUN_FINISHED: "finish", RUN_ABORTED: "abort", UNDONE: "undo"}.get(ev.type, ev.type)
    if ev.type == CONTINGENCY_TRIGGERED:
        return f"trigger {ev.payload.get('contingency')}"
    if ev.type == NOTE:
        return f"note on {ev.step}" if ev.step else "note"
    return f"{word} {ev.step}" if ev.step else word


def undo_target(state: RunState, actor: str, now: datetime,
                grace_s: float = UNDO_GRACE_S) -> list[EventLike] | str:
    """The events one undo by ``actor`` at ``now`` reverts (the last action and what the same
    key press recorded with it), or why there is nothing to undo."""
    def is_action(e: EventLike) -> bool:
        return (e.type not in BOOKKEEPING and e.type not in (UNDONE, RUN_STARTED)
                and e.seq not in state.undone)

    last = next((e for e in reversed(state.log) if is_action(e)), None)
    if last is None:
        return "nothing to undo yet"
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
        return "the run was aborted, and an abort cannot be undone"
    if first.type == RUN_FINISHED:
        return "the run is finished; nothing more can be recorded"
    if first.type not in UNDOABLE:
        return (f"the last action ({what}) cannot be undone; record what happens next "
                "instead (n adds a note)")
    if first.actor != actor:
        return f"the last action ({what}) was {first.actor}'s; only {first.actor} can undo it"
    age = (now - first.at).total_seconds()
    if age > grace_s:
        return (f"the last action ({what}) was {ago(first.at, now)}: undo works for "
                f"{grace_s:.0f}s after an action; record a note or the next action instead")
    return group
