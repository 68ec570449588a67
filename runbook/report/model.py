"""One report data structure from a recorded run: (RunInfo, events) -> :class:`Report`.

Pure apart from arithmetic: no I/O, no clock. The plan comes from ``RunInfo.source_text`` (the
runbook exactly as it was loaded when the run started), never from the file on disk, so a report
always matches what the operators saw even after the runbook has been edited.

Definitions used by every exporter:

* ``actual_s``: first start to completion (or skip, or abandonment), retries included.
* ``variance_s``: ``actual_s - planned_likely_s``; positive = slower than the likely estimate.
* ``overrun_s``: how far service came back after ``announced_resume`` (0 when on time). While
  service is still down it is the overrun so far, up to ``as_of``.
* ``outage_report_required``: the overrun is reportable under the runbook's reporting rule
  (``policy.outage_report``: kr-fss, eu-dora, us-36h; without one, the overrun passed
  ``policy.outage_report_after``); ``report_due_by`` is the rule's first deadline
  (``report_due_within`` after the threshold was crossed, for the policy's own rule).
  ``Summary.obligation`` holds the rule, what made it reportable and every deadline.
* ``notices``: the customer notices copied by an operator or sent by the alert hooks.
* ``as_of``: the moment the figures describe: the end of a finished run, else the time the report
  was made (or the last event when no time is given).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from runbook.engine.clock import utc
from runbook.engine.gc_pause import paused
from runbook.engine.reporting import Obligation
from runbook.engine.risk import report_obligation
from runbook.engine.state import (
    ALERT,
    CONTINGENCY_TRIGGERED,
    HOOK_FAILED,
    NOTE,
    RUN_ABORTED,
    RUN_FINISHED,
    RUNNING,
    STEP_COMPLETED,
    STEP_FAILED,
    STEP_SKIPPED,
    STEP_STARTED,
    UNDONE,
    Alert,
    Note,
    Notice,
    RunState,
    fold,
)
from runbook.engine.summary import ABORTED as ABORTED  # the statuses, shared with `runs`
from runbook.engine.summary import FINISHED as FINISHED
from runbook.engine.summary import IN_PROGRESS, run_status
from runbook.engine.undo import describe
from runbook.format.plan import MAIN, Plan
from runbook.format.shift import load_recorded
from runbook.format.times import hhmm, local, when
from runbook.i18n import _
from runbook.report.history import History, replay
from runbook.store import Event, RunInfo

WARNING_LEVELS = frozenset({"at_risk", "decide_now", "late"})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MINUTE = timedelta(minutes=1)
_LAST_IN_MINUTE = timedelta(seconds=59, microseconds=999_999)
# where each event type keeps its free text
NOTE_KEYS = {NOTE: "text", STEP_STARTED: "note", STEP_COMPLETED: "note", STEP_FAILED: "note",
             STEP_SKIPPED: "reason", CONTINGENCY_TRIGGERED: "note", RUN_FINISHED: "note",
             RUN_ABORTED: "reason"}


@dataclass
class StepRow:
    id: str
    title: str
    path: str
    kind: str
    owner: str | None
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    actual_s: float | None
    planned_optimistic_s: float
    planned_likely_s: float
    planned_pessimistic_s: float
    variance_s: float | None
    attempts: int
    failures: int
    operators: list[str]
    notes: list[Note]
    resumes_service: bool
    single_estimate: bool  # one duration widened by policy.spread
    elapsed_s: float | None  # a running step: time since its first start, as of the report
    planned_start: datetime | None  # baseline schedule (likely times, from window start / trigger)

    @property
    def planned_finish(self) -> datetime | None:
        if self.planned_start is None:
            return None
        return self.planned_start + timedelta(seconds=self.planned_likely_s)

    @property
    def over_pessimistic(self) -> bool:
        return self.actual_s is not None and self.actual_s > self.planned_pessimistic_s


@dataclass(frozen=True)
class ContingencyInfo:
    id: str
    title: str
    triggered_at: datetime
    triggered_by: str | None
    note: str | None


@dataclass
class Summary:
    announced_resume: datetime
    resumed_at: datetime | None
    overrun_s: float
    resume_delta_s: float | None  # resumed_at - announced_resume; negative = early
    outage_report_required: bool
    report_due_by: datetime | None
    outage_report_after_s: float | None  # the rule's threshold (None: eu-dora has none)
    report_due_within_s: float | None  # threshold to deadline (None: eu-dora has several)
    window_start: datetime
    started_at: datetime | None
    finished_at: datetime | None
    status: str
    path: str
    contingency: ContingencyInfo | None
    first_warning: Alert | None  # first alert worse than on_track
    first_below_confidence_at: datetime | None
    planned_likely_resume: datetime | None  # the plan's likely times, from window start
    hard_deadline: datetime | None
    confidence: float
    abort_reason: str | None
    planned_window_start: datetime | None = None  # the file's, when --start moved the window
    obligation: Obligation | None = None  # the reporting rule, what it asks, its deadlines

    @property
    def first_warning_at(self) -> datetime | None:
        return self.first_warning.at if self.first_warning else None


@dataclass
class Report:
    info: RunInfo
    plan: Plan
    state: RunState
    as_of: datetime
    steps: list[StepRow]
    alerts: list[Alert]
    notes: list[Note]
    hook_failures: list[dict[str, Any]]
    operators: list[str]
    summary: Summary
    history: History
    notices: list[Notice] = field(default_factory=list)  # customer notices copied or sent
    _clocks: dict[int, str] = field(default_factory=dict, init=False, repr=False,
                                         compare=False)

    @property
    def tz(self) -> str:
        return self.plan.timezone

    def clock(self, instant: datetime | None) -> str:
        """A time as the report shows it: ``00:40`` on the window's local day, ``02:00 +1d`` or
        ``12-01 04:40`` on another, the zone where a DST fall-back repeats the wall clock.

        Remembered per UTC minute, a run's thousands of notes and events share their minutes:
        when the minute's first and last instant read the same, with the same whole-minute
        offset, no change of offset falls inside it (zones change at most once a minute), so every
        instant in it reads the same. Otherwise each instant is read on its own."""
        ref = self.summary.window_start
        if instant is None:
            return when(None, self.tz, ref)
        key = (instant - _EPOCH) // _MINUTE
        text = self._clocks.get(key)
        if text is None:
            minute = _EPOCH + key * _MINUTE
            last = minute + _LAST_IN_MINUTE
            text = when(minute, self.tz, ref)
            same = (text == when(last, self.tz, ref)
                    and _offset(minute, self.tz) == _offset(last, self.tz) is not None)
            self._clocks[key] = text = text if same else ""
        return text or when(instant, self.tz, ref)

    @property
    def status(self) -> str:
        return self.summary.status

    @property
    def started_at(self) -> datetime:
        return self.summary.started_at or self.info.created_at

    @property
    def in_progress(self) -> bool:
        return self.summary.status == IN_PROGRESS

    def active_steps(self) -> list[StepRow]:
        """Main steps and the steps of the contingency that ran (file order)."""
        return [s for s in self.steps if s.path in (MAIN, self.summary.path)]

    def untaken(self) -> dict[str, int]:
        """Contingencies that did not run: id -> number of steps."""
        out: dict[str, int] = {}
        for s in self.steps:
            if s.path not in (MAIN, self.summary.path):
                out[s.path] = out.get(s.path, 0) + 1
        return out


def _offset(instant: datetime, tz: str) -> timedelta | None:
    """The zone's offset at ``instant`` when it is whole minutes, else None."""
    offset = local(instant, tz).utcoffset()
    return offset if offset is not None and offset % timedelta(minutes=1) == timedelta(0) \
        else None


def baseline(plan: Plan, start: datetime, path: str) -> dict[int, datetime]:
    """Planned start of each step of ``path``: predecessors first, likely durations."""
    start = utc(start)
    return {i: start + timedelta(seconds=a) for i, (a, _) in plan.likely_schedule(path).items()}


def event_notes(events: list[Event], tz: str = "UTC") -> list[Note]:
    """Every piece of free text in the log, in order: notes, and notes given with an action; an
    undo is a line of its own ("undid complete cable of 00:12:03"), and an undone text says so."""
    undos = [ev for ev in events if ev.type == UNDONE]
    undone = {int(seq) for ev in undos for seq in ev.payload.get("undoes", ())}
    by_seq = {ev.seq: ev for ev in events} if undos else {}
    out = []
    for ev in events:
        if ev.type == UNDONE:
            first = by_seq.get(min(ev.payload.get("undoes") or [0]))
            what = describe(first) if first is not None else \
                str(ev.payload.get("what") or _("an action"))
            text = (_("undid {what} of {time}").format(what=what,
                                                       time=hhmm(first.at, tz, seconds=True))
                    if first is not None else _("undid {what}").format(what=what))
            out.append(Note(ev.at, ev.actor, text, ev.step))
            continue
        key = NOTE_KEYS.get(ev.type)
        text = ev.payload.get(key) if key else None
        if isinstance(text, str) and text.strip():
            out.append(Note(ev.at, ev.actor, text + (" (undone)" if ev.seq in undone else ""),
                            ev.step))
    return out


def build(info: RunInfo, events: list[Event], *, now: datetime | None = None,
          history: bool = True) -> Report:
    """The report of ``info`` from its ``events``; ``now`` dates a run still in progress."""
    with paused():  # many small objects, no cycles: runbook/engine/gc_pause.py
        return _build(info, events, now, history)


def _build(info: RunInfo, events: list[Event], now: datetime | None, history: bool) -> Report:
    loaded = load_recorded(info)  # the runbook as stored, the window as the run moved it
    plan = loaded.plan
    state = fold(plan, events)
    status = run_status(state)
    last = state.last_at or info.created_at
    if state.finished_at is not None:
        as_of = state.finished_at
    else:
        as_of = max(last, now) if now is not None else last

    planned: dict[int, datetime] = baseline(plan, plan.start, MAIN)
    if state.path != MAIN and state.triggered_at is not None:
        planned.update(baseline(plan, state.triggered_at, state.path))

    notes = event_notes(events, plan.timezone)
    by_step: dict[str, list[Note]] = {}
    for n in notes:
        if n.step is not None:
            by_step.setdefault(n.step, []).append(n)
    rows: list[StepRow] = []
    for s in plan.steps:
        st = state.steps[s.id]
        actual = st.actual_s
        who = [w for w in (st.started_by, st.finished_by) if w]
        rows.append(StepRow(
            id=s.id, title=s.title, path=s.path, kind=s.kind, owner=s.owner, status=st.status,
            started_at=st.started_at, finished_at=st.finished_at, actual_s=actual,
            planned_optimistic_s=s.optimistic, planned_likely_s=s.likely,
            planned_pessimistic_s=s.pessimistic,
            variance_s=None if actual is None else actual - s.likely,
            attempts=st.attempts, failures=st.failures, operators=list(dict.fromkeys(who)),
            notes=by_step.get(s.id, []),
            resumes_service=s.resumes_service, single_estimate=s.single,
            elapsed_s=st.elapsed_s(as_of) if st.status == RUNNING else None,
            planned_start=planned.get(s.index),
        ))

    operators = list(state.operators)
    for ev in events:
        if ev.type not in (ALERT, HOOK_FAILED) and ev.actor and ev.actor not in operators:
            operators.append(ev.actor)
    hooks = [{"at": ev.at, "hook": ev.payload.get("hook"), "error": ev.payload.get("error"),
              "level": ev.payload.get("level")} for ev in events if ev.type == HOOK_FAILED]

    contingency = None
    if state.path != MAIN and state.triggered_at is not None:
        note = next((ev.payload.get("note") for ev in events
                     if ev.type == CONTINGENCY_TRIGGERED and ev.payload.get("note")), None)
        contingency = ContingencyInfo(state.path, plan.path_titles.get(state.path, state.path),
                                      state.triggered_at, state.triggered_by, note)

    policy = plan.policy
    end = state.resumed_at or as_of
    overrun = max(0.0, (end - utc(plan.announced)).total_seconds())
    ob = report_obligation(plan, state.resumed_at, as_of)
    due = utc(ob.due) if ob.due is not None else None
    first_warning = next((a for a in state.alerts if a.level in WARNING_LEVELS), None)
    resume_index = plan.resume.get(MAIN)
    likely_resume = None
    if resume_index is not None and resume_index in planned and plan.steps[resume_index].path == MAIN:
        likely_resume = planned[resume_index] + timedelta(seconds=plan.steps[resume_index].likely)

    hist = replay(plan, info, events, state, as_of) if history else None
    if hist is None:
        hist = History([], 60.0, 0, int((info.meta or {}).get("samples", 10_000)),
                       int((info.meta or {}).get("seed", 0)), True, None)
    summary = Summary(
        announced_resume=utc(plan.announced), resumed_at=state.resumed_at, overrun_s=overrun,
        resume_delta_s=(None if state.resumed_at is None
                        else (state.resumed_at - utc(plan.announced)).total_seconds()),
        outage_report_required=due is not None, report_due_by=due,
        outage_report_after_s=ob.threshold_s, report_due_within_s=ob.within_s,
        window_start=utc(plan.start), started_at=state.started_at, finished_at=state.finished_at,
        status=status, path=state.path, contingency=contingency, first_warning=first_warning,
        first_below_confidence_at=hist.first_below_at, planned_likely_resume=likely_resume,
        hard_deadline=utc(plan.hard_deadline) if plan.hard_deadline else None,
        confidence=policy.confidence, abort_reason=state.abort_reason,
        planned_window_start=loaded.planned_start, obligation=ob,
    )
    return Report(info=info, plan=plan, state=state, as_of=as_of, steps=rows,
                  alerts=list(state.alerts), notes=notes, hook_failures=hooks,
                  operators=operators, summary=summary, history=hist,
                  notices=list(state.notices))
