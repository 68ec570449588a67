"""Learning from past runs: ``runbook calibrate`` and the prior behind ``runbook check --db``.

Two uses of the same history, kept apart so the bias is never counted twice:

* :func:`calibrate` proposes new three-point estimates per step (steps matched by id across the
  past runs of the same runbook id) and can write them into a copy of the runbook file.
* :func:`prior_from_store` sets the forecast's prior on ln(actual / likely) from past runs:
  reference-class forecasting. The ratios are taken against the likely estimates of the runbook
  being checked *now*, so after ``calibrate --write`` the same history shows a bias near 1x
  and the forecast is not inflated a second time.

Blending rule (per step, n = completed observations, K = ``PLAN_WEIGHT`` = 3):

    w  = n / (n + K)                      the plan counts as K runs' worth of evidence
    m' = (1 - w) m + w median(x)
    a' = min((1 - w) a + w min(x), m')
    b' = max((1 - w) b + w max(x), max(x), m')   never below the worst observed duration

then a' is rounded down, m' to the nearest and b' up to ``GRID_S`` (10 s). With no observations
the plan stays as written. One run moves an estimate a quarter of the way, three runs half way.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from itertools import chain, compress, repeat
from operator import sub, truediv
from pathlib import Path
from typing import Any

from runbook.engine.gc_pause import paused
from runbook.engine.risk import pct
from runbook.engine.state import RunState
from runbook.engine.summary import VERSION, completed_of, likely_of
from runbook.forecast.core import LOG_CLIP, Forecaster, Prior
from runbook.format.durations import format_duration
from runbook.format.loader import Loaded, LoadError, load_text
from runbook.format.plan import Plan
from runbook.format.times import hhmm, iso
from runbook.store import RunLine, Store, is_postgres

PLAN_WEIGHT = 3.0
GRID_S = 10.0
LABELS = ("live", "rehearsal", "history")
# prior from history: the plan (bias 0, spread DEFAULT_TAU) counts as one more run
DEFAULT = Prior()
MIN_TAU, MIN_SIGMA, MAX_SIGMA = 0.1, 0.2, 1.0
SIGMA_WEIGHT = 5.0  # the default per-step noise counts as this many observations


@dataclass
class StepCal:
    id: str
    title: str
    path: str
    plan: tuple[float, float, float]
    single: bool
    observed: list[float]
    weight: float
    proposed: tuple[float, float, float]
    writable: bool = True  # False: shared through a YAML anchor; edit by hand

    @property
    def n(self) -> int:
        return len(self.observed)

    @property
    def changed(self) -> bool:
        return self.n > 0 and (self.single or any(
            abs(p - q) > 0.5 for p, q in zip(self.plan, self.proposed, strict=True)))


@dataclass
class Calibration:
    loaded: Loaded
    store: str
    label: str
    runs: list[RunLine]
    unreadable: list[str]
    steps: list[StepCal]
    text: str  # the runbook with the proposed estimates written in
    proposed: Loaded
    warnings: list[str] = field(default_factory=list)


def observations(store: Store, runbook_id: str, labels: tuple[str, ...]
                 ) -> tuple[list[RunLine], list[str], dict[str, list[float]]]:
    """(runs used, runs whose stored runbook cannot be read, step id -> durations)."""
    runs, bad = [], []
    seen: dict[str, list[float]] = {}
    plans: dict = {}
    for line in reversed(store.summaries(VERSION, runbook_id, detail=True)):  # oldest first
        if line.label not in labels:
            continue
        done = completed_of(store, line, plans)
        if done is None:
            bad.append(line.id)
            continue
        if not done["steps"]:
            continue
        runs.append(line)
        for step, seconds in zip(done["steps"].split(), done["actual"], strict=True):
            seen.setdefault(step, []).append(seconds)
    return runs, bad, seen


def _floor(x: float) -> float:
    return math.floor(x / GRID_S + 1e-9) * GRID_S


def _ceil(x: float) -> float:
    return math.ceil(x / GRID_S - 1e-9) * GRID_S


def _round(x: float) -> float:
    return math.floor(x / GRID_S + 0.5) * GRID_S


TAIL_RUNS = 5


def propose(a: float, m: float, b: float, xs: list[float]
            ) -> tuple[tuple[float, float, float], float]:
    """The blended three points for plan (a, m, b) and observations ``xs``, and the weight."""
    if not xs:
        return (a, m, b), 0.0
    w = len(xs) / (len(xs) + PLAN_WEIGHT)
    lo, med, hi = min(xs), statistics.median(xs), max(xs)
    m2 = _round((1 - w) * m + w * med)
    a2 = min(_floor((1 - w) * a + w * lo), m2)
    # A few calm nights say little about the tail: the pessimistic estimate only comes down
    # once TAIL_RUNS runs back it, and never below the worst one seen.
    tail = (1 - w) * b + w * hi if len(xs) >= TAIL_RUNS else b
    b2 = max(_ceil(max(tail, hi)), m2)
    return (a2, m2, b2), w


def _flow(a: float, m: float, b: float) -> str:
    return (f"{{optimistic: {format_duration(a)}, likely: {format_duration(m)}, "
            f"pessimistic: {format_duration(b)}}}")


def rewrite(loaded: Loaded, steps: list[StepCal]) -> tuple[str, list[str]]:
    """The runbook text with changed estimates edited in place; comments and layout kept."""
    doc, plan = loaded.document, loaded.plan
    spans: dict[str, list[tuple[int, int, str]]] = {}
    owners: dict[tuple[int, int], set[str]] = {}
    for s in plan.steps:
        loc = (*s.loc, "estimate")
        if s.single:
            parts = [(loc, None)]
        else:
            parts = [((*loc, k), k) for k in ("optimistic", "likely", "pessimistic")]
        found = []
        for part, key in parts:
            mark = doc.values.get(part)
            if mark is None:
                found = []
                break
            found.append((mark.start, mark.end, key or ""))
            owners.setdefault((mark.start, mark.end), set()).add(s.id)
        spans[s.id] = found
    edits: list[tuple[int, int, str]] = []
    warnings = []
    for cal in steps:
        if not cal.changed:
            continue
        found = spans.get(cal.id) or []
        shared = not found or any(len(owners[(a, b)]) > 1 for a, b, _k in found)
        if shared:
            cal.writable = False
            warnings.append(f"{cal.id}: its estimate is shared with other steps (a YAML anchor or "
                            "merge key) or could not be located; edit it by hand")
            continue
        a, m, b = cal.proposed
        if cal.single:
            start, end, _k = found[0]
            edits.append((start, end, _flow(a, m, b)))
        else:
            values = {"optimistic": a, "likely": m, "pessimistic": b}
            for start, end, key in found:
                edits.append((start, end, format_duration(values[key])))
    text = loaded.text
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text, warnings


def calibrate(loaded: Loaded, store: Store, label: str = "all") -> Calibration:
    labels = LABELS if label == "all" else (label,)
    plan = loaded.plan
    runs, bad, seen = observations(store, plan.id, labels)
    steps = []
    for s in plan.steps:
        xs = sorted(seen.get(s.id, []))
        proposed, w = propose(s.optimistic, s.likely, s.pessimistic, xs)
        steps.append(StepCal(s.id, s.title, s.path, (s.optimistic, s.likely, s.pessimistic),
                             s.single, xs, w, proposed))
    text, warnings = rewrite(loaded, steps)
    try:
        proposed = load_text(text, loaded.name, default_id=plan.id)
    except LoadError as e:  # a bug here: never write a file we cannot read back
        raise RuntimeError(f"calibrate produced an unreadable runbook:\n{e.render()}") from None
    for cal in steps:
        if cal.changed and cal.writable:
            p = proposed.plan.by_id[cal.id]
            got = (p.optimistic, p.likely, p.pessimistic)
            if any(abs(x - y) > 0.5 for x, y in zip(got, cal.proposed, strict=True)):
                raise RuntimeError(f"calibrate wrote {cal.id} as {got}, meant {cal.proposed}")
    return Calibration(loaded, str(store.path), label, runs, bad, steps, text, proposed,
                       warnings)


def _outlook(plan: Plan, samples: int = 2000) -> dict[str, Any]:
    fc = Forecaster(plan, samples=samples, seed=0).forecast(RunState.initial(plan), plan.start)
    return {"p50": fc.p50, "p80": fc.p80, "p90": fc.p90, "p_on_time": fc.p_on_time,
            "recommended": fc.recommended}


def _three(t: tuple[float, float, float]) -> str:
    return "/".join(format_duration(x) for x in t)


def calibration_text(cal: Calibration) -> str:
    plan = cal.loaded.plan
    tz = plan.timezone
    counts = {lb: sum(r.label == lb for r in cal.runs) for lb in LABELS}
    head = (f"{plan.id}: {len(cal.runs)} past run{'s' if len(cal.runs) != 1 else ''} with "
            f"completed steps in {cal.store} ({counts['live']} live, {counts['rehearsal']} "
            f"rehearsal, {counts['history']} imported history; --label {cal.label})")
    lines = [head]
    if cal.unreadable:
        lines.append(f"  skipped {len(cal.unreadable)} run(s) whose stored runbook this version "
                     f"cannot read: {', '.join(cal.unreadable)}")
    if not cal.runs:
        lines.append("Nothing to calibrate: no completed steps recorded for this runbook. Record "
                     "runs with `runbook run` (or rehearsals with `runbook simulate --db`).")
        return "\n".join(lines)
    lines.append(f"Proposed = plan and observations blended, weight n/(n+{PLAN_WEIGHT:g}): "
                 "the plan counts as 3 runs; pessimistic never below the worst observed, "
                 f"and lowered only on {TAIL_RUNS}+ runs.")
    lines.append("")
    table = [("STEP", "PLAN a/m/b", "N", "OBSERVED min/med/max", "PROPOSED a/m/b", "BACKED BY")]
    for c in cal.steps:
        if c.n == 0:
            obs, backed = "-", "no data: plan kept"
        else:
            obs = _three((c.observed[0], statistics.median(c.observed), c.observed[-1]))
            backed = f"{c.n} run{'s' if c.n != 1 else ''} ({round(c.weight * 100)}% weight)"
            if c.n < 3:
                backed += ", few"
            if not c.writable:
                backed += ", edit by hand"
        prop = _three(c.proposed) if c.changed else "unchanged"
        table.append((c.id, _three(c.plan), str(c.n), obs, prop, backed))
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for r in table:
        lines.append("  ".join(x.ljust(w) for x, w in zip(r, widths, strict=True)).rstrip())
    lines.append("")
    now, new = _outlook(plan), _outlook(cal.proposed.plan)
    ann = hhmm(plan.announced, tz)
    for name, o in (("Plan now", now), ("Proposed", new)):
        lines.append(f"{name:<9} P50 {hhmm(o['p50'], tz)}  P80 {hhmm(o['p80'], tz)}  "
                     f"P90 {hhmm(o['p90'], tz)}  P(resume by {ann}) {pct(o['p_on_time'])}")
    conf = plan.policy.confidence
    if new["p_on_time"] < conf:
        lines.append(f"With the proposed estimates, announce {hhmm(new['recommended'], tz)} or "
                     f"later to be {pct(conf)} sure (announced now: {ann}).")
    for w in cal.warnings:
        lines.append(f"warning: {w}")
    return "\n".join(lines)


def calibration_json(cal: Calibration) -> dict[str, Any]:
    plan = cal.loaded.plan
    tz = plan.timezone

    def pts(t: tuple[float, float, float]) -> dict[str, float]:
        return {"optimistic_s": t[0], "likely_s": t[1], "pessimistic_s": t[2]}

    def outlook(o: dict[str, Any]) -> dict[str, Any]:
        return {"p50": iso(o["p50"], tz), "p80": iso(o["p80"], tz), "p90": iso(o["p90"], tz),
                "p_on_time": round(o["p_on_time"], 4),
                "recommended_resume": iso(o["recommended"], tz)}

    has_runs = bool(cal.runs)
    return {
        "runbook": plan.id,
        "store": cal.store,
        "label": cal.label,
        "runs": [r.id for r in cal.runs],
        "unreadable_runs": cal.unreadable,
        "plan_weight": PLAN_WEIGHT,
        "steps": [{
            "id": c.id, "title": c.title, "path": c.path, "plan": pts(c.plan), "n": c.n,
            "observed": None if not c.n else {
                "min_s": c.observed[0], "median_s": statistics.median(c.observed),
                "max_s": c.observed[-1], "values_s": c.observed},
            "weight": round(c.weight, 4), "proposed": pts(c.proposed), "changed": c.changed,
            "writable": c.writable,
        } for c in cal.steps],
        "forecast": None if not has_runs else {
            "plan": outlook(_outlook(plan)), "proposed": outlook(_outlook(cal.proposed.plan))},
        "warnings": cal.warnings,
    }


# -- the prior for `runbook check --db` --------------------------------------------------------

def _ratios(plan: Plan, store: Store, runs: list[RunLine], own: bool = False
            ) -> list[list[float]]:
    """Per past run, ln(actual / likely) of its completed steps, against ``plan``'s likely
    (``own``: against the run's own plan, for history of other runbooks), clipped to
    +-LOG_CLIP. Runs that completed the same steps share one list of likely durations, and the
    logarithms are taken by ``map``: a thousand runs of a hundred steps in a few milliseconds."""
    out = []
    plans: dict = {}
    now = {s.id: s.likely for s in plan.steps if s.likely >= 1.0}
    against: dict[str, tuple[list[float], list[bool] | None]] = {}  # by completed steps
    for line in runs:
        done = completed_of(store, line, plans)
        if done is None:
            continue
        actual = done["actual"]
        if own:
            likely = likely_of(done)
            keep = [lk >= 1.0 for lk in likely]
        else:
            steps = done["steps"]
            if steps not in against:
                ids = steps.split()
                kept = [s in now for s in ids]
                against[steps] = ([now[s] for s in ids if s in now], None if all(kept) else kept)
            likely, keep = against[steps]
        if keep is not None and not all(keep):
            actual = list(compress(actual, keep))
            likely = likely if not own else list(compress(likely, keep))
        r = list(map(math.log, map(truediv, actual, likely)))
        if r and (min(r) < -LOG_CLIP or max(r) > LOG_CLIP):
            r = [min(LOG_CLIP, max(-LOG_CLIP, x)) for x in r]
        if r:
            out.append(r)
    return out


def prior_from_history(per_run: list[list[float]]) -> Prior:
    """A prior on ln(actual / likely) from past runs' ratios; the plan counts as one more run.

    mu0 = sum of run means / (R + 1); tau0² = (default tau0² + sum (run mean - mu0)²) / (R + 1), at
    least 0.1; sigma = pooled within-run spread, with 0.6 worth 5 observations, in [0.2, 1.0].
    """
    means = [sum(r) / len(r) for r in per_run]
    n_runs = len(means)
    mu0 = sum(means) / (n_runs + 1)
    tau2 = (DEFAULT.tau0 ** 2 + sum((m - mu0) ** 2 for m in means)) / (n_runs + 1)
    # sum over every run of (x - m) ** 2, term by term in the same order, the terms made by map
    ss = sum(chain.from_iterable(map(pow, map(sub, r, repeat(m)), repeat(2))
                                 for r, m in zip(per_run, means, strict=True)))
    dof = sum(len(r) - 1 for r in per_run)
    sigma = math.sqrt((SIGMA_WEIGHT * DEFAULT.sigma ** 2 + ss) / (SIGMA_WEIGHT + dof))
    return Prior(mu0=mu0, tau0=max(MIN_TAU, math.sqrt(tau2)),
                 sigma=min(MAX_SIGMA, max(MIN_SIGMA, sigma)), runs=n_runs)


def prior_from_store(plan: Plan, db_path: str | Path) -> tuple[Prior | None, str | None]:
    """(prior, one line for `runbook check` and `runbook run`) from past runs in the store.

    The runbook's own live runs when there are any, else its rehearsals, else history imported
    for it (`runbook history import --runbook`), else the organisation's imported history of
    any runbook (ratios against each window's own plan). None: the plan alone.
    """
    path = db_path if is_postgres(db_path) else Path(db_path)
    if isinstance(path, Path) and not path.exists():
        return None, f"no past runs of {plan.id}: no store at {path}; forecast uses the plan alone"
    with Store(path, readonly=True) as store, paused():  # many small objects, no cycles
        path = store.name
        runs = store.summaries(VERSION, plan.id, detail=True)
        per_run, label = [], ""
        for label in ("live", "rehearsal", "history"):
            per_run = _ratios(plan, store, [r for r in runs if r.label == label])
            if per_run:
                break
        if not per_run:
            label = "imported history"
            per_run = _ratios(plan, store, [r for r in store.summaries(VERSION, detail=True)
                                            if r.label == "history"], own=True)
    if not per_run:
        return None, (f"no past runs of {plan.id} with completed steps in {path}; "
                      "forecast uses the plan alone")
    prior = prior_from_history(per_run)
    means = sorted(math.exp(sum(r) / len(r)) for r in per_run)
    n = len(per_run)
    what = "window" if "history" in label else "run"
    which = (f"median of {n} {what}s, range {means[0]:.2f}x-{means[-1]:.2f}x" if n > 1
             else f"one {what}")
    return prior, (f"{n} past {label} {what}{'s' if n != 1 else ''} "
                   f"({sum(map(len, per_run))} completed steps): steps took "
                   f"{statistics.median(means):.2f}x their likely estimate ({which}); the forecast "
                   f"starts from {math.exp(prior.mu0):.2f}x (estimates not inflated) and learns on "
                   "from there")
