"""Plan review before the window: ``runbook check``. Pure apart from the forecast's arithmetic."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from runbook.engine.reporting import in_force
from runbook.engine.risk import pct
from runbook.engine.state import RunState
from runbook.forecast.core import Criticality, Forecast, Forecaster, Prior
from runbook.format.durations import duration_text
from runbook.format.loader import Loaded
from runbook.format.plan import MAIN
from runbook.format.times import iso, when
from runbook.i18n import _

ERROR, WARNING, INFO = "error", "warning", "info"
CANNOT = 0.05  # an announced time met in fewer than 1 run in 20 cannot be met: an error


@dataclass
class Finding:
    severity: str
    code: str
    message: str
    step: str | None = None
    line: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class ContingencyFit:
    id: str
    title: str
    need_p50_s: float
    need_s: float  # the confidence quantile
    fits: bool  # started at window start, resumes by announced_resume with confidence


@dataclass
class Review:
    loaded: Loaded
    forecast: Forecast
    criticality: Criticality
    contingencies: list[ContingencyFit]
    samples: int
    seed: int
    prior: Prior
    history: str | None = None  # what past runs taught, if any
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(f.severity == ERROR for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.severity == WARNING for f in self.findings)


def review(loaded: Loaded, samples: int = 10_000, seed: int = 0, prior: Prior | None = None,
           history: str | None = None) -> Review:
    plan = loaded.plan
    forecaster = Forecaster(plan, samples=samples, seed=seed, prior=prior)
    state = RunState.initial(plan)
    fc = forecaster.forecast(state, plan.start)
    crit = forecaster.criticality()
    window_s = (plan.announced - plan.start).total_seconds()
    fits = []
    for c in plan.contingencies:
        need, q = forecaster.contingency_need(c, state)
        fits.append(ContingencyFit(c, plan.path_titles[c], float(np.median(need)), q, q <= window_s))
    rv = Review(loaded, fc, crit, fits, samples, seed, forecaster.prior, history)
    rv.findings = _findings(rv)
    return rv


def _line(loaded: Loaded, step_id: str | None, *tail: str | int) -> int | None:
    if step_id is None:
        return loaded.line_of(tail) if tail else None
    return loaded.line_of((*loaded.plan.by_id[step_id].loc, *tail))


def _findings(rv: Review) -> list[Finding]:
    loaded, fc = rv.loaded, rv.forecast
    plan = loaded.plan
    tz, conf = plan.timezone, plan.policy.confidence
    out: list[Finding] = []
    announced = when(plan.announced, tz, plan.start)
    recommended = when(fc.recommended, tz, plan.start)
    line = loaded.line_of(("window", "announced_resume"))
    if fc.p_on_time < conf:
        cannot = fc.p_on_time < CANNOT
        text = (_("The announced resume {announced} cannot be met ({p} chance); the plan needs "
                  "until {recommended} to be {confidence} sure. Announce {recommended} instead, "
                  "or cut the plan.") if cannot else
                _("The announced resume {announced} has only {p} chance of being met; the plan "
                  "needs until {recommended} to be {confidence} sure. Announce {recommended} "
                  "instead, or cut the plan."))
        out.append(Finding(
            ERROR if cannot else WARNING, "window_too_short",
            text.format(announced=announced, p=pct(fc.p_on_time), recommended=recommended,
                        confidence=pct(conf)),
            line=line,
        ))
    if not plan.contingencies:
        out.append(Finding(
            WARNING, "no_contingency",
            _("No contingency path: if the work runs long there is nothing planned to fall back "
              "to. Add a rollback under `contingencies:`."),
        ))
    for c in rv.contingencies:
        if not c.fits:
            out.append(Finding(
                WARNING, "contingency_too_long",
                _("Contingency {contingency} needs {need} ({confidence} sure) but the window is "
                  "{window}: even started at once it would not resume service by {announced}."
                  ).format(contingency=repr(c.id), need=duration_text(c.need_s),
                           confidence=pct(conf), announced=announced,
                           window=duration_text((plan.announced - plan.start).total_seconds())),
                line=loaded.line_of(("contingencies", plan.contingencies.index(c.id))),
            ))
    if fc.p_hard_deadline is not None and fc.p_hard_deadline < conf:
        out.append(Finding(
            ERROR if fc.p_hard_deadline < 0.5 else WARNING, "hard_deadline_at_risk",
            _("The hard deadline {deadline} has only {p} chance of being met.").format(
                deadline=when(plan.hard_deadline, tz, plan.start), p=pct(fc.p_hard_deadline)),
            line=loaded.line_of(("window", "hard_deadline")),
        ))
    for s in plan.steps:
        if s.single:
            out.append(Finding(
                INFO, "single_estimate",
                _("{step}: one estimate ({likely}), read as the median, with P10 {optimistic} "
                  "and P90 {pessimistic} (policy.spread) and a long tail beyond; give three "
                  "points if you know better.").format(
                    step=s.id, likely=duration_text(s.likely),
                    optimistic=duration_text(s.optimistic),
                    pessimistic=duration_text(s.pessimistic)),
                step=s.id, line=_line(loaded, s.id, "estimate"),
            ))
    for s in plan.steps:
        if not s.owner:
            out.append(Finding(INFO, "no_owner",
                               _("{step}: no owner; say who does it.").format(step=s.id),
                               step=s.id, line=_line(loaded, s.id)))
    for s in plan.steps:
        if s.pessimistic == s.likely and s.likely > 0 and s.kind not in ("milestone",) and not s.single:
            out.append(Finding(
                INFO, "no_pessimism",
                _("{step}: pessimistic equals likely ({likely}); nothing is allowed to go wrong "
                  "here. Is that honest?").format(step=s.id, likely=duration_text(s.likely)),
                step=s.id, line=_line(loaded, s.id, "estimate"),
            ))
    return out


def as_json(rv: Review) -> dict[str, Any]:
    plan, fc, tz = rv.loaded.plan, rv.forecast, rv.loaded.plan.timezone
    return {
        "runbook": plan.id,
        "title": plan.title,
        "file": rv.loaded.name,
        "timezone": tz,
        "steps": sum(1 for s in plan.steps if s.path == MAIN),
        "contingency_steps": sum(1 for s in plan.steps if s.path != MAIN),
        "window_start": iso(plan.start, tz),
        "announced_resume": iso(plan.announced, tz),
        "hard_deadline": iso(plan.hard_deadline, tz),
        "confidence": plan.policy.confidence,
        "p50": iso(fc.p50, tz),
        "p80": iso(fc.p80, tz),
        "p90": iso(fc.p90, tz),
        "p_on_time": round(fc.p_on_time, 4),
        "p_hard_deadline": None if fc.p_hard_deadline is None else round(fc.p_hard_deadline, 4),
        "recommended_resume": iso(fc.recommended, tz),
        "expected_duration_s": round(rv.criticality.mean_s, 1),
        "critical_path": rv.criticality.path,
        "criticality": {k: round(v, 4) for k, v in rv.criticality.share.items()},
        "decision_deadline": iso(fc.decision_deadline, tz),
        "contingencies": [
            {"id": c.id, "title": c.title, "need_p50_s": round(c.need_p50_s, 1),
             "need_s": round(c.need_s, 1), "fits": c.fits}
            for c in rv.contingencies
        ],
        "reporting_rule": plan.policy.outage_report.value if plan.policy.outage_report else
        "policy",
        "reporting": in_force(plan.policy),
        "notices": None if plan.runbook.comms is None else
        plan.runbook.comms.model_dump(exclude_none=True),
        "samples": rv.samples,
        "seed": rv.seed,
        "history": rv.history,
        "findings": [f.as_json() for f in rv.findings],
    }
