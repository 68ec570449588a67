"""``runbook report --format json`` (DESIGN §4): times ISO 8601 with offset, durations ``*_s``."""

from __future__ import annotations

from typing import Any

from runbook import __version__
from runbook.format.safe import json_text
from runbook.format.times import iso
from runbook.report.model import Report, StepRow

REPORT_VERSION = 1


def seconds(value: float | None) -> float | int | None:
    """Whole seconds as int, else rounded to 0.001 s; None stays None."""
    if value is None:
        return None
    r = round(float(value), 3)
    return int(r) if r == int(r) else r


def step_json(s: StepRow, tz: str) -> dict[str, Any]:
    return {
        "id": s.id,
        "title": s.title,
        "path": s.path,
        "status": s.status,
        "started_at": iso(s.started_at, tz),
        "finished_at": iso(s.finished_at, tz),
        "actual_s": seconds(s.actual_s),
        "planned_optimistic_s": seconds(s.planned_optimistic_s),
        "planned_likely_s": seconds(s.planned_likely_s),
        "planned_pessimistic_s": seconds(s.planned_pessimistic_s),
        "variance_s": seconds(s.variance_s),
        "kind": s.kind,
        "owner": s.owner,
        "operators": s.operators,
        "attempts": s.attempts,
        "failures": s.failures,
        "resumes_service": s.resumes_service,
        "single_estimate": s.single_estimate,
        "elapsed_s": seconds(s.elapsed_s),
        "planned_start": iso(s.planned_start, tz),
        "over_pessimistic": s.over_pessimistic,
        "notes": [{"at": iso(n.at, tz), "actor": n.actor, "text": n.text} for n in s.notes],
    }


def _rule(r: Report) -> dict[str, Any]:
    """The reporting rule that applied and every deadline (report_due_by is the first)."""
    ob, tz = r.summary.obligation, r.tz
    if ob is None:
        return {}
    return {
        "reporting_rule": ob.rule,
        "reporting_rule_title": ob.title,
        "reporting_rule_source": ob.source,
        "reporting_threshold": ob.threshold_text,
        "reporting_basis": ob.basis or None,
        "report_deadlines": [{"name": d.name, "due": iso(d.due, tz), "rule": d.how}
                             for d in (ob.deadlines if ob.required else ())],
    }


def as_json(r: Report) -> dict[str, Any]:
    tz, info, sm, h = r.tz, r.info, r.summary, r.history
    plan = r.plan
    c = sm.contingency
    fw = sm.first_warning
    return {
        "report": {"version": REPORT_VERSION, "generator": f"runbook {__version__}",
                   "as_of": iso(r.as_of, tz), "variance": "actual_s - planned_likely_s"},
        "run": {
            "id": info.id,
            "runbook": info.runbook_id,
            "title": plan.title,
            "label": info.label,
            "status": sm.status,
            "started_at": iso(sm.started_at, tz),
            "finished_at": iso(sm.finished_at, tz),
            "operators": r.operators,
            "timezone": tz,
            "source_name": info.source_name,
            "created_at": iso(info.created_at, tz),
            "abort_reason": sm.abort_reason,
        },
        "summary": {
            "announced_resume": iso(sm.announced_resume, tz),
            "resumed_at": iso(sm.resumed_at, tz),
            "overrun_s": seconds(sm.overrun_s),
            "resume_delta_s": seconds(sm.resume_delta_s),
            "outage_report_required": sm.outage_report_required,
            "report_due_by": iso(sm.report_due_by, tz),
            "outage_report_after_s": seconds(sm.outage_report_after_s),
            "report_due_within_s": seconds(sm.report_due_within_s),
            **_rule(r),
            "window_start": iso(sm.window_start, tz),
            "planned_window_start": iso(sm.planned_window_start, tz),  # when --start moved it
            "started_at": iso(sm.started_at, tz),
            "finished_at": iso(sm.finished_at, tz),
            "status": sm.status,
            "path": sm.path,
            "contingency": None if c is None else {
                "id": c.id, "title": c.title, "triggered_at": iso(c.triggered_at, tz),
                "triggered_by": c.triggered_by, "note": c.note},
            "first_warning_at": iso(sm.first_warning_at, tz),
            "first_warning": None if fw is None else {
                "at": iso(fw.at, tz), "level": fw.level, "message": fw.text},
            "first_below_confidence_at": iso(sm.first_below_confidence_at, tz),
            "planned_likely_resume": iso(sm.planned_likely_resume, tz),
            "hard_deadline": iso(sm.hard_deadline, tz),
            "confidence": sm.confidence,
        },
        "steps": [step_json(s, tz) for s in r.steps],
        "alerts": [
            {"at": iso(a.at, tz), "level": a.level, "message": a.text,
             "p_on_time": a.payload.get("p_on_time"), "p90": a.payload.get("p90"),
             "decision_deadline": a.payload.get("decision_deadline")}
            for a in r.alerts
        ],
        "notes": [{"at": iso(n.at, tz), "actor": n.actor, "step": n.step, "text": n.text}
                  for n in r.notes],
        "notices": [{"at": iso(n.at, tz), "actor": n.actor, "level": n.level, "lang": n.lang,
                     "via": n.via, "text": n.text} for n in r.notices],
        "hook_failures": [{**f, "at": iso(f["at"], tz)} for f in r.hook_failures],
        "forecast_history": {
            "interval_s": seconds(h.interval_s),
            "samples": h.samples,
            "run_samples": h.run_samples,
            "seed": h.seed,
            "exact": h.exact,
            "first_below_confidence_at": iso(h.first_below_at, tz),
            "points": [{"at": iso(p.at, tz), "p_on_time": round(p.p_on_time, 4),
                        "p50": iso(p.p50, tz), "p90": iso(p.p90, tz), "level": p.level,
                        "path": p.path} for p in h.points],
        },
    }


def render_json(r: Report) -> str:
    return json_text(as_json(r)) + "\n"
