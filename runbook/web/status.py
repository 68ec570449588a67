"""The /status.json object (a contract: README "Status page and /status.json"). Pure.

Everything a customer-service lead needs and nothing an attacker or a customer should not see:
no step commands, no checks, no notes, no operator or host names. Times are ISO 8601 with the
runbook's offset, durations are seconds named ``*_s``, probabilities are 0..1.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from runbook.engine.risk import action, message, word
from runbook.engine.run import Session, Tick
from runbook.engine.state import ABANDONED, COMPLETED, RUNNING, SKIPPED
from runbook.forecast.core import Forecast
from runbook.format.model import Level
from runbook.format.plan import MAIN
from runbook.format.times import iso

VERSION = 1  # of this object; a key is never renamed or removed, new keys may appear


def announce_resume(fc: Forecast) -> datetime:
    """The resume time to announce now: the forecast's ``policy.confidence`` quantile rounded UP to
    the whole minute, so the forecast never puts the announced time below that confidence."""
    t = fc.recommended
    minute = t.replace(second=0, microsecond=0)
    return minute if minute == t else minute + timedelta(minutes=1)


def progress(session: Session) -> dict[str, Any]:
    """Steps done of the steps that count now: the main path, and once a contingency is triggered
    the main steps finished before it plus the contingency's steps (abandoned ones drop out)."""
    state = session.state
    steps = [s for s in session.plan.steps
             if (s.path == MAIN or s.path == state.path) and state.status(s.id) != ABANDONED]
    done = sum(1 for s in steps if state.status(s.id) in (COMPLETED, SKIPPED))
    return {
        "done": done,
        "total": len(steps),
        "path": state.path,
        "running": [s.title for s in steps if state.status(s.id) == RUNNING],
    }


def status(session: Session, tick: Tick, *, store_down_since: datetime | None = None
           ) -> dict[str, Any]:
    """The status of ``session`` at ``tick`` as the /status.json object. ``level_word``,
    ``action`` and ``summary`` are words in the current language; everything else is the same
    in every language."""
    plan, state, fc, now = session.plan, session.state, tick.forecast, tick.now
    tz = plan.timezone

    def t(instant: datetime | None) -> str | None:
        return iso(instant, tz)

    level = Level(tick.level)
    options = []
    if state.path == MAIN and not state.resumed and not state.finished:
        for o in fc.options:
            options.append({
                "id": o.contingency,
                "title": plan.path_titles.get(o.contingency, o.contingency),
                "need_s": round(o.need_s),
                "decide_by": t(o.deadline),
                "resume_if_triggered_now": t(now + timedelta(seconds=o.need_s)),
                "p_on_time_if_triggered": round(o.p_on_time_if_triggered, 4),
            })
    running = None
    if state.path != MAIN:
        running = {"id": state.path, "title": plan.path_titles.get(state.path, state.path),
                   "triggered_at": t(state.triggered_at)}
    return {
        "version": VERSION,
        "generated_at": t(now),
        "seq": state.last_seq,
        "run": {
            "id": session.run_id,
            "label": session.info.label,
            "started_at": t(state.started_at),
            "finished_at": t(state.finished_at),
            "aborted": state.aborted,
        },
        "runbook": {"id": plan.id, "title": plan.title, "timezone": tz},
        "level": str(level),
        "level_word": word(level),  # the words follow the language; the level key does not
        "action": action(level),
        "summary": message(level, plan, state, fc, now),
        "window_start": t(plan.start),
        "announced_resume": t(plan.announced),
        "hard_deadline": t(plan.hard_deadline),
        "confidence": plan.policy.confidence,
        "p_on_time": round(fc.p_on_time, 4),
        "p50": t(fc.p50),
        "p90": t(fc.p90),
        "recommended_resume": t(fc.recommended),
        "decision_deadline": t(fc.decision_deadline),
        "decision_contingency": fc.contingency,
        "contingency_need_s": None if fc.contingency_need_s is None else round(fc.contingency_need_s),
        "resumed_at": t(state.resumed_at),
        "progress": progress(session),
        "contingencies": options,
        "contingency_running": running,
        "tell_customers": tell_customers(session, fc, now),
        "store": {"reachable": store_down_since is None, "unreachable_since": t(store_down_since)},
    }


def tell_customers(session: Session, fc: Forecast, now: datetime) -> dict[str, Any]:
    """What customer service should say now: the time to announce, with its confidence."""
    plan, state = session.plan, session.state
    announced = plan.announced
    if state.resumed_at is not None:
        return {"resume": iso(state.resumed_at, plan.timezone), "confidence": 1.0,
                "keep_announced": state.resumed_at <= announced, "service_back": True}
    if state.finished:  # aborted (or finished) without the service-resuming step
        return {"resume": None, "confidence": None, "keep_announced": False,
                "service_back": False}
    when = announce_resume(fc)
    return {"resume": iso(when, plan.timezone), "confidence": plan.policy.confidence,
            "keep_announced": when <= announced, "service_back": False}
