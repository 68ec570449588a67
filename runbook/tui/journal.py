"""The run's journal for ``l``: every event as a line, who did it from which host. Pure.

Starts, completions, failures and skips with their reasons, triggers, notes with their step,
alerts, undos (and what they undid, marked), joins and reattaches, the abort.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from runbook.engine.risk import WORDS
from runbook.engine.state import (
    ALERT,
    BOOKKEEPING,
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
    EventLike,
    RunState,
    ago,
)
from runbook.engine.undo import describe
from runbook.format.durations import format_clock
from runbook.format.model import Level
from runbook.format.times import when


@dataclass(frozen=True)
class Entry:
    at: datetime
    time: str  # as shown: 00:12:03, 02:00:10 +1d
    who: str  # kim@ops-01 ("" for the tool's own alerts)
    kind: str  # the event type (the widget styles alerts, failures, undos)
    text: str
    undone: bool = False


def _text(ev: EventLike, starts: dict[str, datetime], tz: str, now: datetime) -> str:
    p, step = ev.payload, ev.step
    if ev.type == RUN_STARTED:
        return f"started the run ({p.get('label', 'live')})"
    if ev.type == OPERATOR_JOINED:
        return "reattached to the run" if p.get("resumed") else "joined the run"
    if ev.type == STEP_STARTED:
        again = step in starts
        starts.setdefault(step or "", ev.at)
        return f"▶ {'retried' if again else 'started'} {step}" + _why(p.get("note"))
    if ev.type == STEP_COMPLETED:
        first = starts.get(step or "")
        took = f" in {format_clock((ev.at - first).total_seconds())}" if first else ""
        return f"✓ completed {step}{took}" + _why(p.get("note"))
    if ev.type == STEP_FAILED:
        return f"✗ {step} FAILED" + _why(p.get("note"))
    if ev.type == STEP_SKIPPED:
        return f"↷ skipped {step}" + _why(p.get("reason"))
    if ev.type == NOTE:
        return f"note{' on ' + step if step else ''}: {p.get('text', '')}"
    if ev.type == CONTINGENCY_TRIGGERED:
        return f"⚑ TRIGGERED {p.get('contingency')}" + _why(p.get("note"))
    if ev.type == RUN_FINISHED:
        return "finished the run" + (" (last step done)" if p.get("auto") else "")
    if ev.type == RUN_ABORTED:
        return "ABORTED the run" + _why(p.get("reason"))
    if ev.type == UNDONE:
        return f"↶ undid {p.get('what', 'an action')}"
    if ev.type == ALERT:
        level = p.get("level", "")
        word = WORDS[Level(level)] if level in Level.__members__ else str(level).upper()
        return f"{word}: {p.get('message', '')}"
    if ev.type == NOTICE:
        level = p.get("level", "")
        word = WORDS[Level(level)] if level in Level.__members__ else str(level).upper()
        how = "sent by the alert hooks" if p.get("via") == "hooks" else "copied"
        return f"customer notice ({p.get('lang', '')}, {word}) {how}: {p.get('text', '')}"
    if ev.type == HOOK_FAILED:
        return f"alert hook {p.get('hook')} failed: {p.get('error')}"
    return ev.type


def _why(text: object) -> str:
    return f": {text}" if isinstance(text, str) and text.strip() else ""


def entries(state: RunState, tz: str, now: datetime) -> list[Entry]:
    """Every event of the run, oldest first."""
    starts: dict[str, datetime] = {}
    out = []
    for ev in state.log:
        who = "" if ev.type == ALERT else f"{ev.actor}@{ev.host}"
        out.append(Entry(ev.at, when(ev.at, tz, now, seconds=True), who, ev.type,
                         _text(ev, starts, tz, now), ev.seq in state.undone))
    return out


def last_action(state: RunState, now: datetime) -> str:
    """For watchers: ``last action by kim 4m ago (complete cable)``."""
    for ev in reversed(state.log):
        if ev.type in BOOKKEEPING or ev.type == ALERT:
            continue
        what = "start the run" if ev.type == RUN_STARTED else describe(ev)
        return f"last action by {ev.actor} {ago(ev.at, now)} ({what})"
    return "no action yet"
