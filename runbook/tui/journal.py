"""The run's journal for ``l``: every event as a line, who did it from which host. Pure.

Starts, completions, failures and skips with their reasons, triggers, notes with their step,
alerts, undos (and what they undid, marked), joins and reattaches, the abort.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property

from rich.cells import cell_len

from runbook.engine.risk import word
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
    alert_text,
)
from runbook.engine.undo import describe, undid
from runbook.format.durations import format_clock
from runbook.format.model import Level
from runbook.format.safe import terminal
from runbook.format.times import local, when
from runbook.i18n import N_, _


@dataclass(frozen=True)
class Entry:
    at: datetime
    time: str  # as shown: 00:12:03, 02:00:10 +1d
    who: str  # kim@ops-01 ("" for the tool's own alerts)
    kind: str  # the event type (the widget styles alerts, failures, undos)
    text: str
    undone: bool = False

    @property
    def parts(self) -> tuple[tuple[str, str], ...]:
        """The entry as (text, style) parts as the timeline shows it: time, who, what (struck
        through once undone); the widget resolves the styles."""
        style = "dim strike" if self.undone else KIND_STYLE.get(self.kind, "")
        return ((self.time, "dim"), (" ", ""), (f"{self.who} " if self.who else "", "dim"),
                (self.text + (_(" (undone)") if self.undone else ""), style))

    @cached_property
    def cells(self) -> int:
        """Terminal cells the entry takes on one line; -1 when it has more than one line."""
        text = "".join(terminal(t) for t, _s in self.parts)
        return -1 if "\n" in text else cell_len(text)  # as Textual measures it when wrapping


KIND_STYLE = {"alert": "bold", "step_failed": "bold $text-error",
              "run_aborted": "bold $text-error", "contingency_triggered": "bold $text-warning",
              "action_undone": "italic"}


def _text(ev: EventLike, starts: dict[str, datetime], tz: str, now: datetime,
          state: RunState) -> str:
    p, step = ev.payload, ev.step
    if ev.type == RUN_STARTED:
        label = p.get("label", "live")
        return _("started the run ({label})").format(label=_(LABELS.get(label, label)))
    if ev.type == OPERATOR_JOINED:
        return _("reattached to the run") if p.get("resumed") else _("joined the run")
    if ev.type == STEP_STARTED:
        again = step in starts
        starts.setdefault(step or "", ev.at)
        return "▶ " + (_("retried {step}") if again else _("started {step}")).format(
            step=step) + _why(p.get("note"))
    if ev.type == STEP_COMPLETED:
        first = starts.get(step or "")
        if first:
            text = _("completed {step} in {took}").format(
                step=step, took=format_clock((ev.at - first).total_seconds()))
        else:
            text = _("completed {step}").format(step=step)
        return "✓ " + text + _why(p.get("note"))
    if ev.type == STEP_FAILED:
        return "✗ " + _("{step} FAILED").format(step=step) + _why(p.get("note"))
    if ev.type == STEP_SKIPPED:
        return "↷ " + _("skipped {step}").format(step=step) + _why(p.get("reason"))
    if ev.type == NOTE:
        return (_("note on {step}: {text}") if step else _("note: {text}")).format(
            step=step, text=p.get("text", ""))
    if ev.type == CONTINGENCY_TRIGGERED:
        return "⚑ " + _("TRIGGERED {contingency}").format(
            contingency=p.get("contingency")) + _why(p.get("note"))
    if ev.type == RUN_FINISHED:
        return _("finished the run (last step done)") if p.get("auto") else \
            _("finished the run")
    if ev.type == RUN_ABORTED:
        return _("ABORTED the run") + _why(p.get("reason"))
    if ev.type == UNDONE:
        return "↶ " + _("undid {what}").format(what=undid(state, ev))
    if ev.type == ALERT:
        level = p.get("level", "")
        shown = word(level) if level in Level.__members__ else str(level).upper()
        return f"{shown}: {alert_text(p)}"
    if ev.type == NOTICE:
        level = p.get("level", "")
        shown = word(level) if level in Level.__members__ else str(level).upper()
        text = (_("customer notice ({lang}, {level}) sent by the alert hooks: {text}")
                if p.get("via") == "hooks" else
                _("customer notice ({lang}, {level}) copied: {text}"))
        return text.format(lang=p.get("lang", ""), level=shown, text=p.get("text", ""))
    if ev.type == HOOK_FAILED:
        return _("alert hook {hook} failed: {error}").format(hook=p.get("hook"),
                                                            error=p.get("error"))
    return ev.type


LABELS = {"live": N_("live"), "rehearsal": N_("rehearsal"), "history": N_("history")}


def _why(text: object) -> str:
    return f": {text}" if isinstance(text, str) and text.strip() else ""


def entries(state: RunState, tz: str, now: datetime) -> list[Entry]:
    """Every event of the run, oldest first."""
    return list(Journal(tz).update(state, now))


class Journal:
    """The journal of one run, kept up to date as events arrive (by the refresh, off the UI
    thread): a new event adds its entry, an undo marks the entries it reverted, and a new local
    day rewrites the times (``02:00:10 +1d`` becomes ``02:00:10``). Nothing else is redone, so a
    refresh costs what changed, not the length of the run."""

    def __init__(self, tz: str) -> None:
        self.tz = tz
        self._entries: list[Entry] = []
        self._index: dict[int, int] = {}  # seq -> position in _entries
        self._starts: dict[str, datetime] = {}
        self._undone: set[int] = set()
        self._day: date | None = None
        self._shown: tuple[Entry, ...] = ()

    def update(self, state: RunState, now: datetime) -> tuple[Entry, ...]:
        """Every event of ``state`` (a fold that only grows), oldest first."""
        entries, tz = self._entries, self.tz
        changed = False
        day = local(now, tz).date()
        if day != self._day:  # times are written relative to today
            self._day = day
            entries[:] = [dataclasses.replace(e, time=when(e.at, tz, now, seconds=True))
                          for e in entries]
            changed = True
        for ev in state.log[len(entries):]:
            who = "" if ev.type == ALERT else f"{ev.actor}@{ev.host}"
            self._index[ev.seq] = len(entries)
            entry = Entry(ev.at, when(ev.at, tz, now, seconds=True), who, ev.type,
                          _text(ev, self._starts, tz, now, state), False)
            entry.cells  # noqa: B018 (measured here, off the UI thread)
            entries.append(entry)
            changed = True
        if len(state.undone) != len(self._undone):
            for seq in state.undone.keys() - self._undone:
                self._undone.add(seq)
                k = self._index.get(seq)
                if k is not None:
                    entries[k] = dataclasses.replace(entries[k], undone=True)
                    changed = True
        if changed:
            self._shown = tuple(entries)
        return self._shown


def last_action(state: RunState, now: datetime) -> str:
    """For watchers: ``last action by kim 4m ago (complete cable)``."""
    for ev in reversed(state.log):
        if ev.type in BOOKKEEPING or ev.type == ALERT:
            continue
        what = _("start the run") if ev.type == RUN_STARTED else describe(ev)
        return _("last action by {who} {ago} ({what})").format(who=ev.actor,
                                                              ago=ago(ev.at, now), what=what)
    return _("no action yet")
