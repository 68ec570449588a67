"""``runbook simulate``: scripted actions applied by the real engine on a simulated clock.

The script (DESIGN §2) is read like a runbook: safe YAML, unknown keys refused, every problem named
with its event number and line. The simulation ticks every ``TICK_S`` simulated seconds (so alerts
arrive when a live run would raise them) and writes a timeline entry at every event, every alert
and every whole simulated minute.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from runbook.engine.clock import ManualClock
from runbook.engine.notify import Notifier
from runbook.engine.risk import deadlines_text, report_obligation, word
from runbook.engine.run import ActionRefused, Actor, Engine, new_run
from runbook.engine.state import (
    CONTINGENCY_TRIGGERED,
    NOTE,
    RUN_ABORTED,
    RUN_FINISHED,
    STEP_COMPLETED,
    STEP_FAILED,
    STEP_SKIPPED,
    STEP_STARTED,
    UNDONE,
)
from runbook.forecast.core import Prior
from runbook.format.cells import ljust
from runbook.format.cells import width as cell_width
from runbook.format.durations import duration_text, parse_duration
from runbook.format.loader import Document, Loaded, LoadError, Located, parse_yaml, read_text
from runbook.format.model import Instant, explain_error, localise
from runbook.format.plan import MAX_WINDOW_DAYS, Plan
from runbook.format.safe import terminal
from runbook.format.shift import describe_shift
from runbook.format.times import iso, local, when
from runbook.i18n import DEFAULT, N_, _, using
from runbook.i18n import current as current_language
from runbook.store import Store

TICK_S = 10.0
ACTION_KEYS = {"start": STEP_STARTED, "complete": STEP_COMPLETED, "fail": STEP_FAILED,
               "skip": STEP_SKIPPED, "trigger": CONTINGENCY_TRIGGERED, "finish": RUN_FINISHED,
               "abort": RUN_ABORTED, "undo": UNDONE}
NO_TARGET = ("finish", "abort", "undo")  # abort's value is its reason; undo and finish say true


class ScriptEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")
    at: str | int | float
    start: str | None = None
    complete: str | None = None
    fail: str | None = None
    skip: str | None = None
    trigger: str | None = None
    finish: bool | None = None
    abort: str | None = None  # NO-GO: the reason
    undo: bool | None = None  # revert the last action (within the undo grace period)
    note: str | None = None

    @model_validator(mode="after")
    def _one_action(self) -> ScriptEvent:
        chosen = [k for k in ACTION_KEYS if getattr(self, k) not in (None, False)]
        if len(chosen) > 1:
            raise ValueError(f"one action per event, got {', '.join(chosen)}")
        if self.undo and self.note:
            raise ValueError("an undo records no text; put the note in an event of its own")
        if not chosen and not self.note:
            raise ValueError("needs an action: start, complete, fail, skip, trigger, finish, abort, "
                             "undo or note")
        return self

    @property
    def action(self) -> tuple[str, str | None]:
        for key, kind in ACTION_KEYS.items():
            value = getattr(self, key)
            if value not in (None, False):
                return kind, None if key in NO_TARGET else value
        return NOTE, None


class Script(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: Instant | None = None
    events: list[ScriptEvent]


@dataclass
class Result:
    loaded: Loaded
    engine: Engine
    recorded: bool = False  # the run was kept in a store (--db)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    log: list[tuple[datetime, tuple]] = field(default_factory=list)  # (at, what: see _said)


SCRIPT_NEEDS = N_("an events script holds `events:`, a list of actions such as "
                  "`- {at: 0m, start: STEP}`")  # said by the loader with _(); not a template
MAX_EVENTS = 200_000  # two actions for each step of the largest plan, and notes


def load_script(path: str | Path, loaded: Loaded) -> tuple[Script, list[datetime], list[int | None]]:
    """The script, each event's instant (UTC), and each event's line.

    Offsets are added to the start as instants and events are ordered by instant, so a script
    across a DST fall-back reads as it happens. Every time must lie within MAX_WINDOW_DAYS of the
    window start: an event at ``8000h`` is a typo, not a night to simulate second by second.
    """
    text, name = read_text(path)
    doc = parse_yaml(text, name, needs=SCRIPT_NEEDS)
    if not isinstance(doc.data, dict):
        raise LoadError(name, [Located(f"the top level is not a mapping; {SCRIPT_NEEDS}", 1, 1)])
    events = doc.data.get("events")
    if isinstance(events, list) and len(events) > MAX_EVENTS:
        m = doc.mark(("events",))
        raise LoadError(name, [Located(f"events: {len(events):,} events; simulate takes up to "
                                       f"{MAX_EVENTS:,} in one script", m and m.line)])
    try:
        script = Script.model_validate(doc.data, context={"timezone": loaded.plan.timezone})
    except ValidationError as e:
        raise LoadError(name, _problems(e, doc)) from None
    plan = loaded.plan
    start = script_start(script, loaded)
    times, lines = [], []
    bound = timedelta(days=MAX_WINDOW_DAYS)
    if abs(start - plan.start) > bound:
        m = doc.mark(("start",))
        raise LoadError(name, [Located(f"start: {_far(start, plan)}", m and m.line)])
    if not script.events:
        m = doc.mark(("events",))
        raise LoadError(name, [Located(f"events: the list is empty; {SCRIPT_NEEDS}", m and m.line)])
    for i, ev in enumerate(script.events):
        m = doc.mark(("events", i))
        lines.append(m.line if m else None)
        try:
            t = _instant(ev.at, start, plan.timezone, loaded.shift)
        except ValueError as e:
            raise LoadError(name, [Located(f"event {i + 1}: `at`: {e}", m and m.line)]) from None
        if abs(t - plan.start) > bound:
            raise LoadError(name, [Located(f"event {i + 1}: `at` {ev.at} {_far(t, plan)}",
                                           m and m.line)])
        if times and t < times[-1]:
            tz = plan.timezone
            raise LoadError(name, [Located(
                f"event {i + 1}: time goes backwards ({when(t, tz, start, seconds=True)} is "
                f"before the previous event, {when(times[-1], tz, start, seconds=True)}); keep "
                "events in time order", m and m.line)])
        times.append(t)
    return script, times, lines


def _far(t: datetime, plan: Plan) -> str:
    days = (t - plan.start).total_seconds() / 86400
    side = "after" if days > 0 else "before"
    return (f"({_day_time(t, plan.timezone)}) is {abs(days):,.0f} days {side} the window start "
            f"({_day_time(plan.start, plan.timezone)}); simulate covers {MAX_WINDOW_DAYS} days "
            "either side of it: check the unit or the date")


def _day_time(t: datetime, timezone: str) -> str:
    return local(t, timezone).strftime("%Y-%m-%d %H:%M")


def _problems(error: ValidationError, doc: Document) -> list[Located]:
    problems = []
    for err in error.errors():
        extra = err["type"] == "extra_forbidden"
        loc = tuple(p for n, p in enumerate(err["loc"]) if isinstance(p, int) or p in _KEYS
                    or (extra and n == len(err["loc"]) - 1))
        m = doc.mark(loc, key=extra)
        what = _event_name(loc)
        msg = explain_error(err, loc)
        if extra:
            msg = f"unknown key {loc[-1]!r}; an event has {', '.join(ScriptEvent.model_fields)}"
        elif err["type"] == "missing" and loc == ("events",):
            msg = f"missing; {SCRIPT_NEEDS}"
        problems.append(Located(f"{what}: {msg}", m and m.line, m and m.column))
    return problems


_KEYS = {"events", *Script.model_fields, *ScriptEvent.model_fields}


def _event_name(loc: tuple) -> str:
    if len(loc) >= 2 and loc[0] == "events" and isinstance(loc[1], int):
        return f"event {loc[1] + 1}"
    return ".".join(str(p) for p in loc) or "script"


def script_start(script: Script, loaded: Loaded) -> datetime:
    """Where the script's offsets count from: its ``start:`` (moved with the window under
    --start), else the window start."""
    return script.start + loaded.shift if script.start else loaded.plan.start


def _instant(value: Any, start: datetime, timezone: str, shift: timedelta) -> datetime:
    """An offset from ``start``, or an absolute time in the plan's calendar moved by ``shift``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(f"{value!r} has no unit; write an offset like 19m or a time")
    text = str(value)
    try:
        return start + timedelta(seconds=parse_duration(text))
    except ValueError:
        pass
    try:
        return localise(text, timezone) + shift
    except ValueError:
        if text[:4].isdigit() and text[4:5] == "-":  # meant as a time: say what is wrong with it
            raise
        raise ValueError(f"{text!r} is neither an offset (19m) nor a time (2026-11-25T00:19)") from None


def simulate(loaded: Loaded, script_path: str | Path, *, db: str | None = None,
             samples: int = 10_000, seed: int = 0, label: str = "rehearsal",
             operator: str = "simulator", prior: Prior | None = None,
             notify: bool = False) -> Result:
    script, times, lines = load_script(script_path, loaded)
    start = script_start(script, loaded)
    with tempfile.TemporaryDirectory(prefix="runbook-sim-", dir=None if db else _scratch()) as tmp:
        store = Store(db or Path(tmp) / "sim.db")
        try:
            return _play(loaded, store, script, times, lines, str(script_path), start,
                         samples=samples, seed=seed, label=label, operator=operator, prior=prior,
                         notify=notify, recorded=db is not None)
        finally:
            store.close()


def _scratch() -> str | None:
    """Where a throw-away store goes: memory (/dev/shm) where the system has it. Nothing of it
    outlives the command, so its commits need not wait for a disk (an fsync there costs nothing:
    a 1,000-step night plays in 15% less CPU); with ``--db`` every commit is durable, as live."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK) else None


def _play(loaded: Loaded, store: Store, script: Script, times: list[datetime],
          lines: list[int | None], name: str, start: datetime, **opts: Any) -> Result:
    """Apply the script's events with a tick every TICK_S simulated seconds in between."""
    clock = ManualClock(start)
    notifier = Notifier(loaded.plan.policy.notify if opts["notify"] else None)
    engine = new_run(store, loaded, clock, Actor(opts["operator"], "simulator"), label=opts["label"],
                     samples=opts["samples"], seed=opts["seed"], prior=opts["prior"],
                     notifier=notifier)
    engine.auto_finish = False  # the script may say `finish:` itself; default below
    result = Result(loaded, engine, recorded=opts["recorded"])
    tz = loaded.plan.timezone
    step = timedelta(seconds=TICK_S)
    next_tick = start

    def tick(at: datetime, event: str | None = None) -> None:
        clock.set(at)
        t = engine.tick()
        if t.alert:
            result.log.append((at, ("alert", t.level, t.alert)))
        if event or t.alert or (at - start).total_seconds() % 60 == 0:
            fc = t.forecast
            entry = {
                "at": iso(at, tz), "level": str(t.level), "p_on_time": round(fc.p_on_time, 4),
                "p50": iso(fc.p50, tz), "p80": iso(fc.p80, tz), "p90": iso(fc.p90, tz),
                "decision_deadline": iso(fc.decision_deadline, tz), "path": engine.state.path,
            }
            if event:
                entry["event"] = event
            result.timeline.append(entry)

    for n, (ev, at, line) in enumerate(zip(script.events, times, lines, strict=True), start=1):
        if engine.state.finished:
            raise LoadError(name, [Located(f"event {n} ({_describe(ev)}): the run has already "
                                           "finished", line)])
        while next_tick < at:
            tick(next_tick)
            next_tick += step
        clock.set(at)
        kind, target = ev.action
        payload: dict[str, Any] = {}
        if kind == CONTINGENCY_TRIGGERED:
            payload["contingency"], target = target, None
        if kind == RUN_ABORTED:
            payload["reason"] = ev.abort
        if ev.note:
            payload["text" if kind == NOTE else "reason" if kind == STEP_SKIPPED else "note"] = ev.note
        try:
            engine.act(kind, target, **payload)
        except ActionRefused as e:
            raise LoadError(name, [Located(f"event {n} ({_describe(ev)}): {e}", line)]) from None
        result.log.append((at, ("event", ev)))
        with using(DEFAULT):  # the JSON timeline's "event": the script's words, in English
            said = _describe(ev)
        tick(at, event=said)
        if next_tick == at:
            next_tick += step
    if not engine.state.finished and engine.state.all_done():
        engine.finish()  # default: the run ends when its last step completes
        result.log.append((clock.now(), ("finish", None)))
    engine.close()
    return result


RANK_WORDS = ("on_track", "at_risk", "decide_now", "late", "resumed")  # the log's level column

SCRIPT_WORDS = {  # the script's keys; shown in the current language
    STEP_STARTED: (N_("start"), N_("start {step}")),
    STEP_COMPLETED: (N_("complete"), N_("complete {step}")),
    STEP_FAILED: (N_("fail"), N_("fail {step}")),
    STEP_SKIPPED: (N_("skip"), N_("skip {step}")),
    RUN_FINISHED: (N_("finish"), N_("finish {step}")),
    NOTE: (N_("note"), N_("note on {step}")),
    UNDONE: (N_("undo"), N_("undo {step}")),
}


def _describe(ev: ScriptEvent) -> str:
    kind, target = ev.action
    if kind == CONTINGENCY_TRIGGERED:
        text = _("trigger {contingency}").format(contingency=ev.trigger)
    elif kind == RUN_ABORTED:
        text = _("abort ({reason})").format(reason=ev.abort)
    else:
        word, on = SCRIPT_WORDS[kind]
        text = _(on).format(step=target) if target else _(word)
    if ev.note:
        text += f" ({ev.note})"
    return text


def _said(item: tuple) -> str:
    """A line of the log, in the current language: an alert (its level word padded in cells,
    its message as recorded in this language), a scripted event, the default finish."""
    kind = item[0]
    if kind == "alert":
        _kind, level, alert = item
        texts = alert.get("messages") or {}
        column = max(cell_width(word(lv)) for lv in RANK_WORDS)  # 10 in English
        return f"{ljust(word(level), column)} {texts.get(current_language(), alert['message'])}"
    if kind == "event":
        return _describe(item[1])
    return _("finish (last step completed)")


def as_json(result: Result) -> dict[str, Any]:
    engine, plan = result.engine, result.loaded.plan
    state, tz = engine.state, plan.timezone
    overrun = None
    if state.resumed_at is not None:
        overrun = max(0.0, (state.resumed_at - plan.announced).total_seconds())
    ob = report_obligation(plan, state.resumed_at, state.last_at or plan.start)
    due = ob.due if state.resumed_at else None
    return {
        "runbook": plan.id,
        "title": plan.title,
        "run": engine.run_id if result.recorded else None,  # same seed, same output
        "timezone": tz,
        "announced_resume": iso(plan.announced, tz),
        "window_start": iso(plan.start, tz),
        "planned_window_start": iso(result.loaded.planned_start, tz),  # set when --start moved it
        "samples": engine.forecaster.samples,
        "seed": engine.forecaster.seed,
        "timeline": result.timeline,
        "alerts": [{"at": iso(a.at, tz), "level": a.level, "message": a.message,
                    **({"notice": a.payload["notice"]} if a.payload.get("notice") else {})}
                   for a in state.alerts],
        "resumed_at": iso(state.resumed_at, tz),
        "finished_at": iso(state.finished_at, tz),
        "path": state.path,
        "overrun_s": overrun,
        "outage_report_required": due is not None,
        "report_due_by": iso(due, tz),
        "reporting_rule": ob.rule,
        "report_deadlines": [{"name": d.name, "due": iso(d.due, tz)} for d in ob.deadlines
                             if due is not None],
        "steps": [
            {"id": s.id, "path": s.path, "status": state.steps[s.id].status,
             "started_at": iso(state.steps[s.id].started_at, tz),
             "finished_at": iso(state.steps[s.id].finished_at, tz),
             "actual_s": state.steps[s.id].actual_s}
            for s in plan.steps
        ],
    }


def text(result: Result) -> str:
    """The compact log for a terminal. Times off the window's local day carry the day
    (``02:00 +1d``), times in a DST fall-back's repeated hour their zone (``02:10 CET``); text from
    the runbook and the script is made safe for the terminal."""
    plan, state = result.loaded.plan, result.engine.state
    tz, ref = plan.timezone, plan.start

    def t(instant: datetime | None) -> str:
        return when(instant, tz, ref)

    out = [_("{runbook}: simulated run, announced resume {announced}").format(
        runbook=plan.id, announced=t(plan.announced))]
    if result.loaded.planned_start is not None:
        out.append("  " + _("window moved to {start} {shift}; the script's times moved with it"
                            ).format(start=_day_time(plan.start, tz),
                                     shift=describe_shift(result.loaded)))
    stamps = [t(at) for at, _item in result.log]
    width = max(map(cell_width, stamps), default=5)
    for stamp, (_at, item) in zip(stamps, result.log, strict=True):
        out.append(f"  {ljust(stamp, width)}  {_said(item)}")
    data = as_json(result)
    if state.resumed_at:
        over = data["overrun_s"] or 0
        text = (_("Resumed {time} (on time) on path {path}.") if over == 0 else
                _("Resumed {time} ({late} late) on path {path}."))
        out.append(text.format(time=t(state.resumed_at), late=duration_text(over),
                               path=state.path))
        if data["outage_report_required"] and state.resumed_at is not None:
            ob = report_obligation(plan, state.resumed_at, state.last_at or plan.start)
            if ob.due is not None and not ob.named:
                out.append(_("Outage report required by {due} ({zone}).").format(
                    due=_day_time(ob.due, tz), zone=tz))
            elif ob.due is not None:
                out.append(_("Outage report required under {rule}: {deadlines} ({zone}).").format(
                    rule=ob.rule, deadlines=deadlines_text(ob, tz), zone=tz))
    else:
        out.append(_("Service did not resume in this script."))
    out.append(_("Finished {time}.").format(time=t(state.finished_at)) if state.finished_at
               else _("Run not finished."))
    return terminal("\n".join(out))
