"""What the screen shows, as plain data: built from a session under its lock, read by widgets.

Pure: no Textual, no clock. Everything a person would notice on the screen (status words, the
"do now" line, variance, dates, which step the selection should follow) is decided here, so
headless tests reach it without a terminal. The timeline strip's geometry is in timeline.py, the
run's journal (``l``) in journal.py.

Every time shown goes through :func:`runbook.format.times.when` with the frame's ``now`` as
reference: ``00:40`` today, ``02:00 +1d`` tomorrow, ``12-01 04:40`` further, the zone where a DST
fall-back repeats the wall clock. Countdowns under two minutes are in seconds.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from runbook.engine import risk
from runbook.engine.notices import Notice
from runbook.engine.notices import notice as notice_for_level
from runbook.engine.risk import message, pct, report_obligation, word
from runbook.engine.state import (
    ABANDONED,
    COMPLETED,
    DONE,
    FAILED,
    READY,
    RUN_ABORTED,
    RUNNING,
    SKIPPED,
    Alert,
    Note,
    RunState,
)
from runbook.forecast.core import Forecast
from runbook.format.cells import width as cell_width
from runbook.format.durations import duration_text, format_clock, format_minutes, format_until
from runbook.format.model import Level
from runbook.format.plan import MAIN, Plan
from runbook.format.times import local, when
from runbook.i18n import _, ngettext
from runbook.tui.journal import Entry, Journal
from runbook.tui.rows import (
    STATUS,
    Row,
    RowCache,
    focus_step,
    make_row,
    most_cells,
)
from runbook.tui.timeline import Timeline, make_timeline, timeline_rows

__all__ = ["STATUS", "Row", "RowCache", "Snapshot", "build", "do_now", "make_row"]

BAD_LEVELS = (Level.at_risk, Level.decide_now, Level.late)
RANK = {**risk.RANK, Level.resumed: 0}  # for the bell and banner: resumed is not worse


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
    warnings: tuple[str, ...] = ()  # what is wrong with this host or the store
    notice: Notice | None = None  # the customer notice for the level shown (runbook comms:)
    journal: tuple[Entry, ...] = ()  # every event as the timeline (l) shows it, oldest first
    ids: tuple[str, ...] = ()  # the rows' step ids, in order
    index: dict[str, int] = dataclasses.field(default_factory=dict)  # step id -> row
    cell_widths: dict[str, int] = dataclasses.field(default_factory=dict)  # see rows.most_cells
    counts: dict[str, int] | None = None  # rows per status (None: count them)
    # the timeline's rows by width (timeline_rows): made by the worker that built the snapshot
    drawn: dict[int, tuple[str, str, str]] = dataclasses.field(
        default_factory=dict, init=False, compare=False, repr=False)

    @property
    def tz(self) -> str:
        return self.plan.timezone

    def timeline_rows(self, width: int) -> tuple[str, str, str]:
        """The timeline's three rows at ``width`` cells, made once: the worker that builds the
        snapshot makes them for the screen's width (see :attr:`Desk.timeline_width`), so the UI
        thread only draws them (at 10,000 steps: 10-20 ms of the frame that shows an action)."""
        rows = self.drawn.get(width)
        if rows is None:
            rows = self.drawn[width] = timeline_rows(self.timeline, width)
        return rows

    def at(self, instant: datetime | None, *, seconds: bool = False) -> str:
        """A time as this frame shows it (dated when not on today's local date)."""
        return when(instant, self.tz, self.now, seconds=seconds)

    @property
    def word(self) -> str:
        """The level, or the run's final state once it has ended: one word."""
        if self.state.aborted:
            return _("ABORTED")
        if self.state.finished:
            return _("FINISHED")
        return word(self.level)

    def row(self, step_id: str | None) -> Row | None:
        k = self.index.get(step_id) if step_id is not None else None
        return None if k is None else self.rows[k]

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

    def progress_text(self) -> str:
        """``7/14 steps``: done (completed or skipped) of the steps the run now needs (main
        steps, or after a trigger the main steps done before it plus the contingency's)."""
        counts = self.status_counts()
        need = len(self.rows) - counts.get(ABANDONED, 0)
        done = sum(counts.get(s, 0) for s in DONE)
        return ngettext("{done}/{total} step", "{done}/{total} steps", need).format(
            done=done, total=need)

    def status_counts(self) -> dict[str, int]:
        """Rows per status (kept by the refresh as rows change)."""
        if self.counts is None:
            return Counter(r.st.status for r in self.rows)
        return self.counts

    def header_text(self, width: int) -> str:
        """The header's middle for a terminal ``width`` wide, so the level word is never cut:
        the clock first, then the countdown, the progress and the elapsed time while they fit
        (8 columns stay for the title). Measured in cells: Hangul takes two."""
        room = width - cell_width(self.word) - 2 - 8
        parts = {"clock": self.clock_text(), "elapsed": self.elapsed_text(),
                 "countdown": self.countdown_text(), "progress": self.progress_text()}
        chosen: set[str] = set()
        used = 0
        for key in ("clock", "countdown", "progress", "elapsed"):
            if used + cell_width(parts[key]) + 2 > room:
                break  # in order of importance: never a lesser part instead of a greater
            chosen.add(key)
            used += cell_width(parts[key]) + 2
        shown = [parts[k] for k in ("clock", "elapsed", "countdown", "progress") if k in chosen]
        return "  ".join(shown) + " " if shown else ""

    def overrun_text(self) -> str:
        """At resume: ``6m34s late; outage report due 12-01 00:10`` or ``2m before 00:40``."""
        resumed = self.state.resumed_at
        if resumed is None:
            return ""
        late = (resumed - self.plan.announced).total_seconds()
        announced = self.at(self.plan.announced)
        if late <= 0:
            return _("{early} before the announced {announced}").format(
                early=duration_text(-late), announced=announced)
        text = _("{late} late").format(late=duration_text(late))
        ob = report_obligation(self.plan, resumed, self.now)
        if ob.due is not None:
            text += _("; {report} due {due}").format(report=ob.label,
                                                     due=when(ob.due, self.tz, self.now))
        return text

    def report_lines(self) -> list[str]:
        """Once service is back late under a named rule: the rule and every deadline, e.g.
        ``eu-dora: initial notification by 06:10, intermediate report by 11-28 06:10, ...``."""
        resumed = self.state.resumed_at
        if resumed is None:
            return []
        ob = report_obligation(self.plan, resumed, self.now)
        if not ob.named:
            return []
        if ob.due is None:
            why = ob.basis or _("below {threshold}").format(threshold=ob.threshold_text)
            return [_("{rule}: no report ({why})").format(rule=ob.rule, why=why)]
        dates = ", ".join(_("{name} by {time}").format(name=_(d.name),
                                                       time=when(d.due, self.tz, self.now))
                          for d in ob.deadlines)
        return [f"{ob.rule} ({ob.title}): {dates}"]

    def countdown_text(self) -> str:
        announced = self.at(self.plan.announced)
        if self.state.resumed_at is not None:
            return _("resumed {time}, {overrun}").format(time=self.at(self.state.resumed_at),
                                                         overrun=self.overrun_text())
        left = (self.plan.announced - self.second).total_seconds()
        if left >= 0:
            return _("resume {announced} in {left}").format(announced=announced,
                                                            left=format_clock(left))
        return _("resume {announced} MISSED by {over}").format(announced=announced,
                                                               over=format_clock(-left))

    # -- forecast panel --------------------------------------------------------------------
    def resume_line(self) -> str:
        fc, state = self.forecast, self.state
        announced = self.at(self.plan.announced)
        if state.aborted:
            who = next((e.actor for e in reversed(state.log) if e.type == RUN_ABORTED), None)
            by = _(" by {who}").format(who=who) if who else ""
            return _("Run ABORTED at {time}{by}  ·  no resume forecast  ·  announced "
                     "{announced}").format(time=self.at(state.finished_at), by=by,
                                           announced=announced)
        if state.finished and state.resumed_at is None:
            return _("Run finished at {time} without the resuming step  ·  announced "
                     "{announced}").format(time=self.at(state.finished_at), announced=announced)
        if fc is None:
            return _("Forecast: computing…")
        if fc.resumed:
            return _("Service resumed {time}  ·  announced {announced}  ·  {overrun}").format(
                time=self.at(fc.resumed_at), announced=announced, overrun=self.overrun_text())
        return _("Resume P50 {p50}  P90 {p90}  ·  announced {announced}  ·  on time {p}").format(
            p50=self.at(fc.p50), p90=self.at(fc.p90), announced=announced, p=pct(fc.p_on_time))

    def notice_line(self) -> str:
        """``Customer notice (ko, LATE): ...`` while the level has one."""
        n = self.notice
        if n is None:
            return ""
        return _("Customer notice ({lang}, {level}): {text}").format(
            lang=n.lang, level=word(n.level), text=n.text)

    def contingency_lines(self) -> list[str]:
        """One line per contingency on the main path (its need, deadline and outcome if
        triggered now), or the one that is running."""
        fc, state = self.forecast, self.state
        if state.path != MAIN:
            since = self.at(state.triggered_at) if state.triggered_at else "--:--"
            by = _(" by {who}").format(who=state.triggered_by) if state.triggered_by else ""
            text = (_("{name} was triggered at {time}{by}: {title}") if state.finished
                    or state.resumed else _("{name} TRIGGERED at {time}{by}: {title}"))
            return [text.format(name=state.path.capitalize(), time=since, by=by,
                                title=self.plan.path_titles[state.path])]
        if not self.plan.contingencies:
            return [_("No contingency path in this runbook.")]
        if state.finished:
            return [_("No contingency was triggered.")]
        if fc is None or fc.resumed or not fc.options:
            return [_("Contingency available: {names}").format(
                names=", ".join(self.plan.contingencies))]
        return [_("{name} needs {need}  ·  {deadline}  ·  if triggered now {p} on time").format(
            name=o.contingency.capitalize(), need=format_minutes(o.need_s, up=True),
            deadline=self.deadline_text(o.deadline), p=pct(o.p_on_time_if_triggered))
            for o in fc.options]

    def contingency_line(self) -> str:
        return "  │  ".join(self.contingency_lines())

    def deadline_text(self, deadline: datetime) -> str:
        """``decide by 00:16 (in 57s)`` or ``deadline 00:16 PASSED``."""
        left = (deadline - self.second).total_seconds()
        if left >= 0:
            return _("decide by {deadline} (in {left})").format(deadline=self.at(deadline),
                                                                left=format_until(left))
        return _("deadline {deadline} PASSED").format(deadline=self.at(deadline))

    def do_now(self) -> str:
        return do_now(self)

    def p_on_time(self) -> float | None:
        return None if self.forecast is None else self.forecast.p_on_time


# -- what to do now --------------------------------------------------------------------------


def level_action(snap: Snapshot) -> str:
    """What the level asks for now: the alerts' own wording (risk.do_now), naming the key."""
    return risk.do_now(snap.level, snap.plan, snap.state, snap.forecast, snap.now,
                       trigger_key="c")


def do_now(snap: Snapshot) -> str:
    """One line: what to do now. The run's own facts first (ended, a failed step, a trigger
    just made, service back), then what the level asks for."""
    return run_fact(snap) or level_action(snap)


def run_fact(snap: Snapshot) -> str | None:
    """What the run itself asks for, whatever the level: it has ended, a step has failed, a
    contingency was just triggered, service is back. None when only the level speaks (then the
    banner, when up, says it)."""
    state = snap.state
    if state.aborted:
        return _("Run ABORTED at {time}: {reason}. Export the timing log with `runbook report`."
                 ).format(time=snap.at(state.finished_at),
                          reason=state.abort_reason or _("no reason given"))
    if state.finished:
        return _("Run finished at {time}. Export the timing log with `runbook report`.").format(
            time=snap.at(state.finished_at))
    if snap.level == Level.resumed or state.resumed:
        counts = snap.status_counts()
        remaining = len(snap.rows) - sum(counts.get(s, 0) for s in (COMPLETED, SKIPPED, ABANDONED))
        return ngettext("Service is back, {overrun}. Finish the remaining checks ({n} step left).",
                        "Service is back, {overrun}. Finish the remaining checks ({n} steps left).",
                        remaining).format(overrun=snap.overrun_text(), n=remaining)
    failed = [r for r in snap.rows if r.st.status == FAILED and r.step.path == state.path] \
        if snap.status_counts().get(FAILED) else []
    if failed:
        r = failed[0]
        why = r.st.notes[-1].text if r.st.notes and r.st.notes[-1].at == r.st.failed_at else ""
        more = ""
        if state.path == MAIN and snap.plan.contingencies:
            conts = snap.plan.contingencies
            more = (_(", or c triggers {name}").format(name=conts[0]) if len(conts) == 1
                    else _(", or c triggers a contingency"))
        return _("{step} FAILED at {time}{why}: s retries it, k skips it{more}.").format(
            step=r.id, time=snap.at(r.st.failed_at), why=f" ({why})" if why else "", more=more)
    if fresh_trigger(state):
        first = next(iter(state.ids(READY, path=state.path)), None)
        if first:
            return _("{name} triggered: start it now: space starts {step}.").format(
                name=state.path.capitalize(), step=first)
        return _("{name} triggered: start it now.").format(name=state.path.capitalize())
    return None


def fresh_trigger(state: RunState) -> bool:
    """A contingency was triggered and none of its steps has started yet: the screen
    acknowledges the trigger (the level's old advice would tell them to trigger it)."""
    return (state.path != MAIN and not state.finished
            and not state.ids(RUNNING, COMPLETED, FAILED, SKIPPED, path=state.path))


def option_text(snap: Snapshot, contingency: str) -> str:
    """A contingency as it stands now (the picker): its title, what it needs, its deadline, and
    the chance of resuming on time if it were triggered now."""
    title = snap.plan.path_titles.get(contingency, contingency)
    fc = snap.forecast
    opt = next((o for o in (fc.options if fc is not None else ()) if o.contingency == contingency),
               None)
    if opt is None:
        return f"{contingency}: {title}"
    return f"{contingency}: {title}\n  " + _(
        "needs {need} · {deadline} · if triggered now {p} on time").format(
        need=format_minutes(opt.need_s, up=True), deadline=snap.deadline_text(opt.deadline),
        p=pct(opt.p_on_time_if_triggered))


# -- building ------------------------------------------------------------------------------


def build(plan: Plan, state: RunState, *, now: datetime, level: Level, forecast: Forecast | None,
          run_id: str, label: str, critical: frozenset[str],
          planned: tuple[tuple[str, datetime, datetime], ...],
          needs: dict[str, float] | None = None, rows: RowCache | None = None,
          warnings: tuple[str, ...] = (), notice_lang: str = "en",
          journal: Journal | None = None) -> Snapshot:
    entries = (journal or Journal(plan.timezone)).update(state, now)
    state = state.copy()  # the UI thread reads it while the worker folds new events
    cache = rows or RowCache()
    rows = cache.rows(plan, state, now, critical)
    banner = None
    if forecast is not None and level in BAD_LEVELS and not state.finished \
            and not fresh_trigger(state):  # the do-now line acknowledges the trigger instead
        banner = message(level, plan, state, forecast, now)
    needs = needs or {}
    return Snapshot(
        seq=state.last_seq, now=now, plan=plan, state=state, run_id=run_id, label=label,
        level=level, forecast=forecast, rows=rows, focus=focus_step(state, rows),
        alerts=tuple(state.alerts), notes=tuple(state.notes), operators=tuple(state.operators),
        banner=banner, timeline=make_timeline(plan, state, now, forecast, planned),
        contingencies=tuple((c, plan.path_titles[c], needs.get(c)) for c in plan.contingencies),
        warnings=warnings,
        notice=None if state.finished and not state.resumed else
        notice_for_level(plan, level, state, forecast, notice_lang),
        journal=entries, ids=cache.ids, index=cache.index, counts=dict(cache.counts),
        cell_widths=most_cells(rows),
    )


def store_warnings(skew_s: float | None, down_since: datetime | None, tz: str,
                   now: datetime) -> tuple[str, ...]:
    """What the screen must say about the store: this host's clock off from the store's by
    more than 5 s (its times are then off too), or the store unreachable."""
    out = []
    if skew_s is not None and abs(skew_s) > 5:
        text = (_("this host's clock is {skew} behind the store's") if skew_s > 0
                else _("this host's clock is {skew} ahead of the store's"))
        out.append(text.format(skew=duration_text(abs(skew_s))))
    if down_since is not None:
        out.append(_("store unreachable since {time}").format(
            time=when(down_since, tz, now, seconds=True)))
    return tuple(out)
