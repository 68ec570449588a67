"""What the screen shows, as plain data: built from a session under its lock, read by widgets.

Pure: no Textual, no clock. Everything a person would notice on the screen (status words, the
"do now" line, variance, the timeline geometry, which step the selection should follow) is decided
here, so headless tests reach it without a terminal.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from runbook.engine import risk
from runbook.engine.clock import utc
from runbook.engine.risk import ACTIONS, WORDS, message, pct
from runbook.engine.state import (
    ABANDONED,
    COMPLETED,
    FAILED,
    PENDING,
    READY,
    RUNNING,
    SKIPPED,
    Alert,
    Note,
    RunState,
    StepState,
)
from runbook.forecast.core import Forecast
from runbook.format.durations import format_clock, format_duration, format_minutes
from runbook.format.model import Level
from runbook.format.plan import MAIN, Plan, PlanStep
from runbook.format.times import hhmm, local

# status -> (glyph, word): the word carries the meaning, the glyph helps the eye, colour is extra.
STATUS = {
    PENDING: ("·", "waiting"),
    READY: ("○", "ready"),
    RUNNING: ("▶", "RUNNING"),
    COMPLETED: ("✓", "done"),
    FAILED: ("✗", "FAILED"),
    SKIPPED: ("↷", "skipped"),
    ABANDONED: ("–", "abandoned"),
}
BAD_LEVELS = (Level.at_risk, Level.decide_now, Level.late)
RANK = {**risk.RANK, Level.resumed: 0}  # for the bell and banner: resumed is not worse


@dataclass(frozen=True)
class Row:
    """One line of the steps table."""

    step: PlanStep
    st: StepState
    critical: bool
    status: str  # "▶ RUNNING"
    planned: str  # "5m/12m" (likely / pessimistic)
    taken: str  # elapsed (running) or actual (finished), "14:03"
    variance: str  # "+9m", "-1m", "+3m!" (past pessimistic)
    over: bool  # running or finished past the pessimistic estimate

    @property
    def id(self) -> str:
        return self.step.id

    @property
    def cells(self) -> tuple[str, ...]:
        return (self.status, self.id, self.step.title, self.step.owner or "", self.planned,
                self.taken, self.variance)


@dataclass(frozen=True)
class Timeline:
    """Instants the timeline strip draws (all aware UTC)."""

    start: datetime
    announced: datetime
    now: datetime
    planned: tuple[tuple[str, datetime, datetime], ...]  # critical path, likely durations
    actual: tuple[tuple[str, datetime, datetime, str], ...]  # (id, start, end, status)
    p50: datetime | None
    p90: datetime | None
    deadline: datetime | None


@dataclass(frozen=True)
class Snapshot:
    """Everything one frame shows. Immutable; safe to hand from the worker to the UI thread."""

    seq: int  # last event folded: a frame never replaces a newer one
    now: datetime
    plan: Plan
    state: RunState  # a copy, never mutated after the snapshot was built
    run_id: str
    label: str
    level: Level
    forecast: Forecast | None
    rows: tuple[Row, ...]
    focus: str | None  # the step the selection should follow
    alerts: tuple[Alert, ...]
    notes: tuple[Note, ...]
    operators: tuple[str, ...]
    banner: str | None  # the live alert message while the level is at risk or worse
    timeline: Timeline
    contingencies: tuple[tuple[str, str, float | None], ...]  # (id, title, need_s)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def tz(self) -> str:
        return self.plan.timezone

    @property
    def word(self) -> str:
        return WORDS[self.level]

    def row(self, step_id: str | None) -> Row | None:
        for r in self.rows:
            if r.id == step_id:
                return r
        return None

    # -- header ----------------------------------------------------------------------------
    def clock_text(self) -> str:
        t = local(self.now, self.tz)
        return f"{t.strftime('%H:%M:%S')} {t.strftime('%Z')}"

    @property
    def second(self) -> datetime:
        """Now, to the whole second the clock shows (so elapsed and countdown agree with it)."""
        return self.now.replace(microsecond=0)

    def elapsed_text(self) -> str:
        start = (self.state.started_at or self.plan.start).replace(microsecond=0)
        return "T" + ("+" if self.second >= start else "") + format_clock(
            (self.second - start).total_seconds())

    def countdown_text(self) -> str:
        announced = hhmm(self.plan.announced, self.tz)
        if self.state.resumed_at is not None:
            return f"resumed {hhmm(self.state.resumed_at, self.tz)} (announced {announced})"
        left = (self.plan.announced - self.second).total_seconds()
        if left >= 0:
            return f"resume {announced} in {format_clock(left)}"
        return f"resume {announced} MISSED by {format_clock(-left)}"

    # -- forecast panel --------------------------------------------------------------------
    def resume_line(self) -> str:
        fc, tz = self.forecast, self.tz
        if fc is None:
            return "Forecast: computing…"
        if fc.resumed:
            return f"Service resumed {hhmm(fc.resumed_at, tz)}  ·  announced {hhmm(self.plan.announced, tz)}"
        return (f"Resume P50 {hhmm(fc.p50, tz)}  P90 {hhmm(fc.p90, tz)}  ·  announced "
                f"{hhmm(self.plan.announced, tz)}  ·  on time {pct(fc.p_on_time)}")

    def contingency_line(self) -> str:
        fc, tz, state = self.forecast, self.tz, self.state
        if state.path != MAIN:
            since = hhmm(state.triggered_at, tz) if state.triggered_at else "--:--"
            by = f" by {state.triggered_by}" if state.triggered_by else ""
            verb = "was triggered at" if state.finished or state.resumed else "running since"
            return f"Contingency {state.path} {verb} {since}{by}: {self.plan.path_titles[state.path]}"
        if not self.plan.contingencies:
            return "No contingency path in this runbook."
        if fc is None or fc.resumed:
            return f"Contingency available: {', '.join(self.plan.contingencies)}"
        if fc.decision_deadline is None or fc.contingency is None:
            return f"Contingency available: {', '.join(self.plan.contingencies)}"
        need = format_minutes(fc.contingency_need_s or 0, up=True)
        name = fc.contingency
        deadline = hhmm(fc.decision_deadline, tz)
        left = (fc.decision_deadline - self.second).total_seconds()
        when = f"decide by {deadline} (in {format_clock(left)})" if left >= 0 else (
            f"decision deadline {deadline} PASSED")
        if_now = ""
        if fc.p_on_time_if_triggered is not None:
            if_now = f"  ·  if triggered now {pct(fc.p_on_time_if_triggered)} on time"
        return f"{name.capitalize()} needs {need}  ·  {when}{if_now}"

    def deadline_text(self, deadline: datetime) -> str:
        """``decide by 00:16 (in 3m12s)`` or ``deadline 00:16 PASSED``."""
        left = (deadline - self.second).total_seconds()
        at = hhmm(deadline, self.tz)
        return f"decide by {at} (in {format_clock(left)})" if left >= 0 else (
            f"deadline {at} PASSED")

    def do_now(self) -> str:
        return do_now(self)

    def p_on_time(self) -> float | None:
        return None if self.forecast is None else self.forecast.p_on_time


def do_now(snap: Snapshot) -> str:
    """One line: what to do now."""
    state, fc, tz = snap.state, snap.forecast, snap.tz
    if state.aborted:
        return f"Run aborted at {hhmm(state.finished_at, tz)}: {state.abort_reason or 'no reason given'}."
    if state.finished:
        return f"Run finished at {hhmm(state.finished_at, tz)}. Export the timing log with `runbook report`."
    level = snap.level
    if level == Level.resumed:
        remaining = len([r for r in snap.rows if r.st.status not in (COMPLETED, SKIPPED, ABANDONED)])
        left = "1 step" if remaining == 1 else f"{remaining} steps"
        return f"Service is back. Finish the remaining checks ({left} left)."
    if fc is None:
        return ACTIONS[level]
    c = fc.contingency
    if level == Level.on_track:
        return "Carry on."
    if level == Level.at_risk:
        if c and fc.decision_deadline is not None and snap.now <= fc.decision_deadline:
            return (f"Prepare {c} (decide by {hhmm(fc.decision_deadline, tz)}) and brief "
                    "customer service.")
        return "Brief customer service and prepare a new resume time."
    if level == Level.decide_now:
        by = f"by {hhmm(fc.decision_deadline, tz)}" if fc.decision_deadline else "now"
        return f"Decide {by}: trigger {c or 'the contingency'} (press c) or accept the overrun."
    return f"Announce a new resume time: {hhmm(fc.p90, tz)} (P90)."


# -- rows ----------------------------------------------------------------------------------


def _signed(seconds: float) -> str:
    if abs(seconds) < 30:
        return "±0"
    return ("+" if seconds > 0 else "-") + format_duration(round(abs(seconds) / 60) * 60)


def make_row(step: PlanStep, st: StepState, now: datetime, critical: bool) -> Row:
    glyph, word = STATUS.get(st.status, ("?", st.status))
    planned = f"{format_duration(step.likely)}/{format_duration(step.pessimistic)}"
    taken, variance, over = "", "", False
    if st.started_at is not None:
        took = st.elapsed_s(now)
        taken = format_clock(took)
        if st.status in (COMPLETED, SKIPPED) and st.finished_at is not None:
            variance = _signed(took - step.likely)
            over = took > step.pessimistic
        elif st.status in (RUNNING, FAILED):
            variance = _signed(took - step.likely) if took > step.likely else ""
            over = took > step.pessimistic
        if over:
            variance += "!"
    if st.status == FAILED and st.failures:
        word = f"FAILED×{st.failures}" if st.failures > 1 else word
    return Row(step, st, critical, f"{glyph} {word}", planned, taken, variance, over)


def visible_steps(plan: Plan, state: RunState) -> list[PlanStep]:
    """Main steps, and the running contingency's steps once it was triggered."""
    return [s for s in plan.steps if s.path == MAIN or s.path == state.path]


def focus_step(state: RunState, rows: tuple[Row, ...]) -> str | None:
    """The step the selection follows: a failed step (it needs a decision), else the first
    running one (space completes it), else the first ready one."""
    for want in (FAILED, RUNNING, READY):
        for r in rows:
            if r.st.status == want and r.step.path == state.path:
                return r.id
    return rows[-1].id if rows else None


# -- timeline --------------------------------------------------------------------------------


def planned_schedule(plan: Plan, path: list[str]) -> tuple[tuple[str, float, float], ...]:
    """Early start/finish (seconds from window start) with likely durations, for ``path``."""
    schedule = plan.likely_schedule(MAIN)
    return tuple((sid, *schedule[plan.by_id[sid].index]) for sid in path
                 if plan.by_id[sid].index in schedule)


def planned_instants(plan: Plan, schedule: tuple[tuple[str, float, float], ...]
                     ) -> tuple[tuple[str, datetime, datetime], ...]:
    """The planned schedule as instants (computed once per run)."""
    start = utc(plan.start)
    return tuple((sid, start + timedelta(seconds=a), start + timedelta(seconds=b))
                 for sid, a, b in schedule)


def make_timeline(plan: Plan, state: RunState, now: datetime, fc: Forecast | None,
                  planned: tuple[tuple[str, datetime, datetime], ...]) -> Timeline:
    actual = []
    for s in plan.steps:
        st = state.steps[s.id]
        if st.started_at is None:
            continue
        end = st.finished_at or (now if st.status in (RUNNING, FAILED) else st.started_at)
        actual.append((s.id, st.started_at, end, st.status))
    p50 = p90 = None
    if fc is not None and not fc.resumed:
        p50, p90 = fc.p50, fc.p90
    return Timeline(utc(plan.start), utc(plan.announced), now, planned, tuple(actual), p50, p90,
                    fc.decision_deadline if fc is not None else None)


TIMELINE_LABEL = 7


def timeline_rows(tl: Timeline, width: int) -> tuple[str, str, str]:
    """Three text rows: planned bars, actual bars with the forecast tail, and the marker axis.

    Characters carry the meaning (colour is added by the widget): planned ``━``/``─`` alternate
    per step, actual ``█``/``▆`` alternate per step, a running step is ``▒``, the forecast to P50
    is ``░`` and P50 to P90 ``·``; ``│`` marks the announced resume, ``▲`` now, ``D`` the decision
    deadline.
    """
    width = max(width - TIMELINE_LABEL, 10)
    ends = [tl.announced, tl.now] + [b for _, _, b in tl.planned] + [b for _, _, b, _ in tl.actual]
    if tl.p90:
        ends.append(tl.p90)
    t0 = min([tl.start, tl.now] + [a for _, a, _, _ in tl.actual])
    t1 = max(ends)
    span = max((t1 - t0).total_seconds() * 1.04, 60.0)

    def col(t: datetime) -> int:
        return max(0, min(width - 1, int((t - t0).total_seconds() / span * width)))

    plan_row = [" "] * width
    for n, (_sid, a, b) in enumerate(tl.planned):
        for c in range(col(a), max(col(a) + 1, col(b))):
            plan_row[c] = "━" if n % 2 == 0 else "─"
    act = [" "] * width
    for n, (_sid, a, b, status) in enumerate(tl.actual):
        ch = "▒" if status in (RUNNING, FAILED) else ("█" if n % 2 == 0 else "▆")
        if status == ABANDONED:
            ch = "╌"
        for c in range(col(a), max(col(a) + 1, col(b))):
            act[c] = ch
    if tl.p50 is not None and tl.p90 is not None:
        n0 = col(tl.now)
        for c in range(n0, col(tl.p50) + 1):
            if act[c] == " ":
                act[c] = "░"
        for c in range(max(n0, col(tl.p50) + 1), col(tl.p90) + 1):
            if act[c] == " ":
                act[c] = "·"
    axis = [" "] * width
    a_col, n_col = col(tl.announced), col(tl.now)
    for row in (plan_row, act):
        if row[a_col] == " ":
            row[a_col] = "│"
    # markers first (now wins a shared cell), then each word beside its marker where it fits
    markers = [(a_col, "│", "resume"), (n_col, "▲", "now")]
    if tl.deadline is not None and t0 <= tl.deadline <= t1:
        markers.insert(0, (col(tl.deadline), "D", ""))
    for c, mark, _ in markers:
        axis[c] = mark
    for c, _, word in reversed(markers):
        if not word:
            continue
        for start in (c + 1, c - len(word)):
            cells = range(start, start + len(word))
            gap = [k for k in (start - 1, start + len(word)) if 0 <= k < width and k != c]
            if (start >= 0 and cells[-1] < width and all(axis[k] == " " for k in cells)
                    and all(axis[k] == " " for k in gap)):
                axis[start:start + len(word)] = list(word)
                break
    return ("plan".ljust(TIMELINE_LABEL) + "".join(plan_row),
            "actual".ljust(TIMELINE_LABEL) + "".join(act),
            " " * TIMELINE_LABEL + "".join(axis))


# -- building ------------------------------------------------------------------------------


def copy_state(state: RunState) -> RunState:
    """A copy the UI thread can read while the worker folds new events into the original."""
    copy = dataclasses.replace(state, steps=dict(state.steps), operators=list(state.operators),
                               alerts=list(state.alerts), notes=list(state.notes))
    copy.revision = state.revision
    return copy


class RowCache:
    """Rows of steps that are not running do not change with the clock: build them once."""

    def __init__(self) -> None:
        self._rows: dict[str, Row] = {}

    def row(self, step: PlanStep, st: StepState, now: datetime, critical: bool) -> Row:
        cached = self._rows.get(step.id)
        if cached is not None and cached.st is st and cached.critical == critical:
            return cached
        row = make_row(step, st, now, critical)
        if st.status not in (RUNNING, FAILED):
            self._rows[step.id] = row
        return row


def build(plan: Plan, state: RunState, *, now: datetime, level: Level, forecast: Forecast | None,
          run_id: str, label: str, critical: frozenset[str],
          planned: tuple[tuple[str, datetime, datetime], ...],
          needs: dict[str, float] | None = None, rows: RowCache | None = None) -> Snapshot:
    state = copy_state(state)
    cache = rows or RowCache()
    rows = tuple(cache.row(s, state.steps[s.id], now, s.id in critical)
                 for s in visible_steps(plan, state))
    banner = None
    if forecast is not None and level in BAD_LEVELS and not state.finished:
        banner = message(level, plan, state, forecast, now)
    needs = needs or {}
    return Snapshot(
        seq=state.last_seq, now=now, plan=plan, state=state, run_id=run_id, label=label,
        level=level, forecast=forecast, rows=rows, focus=focus_step(state, rows),
        alerts=tuple(state.alerts), notes=tuple(state.notes), operators=tuple(state.operators),
        banner=banner, timeline=make_timeline(plan, state, now, forecast, planned),
        contingencies=tuple((c, plan.path_titles[c], needs.get(c)) for c in plan.contingencies),
    )


def option_text(snap: Snapshot, contingency: str) -> str:
    """A contingency as it stands now: its title, what it needs, its deadline, and the chance
    of resuming on time if it were triggered now."""
    title = snap.plan.path_titles.get(contingency, contingency)
    fc = snap.forecast
    opt = next((o for o in (fc.options if fc is not None else ()) if o.contingency == contingency),
               None)
    if opt is None:
        return f"{contingency}: {title}"
    return (f"{contingency}: {title}\n  needs {format_minutes(opt.need_s, up=True)} · "
            f"{snap.deadline_text(opt.deadline)} · if triggered now "
            f"{pct(opt.p_on_time_if_triggered)} on time")
