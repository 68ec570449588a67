"""``--start now|TIME``: the whole window moved in time, its durations kept.

Teams rehearse today a plan scheduled for Saturday, and replay last week's window now. The start,
the announced resume and the hard deadline move by the same amount of time (instants, so a DST
change in between keeps every duration); steps, estimates and the file's text stay as they are,
so line numbers in messages still point into the file.

A run records the move in its meta (:func:`run_meta`): ``window_start`` (where the window was
moved to) and ``planned_window_start`` (the file's), both ISO 8601. Everything that rebuilds a
run's plan from its stored text (reports, ``runs``, a resumed or watched run) goes through
:func:`load_recorded`, so it sees the window the operators saw.

Events scripts under ``--start``: times in a script are read in the plan's calendar and move with
the window. An offset (``at: 19m``) counts from the script's ``start:``, which moves by the shift
(or is the moved window start when absent); an absolute ``at:`` time moves by the shift too. So a
script keeps meaning what it meant against the plan it was written for.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any, Protocol

from runbook.format.durations import duration_text, format_duration
from runbook.format.loader import Loaded, load_text
from runbook.format.model import localise
from runbook.format.times import local
from runbook.i18n import DEFAULT, _, current

FAR_AHEAD = timedelta(days=1)  # `run` asks first when the window starts further away than this


class StartError(ValueError):
    """A --start value that is not `now` or a time."""


def parse_start(text: str, timezone: str, now: datetime) -> datetime:
    """``now`` (the given clock reading, to the second) or an ISO 8601 time, naive times local
    to the runbook's zone."""
    if text.strip().lower() == "now":
        return now.replace(microsecond=0)
    try:
        return localise(text, timezone)
    except ValueError as e:
        raise StartError(_("--start {value}: {problem}; or write --start now").format(
            value=text, problem=e)) from None


def shifted(loaded: Loaded, start: datetime | None) -> Loaded:
    """``loaded`` with its window moved to begin at ``start`` (durations kept); unchanged when
    ``start`` is None or already the window start."""
    if start is None or start == loaded.plan.start:
        return loaded
    window = loaded.runbook.window
    delta = start - window.start
    moved = window.model_copy(update={
        "start": start,
        "announced_resume": window.announced_resume + delta,
        "hard_deadline": None if window.hard_deadline is None else window.hard_deadline + delta,
    })
    runbook = loaded.runbook.model_copy(update={"window": moved})
    plan = dataclasses.replace(loaded.plan, runbook=runbook)
    planned = loaded.planned_start or window.start
    return dataclasses.replace(loaded, runbook=runbook, plan=plan,
                               planned_start=None if start == planned else planned)


def run_meta(loaded: Loaded) -> dict[str, Any]:
    """What a new run records about a moved window (nothing when it was not moved)."""
    if loaded.planned_start is None:
        return {}
    return {"window_start": loaded.plan.start.isoformat(),
            "planned_window_start": loaded.planned_start.isoformat()}


def recorded_start(meta: dict[str, Any] | None) -> datetime | None:
    """The window start a run recorded (``--start``), if it moved the window."""
    value = (meta or {}).get("window_start")
    if not isinstance(value, str):
        return None
    try:
        start = datetime.fromisoformat(value)
    except ValueError:
        return None
    return start if start.tzinfo is not None else None


class _Recorded(Protocol):
    source_text: str
    source_name: str | None
    runbook_id: str
    meta: dict[str, Any]


def load_recorded(info: _Recorded) -> Loaded:
    """A run's plan from its stored runbook text, with the window the run was started with."""
    loaded = load_text(info.source_text, info.source_name or "<stored runbook>",
                       default_id=info.runbook_id)
    return shifted(loaded, recorded_start(info.meta))


def describe_shift(loaded: Loaded) -> str | None:
    """'by --start from the planned 2026-11-25 00:00 (+4d14h3m); durations kept', or None."""
    if loaded.planned_start is None:
        return None
    tz = loaded.plan.timezone
    delta = loaded.shift.total_seconds()
    sign = "+" if delta >= 0 else "-"
    return _("by --start from the planned {planned} ({shift}); durations kept").format(
        planned=_day_time(loaded.planned_start, tz), shift=sign + _span(abs(delta)))


def timing(loaded: Loaded, now: datetime) -> str | None:
    """Why starting this window now needs a question: 'over' (past the announced resume) or
    'far' (it starts more than FAR_AHEAD from now); None when now is a fair time to run it."""
    plan = loaded.plan
    if now > plan.announced:
        return "over"
    if plan.start - now > FAR_AHEAD:
        return "far"
    return None


def timing_message(loaded: Loaded, now: datetime) -> str | None:
    """One sentence on a window that is over or far away, for `check` and `run`."""
    plan = loaded.plan
    tz = plan.timezone
    window = _("{start} to {end} ({zone})").format(start=_day_time(plan.start, tz),
                                                    end=_day_time(plan.announced, tz), zone=tz)
    kind = timing(loaded, now)
    if kind == "over":
        ago = _span((now - plan.announced).total_seconds())
        return _("The window {window} is over: its announced resume was {ago} ago.").format(
            window=window, ago=ago)
    if kind == "far":
        ahead = _span((plan.start - now).total_seconds())
        return _("The window {window} starts in {ahead}.").format(window=window, ahead=ahead)
    return None


def _day_time(t: datetime, timezone: str) -> str:
    return local(t, timezone).strftime("%Y-%m-%d %H:%M")


def _span(seconds: float) -> str:
    """'4d14h3m', '3h20m', '45m' (whole minutes, rounded down); '4일 14시간 3분' in Korean."""
    days, rest = divmod(int(seconds // 60), 24 * 60)
    if current() != DEFAULT:
        parts = [_("{n}d").format(n=days)] if days else []
        if rest:
            parts.append(duration_text(rest * 60))
        return " ".join(parts) or duration_text(0)
    text = format_duration(rest * 60) if rest else ""
    return (f"{days}d" if days else "") + text if days or rest else "0m"
