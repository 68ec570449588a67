"""Risk levels (DESIGN §3), the no-flapping rule, and alert messages. Pure."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from runbook.engine.state import RunState
from runbook.forecast.core import Forecast
from runbook.format.durations import format_duration, format_minutes
from runbook.format.model import Level
from runbook.format.plan import Plan
from runbook.format.times import hhmm, local

RANK = {Level.on_track: 0, Level.at_risk: 1, Level.decide_now: 2, Level.late: 3}
HOLD_S = 60.0  # a better level must hold this long before it is announced

WORDS = {
    Level.on_track: "ON TRACK",
    Level.at_risk: "AT RISK",
    Level.decide_now: "DECIDE NOW",
    Level.late: "LATE",
    Level.resumed: "RESUMED",
}

ACTIONS = {
    Level.on_track: "Carry on.",
    Level.at_risk: "Prepare the contingency and brief customer service.",
    Level.decide_now: "Trigger the contingency or accept the overrun.",
    Level.late: "Announce a new resume time.",
    Level.resumed: "Finish the remaining checks.",
}


def level_for(plan: Plan, state: RunState, fc: Forecast, now: datetime) -> Level:
    """The level the numbers call for right now (before the no-flapping rule)."""
    if state.resumed:
        return Level.resumed
    if now > plan.announced:
        return Level.late
    if fc.p_on_time >= plan.policy.confidence:
        return Level.on_track
    deadline = fc.decision_deadline
    if deadline is not None and now <= deadline:
        lead = timedelta(seconds=plan.policy.decision_lead)
        return Level.decide_now if now >= deadline - lead else Level.at_risk
    return Level.late if fc.p_on_time < 0.5 else Level.at_risk


class LevelTracker:
    """Worse levels at once; a better one only after it has held for ``hold_s`` (no flapping)."""

    def __init__(self, current: Level | str = Level.on_track, hold_s: float = HOLD_S) -> None:
        self.current = Level(current)
        self.hold_s = hold_s
        self._since: datetime | None = None
        self._candidate: Level | None = None

    def update(self, raw: Level, now: datetime) -> Level | None:
        """The new level when it changes, else None."""
        if self.current == Level.resumed:
            return None
        if raw == Level.resumed or RANK[raw] > RANK[self.current]:
            return self._switch(raw)
        if raw == self.current:
            self._since = self._candidate = None
            return None
        if self._since is None or self._candidate is None:
            self._since, self._candidate = now, raw
        elif RANK[raw] > RANK[self._candidate]:
            self._candidate = raw  # announce the worst level seen while holding
        if (now - self._since).total_seconds() >= self.hold_s:
            return self._switch(self._candidate)
        return None

    def _switch(self, level: Level) -> Level:
        self.current = level
        self._since = self._candidate = None
        return level


def pct(p: float) -> str:
    """A probability as a whole percentage, rounded down: 79.6% is shown as 79%, never 80%."""
    if 0 < p < 0.01:
        return "<1%"
    return f"{math.floor(p * 100 + 1e-9)}%"


def _name(contingency: str) -> str:
    return contingency[:1].upper() + contingency[1:]


def outage_due(plan: Plan, resumed_at: datetime | None, now: datetime) -> datetime | None:
    """When a supervisor report falls due, if the overrun has crossed the reporting threshold."""
    crossing = plan.announced + timedelta(seconds=plan.policy.outage_report_after)
    end = resumed_at or now
    if end <= crossing:
        return None
    return crossing + timedelta(seconds=plan.policy.report_due_within)


def message(level: Level, plan: Plan, state: RunState, fc: Forecast, now: datetime) -> str:
    """One alert line: the numbers and the action."""
    tz = plan.timezone
    announced = hhmm(plan.announced, tz)
    numbers = f"{pct(fc.p_on_time)} on time, P90 {hhmm(fc.p90, tz)}"
    if level == Level.resumed:
        t = fc.resumed_at or now
        delta = (t - plan.announced).total_seconds()
        when = (f"{format_duration(delta)} past the announced {announced}" if delta > 0
                else f"{format_duration(-delta)} before the announced {announced}")
        text = f"Service resumed at {hhmm(t, tz)} ({when}). Finish the remaining checks."
        due = outage_due(plan, t, now)
        if due is not None:
            text += f" Outage report to the supervisor required by {_day_time(due, tz)}."
        return text
    hard = ""
    if fc.p_hard_deadline is not None and fc.p_hard_deadline < plan.policy.confidence:
        hard = (f" Hard deadline {hhmm(plan.hard_deadline, tz)} at risk: "
                f"{pct(fc.p_hard_deadline)} by then.")
    if level == Level.on_track:
        return f"On track for {announced}: {numbers}. Carry on." + hard
    contingency = ""
    if fc.decision_deadline is not None and fc.contingency is not None:
        name, need = _name(fc.contingency), format_minutes(fc.contingency_need_s or 0, up=True)
        if now <= fc.decision_deadline:
            left = format_minutes((fc.decision_deadline - now).total_seconds())
            contingency = (f" {name} needs {need}: decide by {hhmm(fc.decision_deadline, tz)} "
                           f"(in {left}).")
        else:
            contingency = (f" {name} needs {need}: too late to make {announced} with it "
                           f"(deadline {hhmm(fc.decision_deadline, tz)} passed).")
    elif state.path != "main":
        contingency = f" Contingency {state.path} is running."
    else:
        contingency = " No contingency path."
    if level == Level.at_risk:
        what = ("Prepare the contingency and brief customer service."
                if fc.decision_deadline is not None and now <= fc.decision_deadline
                else "Brief customer service and prepare a new resume time.")
        return f"Resume {announced} at risk: {numbers}.{contingency} {what}" + hard
    if level == Level.decide_now:
        return (f"Decide now: resume {announced} has {numbers}.{contingency} "
                f"Trigger {fc.contingency or 'the contingency'} or accept the overrun." + hard)
    text = f"Resume {announced} will be missed: {numbers}."
    if now > plan.announced:
        over = format_minutes((now - plan.announced).total_seconds())
        text = f"Resume {announced} missed by {over}, service still down: {numbers}."
    text += f" Announce a new resume time: {hhmm(fc.p90, tz)}."
    due = outage_due(plan, None, fc.p90)
    if due is not None:
        text += f" An outage report will be due by {_day_time(due, tz)}."
    return text + hard


def _day_time(t: datetime, tz: str) -> str:
    return local(t, tz).strftime("%Y-%m-%d %H:%M")
