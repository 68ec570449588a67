"""Forecast history: the run's events replayed through the forecast, as the live tool saw them.

A :class:`~runbook.forecast.Forecaster` is built with the run's own settings (``RunInfo.meta``:
samples, seed, prior), the events are folded up to each sampling instant and the forecast is
asked at that instant. The forecast is a pure function of (plan, state, now) and its samples are
seeded, so the numbers are the ones the live screen showed at those moments.

Cost control, so that a 2,000-step, multi-hour run still exports in well under a second:

* Sampling interval: every minute, unless that gives more than ``max_points`` points, where
  ``max_points = clamp(POINT_BUDGET // steps, MIN_POINTS, MAX_POINTS)``; the interval is then
  the smallest whole number of minutes that fits (a 15-step runbook: every minute up to 12 h;
  2,000 steps: at most 30 points). Every point costs a pass over the steps in Python.
* The first dip below ``policy.confidence`` is then refined to the minute: the minutes between
  the last coarse point above and the first below are replayed too. (A dip shorter than the
  interval can fall between coarse points; the recorded alerts are exact regardless, and the
  first warning alert is the primary "when the tool saw it".)
* Samples: the run's own count when ``samples x steps <= SAMPLE_BUDGET`` (then ``exact`` is
  true), else ``SAMPLE_BUDGET // steps`` (at least ``MIN_SAMPLES``; 500 for 2,000 steps):
  P(on time) is then an estimate from fewer samples of the same model, within a few percentage
  points, and the report says so.

* Notes: a ``note`` event only adds text, which the forecast never reads, so the replay folds
  the other events: a run with 100,000 notes replays in the time of its actions.

Recorded alerts are never recomputed: they are the log of what the tool said, and the report
shows them as recorded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from runbook.engine.state import ALERT, NOTE, RunState, fold
from runbook.forecast.core import Forecaster, Prior
from runbook.format.plan import Plan
from runbook.store import Event, RunInfo

POINT_BUDGET = 60_000
MIN_POINTS, MAX_POINTS = 30, 720
SAMPLE_BUDGET = 1_000_000
MIN_SAMPLES = 500


@dataclass(frozen=True)
class HistoryPoint:
    at: datetime
    p_on_time: float
    p50: datetime
    p90: datetime
    level: str  # the level the tool showed then (from the recorded alerts)
    path: str


@dataclass
class History:
    points: list[HistoryPoint]
    interval_s: float
    samples: int  # Monte Carlo samples used for the replay
    run_samples: int  # samples the live tool used
    seed: int
    exact: bool  # same samples as the live tool: the very numbers it showed
    first_below_at: datetime | None  # first point with P(on time) < confidence (before resume)

def plan_sampling(steps: int, run_samples: int, span_s: float) -> tuple[int, float]:
    """(samples, interval_s) for a replay of ``span_s`` seconds of a ``steps``-step plan."""
    steps = max(1, steps)
    samples = run_samples
    if run_samples * steps > SAMPLE_BUDGET:
        samples = max(MIN_SAMPLES, SAMPLE_BUDGET // steps)
    samples = max(100, min(samples, run_samples))
    max_points = max(MIN_POINTS, min(MAX_POINTS, POINT_BUDGET // steps))
    minutes = max(1, math.ceil(span_s / 60.0 / max_points))
    return samples, 60.0 * minutes


def replay(plan: Plan, info: RunInfo, events: list[Event], final: RunState,
           as_of: datetime) -> History:
    meta = info.meta or {}
    run_samples = int(meta.get("samples", 10_000) or 10_000)
    seed = int(meta.get("seed", 0) or 0)
    start = final.started_at
    end = final.resumed_at or as_of
    if start is None or end < start:
        return History([], 60.0, 0, run_samples, seed, True, None)
    span = (end - start).total_seconds()
    samples, interval = plan_sampling(len(plan.steps), max(100, run_samples), span)
    forecaster = Forecaster(plan, samples=samples, seed=seed, prior=Prior.from_dict(meta.get("prior")))
    confidence = plan.policy.confidence

    instants: list[datetime] = []
    t = start
    step = timedelta(seconds=interval)
    while t < end:
        instants.append(t)
        t += step
    instants.append(end)

    events = [ev for ev in events if ev.type != NOTE]  # text only: nothing the forecast reads
    points, first_below = _walk(plan, forecaster, events, instants, confidence)
    if first_below is not None and interval > 60 and first_below > start:
        # refine the first dip below confidence to the minute, between the two coarse points
        before = first_below - step
        fine = [before + timedelta(minutes=i) for i in range(1, int(interval // 60))]
        fine_points, refined = _walk(plan, forecaster, events, [before, *fine], confidence)
        if refined is not None and refined != first_below:
            first_below = refined
            points.append(next(p for p in fine_points if p.at == refined))
            points.sort(key=lambda p: p.at)
    return History(points, interval, samples, run_samples, seed, samples == run_samples,
                   first_below)


def _walk(plan: Plan, forecaster: Forecaster, events: list[Event], instants: list[datetime],
          confidence: float) -> tuple[list[HistoryPoint], datetime | None]:
    """Forecast at each instant (in order) from the events up to it; the first one below."""
    state = fold(plan, [])
    k, level, n = 0, "on_track", len(events)
    points: list[HistoryPoint] = []
    first_below = None
    for at in instants:
        new = []
        while k < n and events[k].at <= at:
            ev = events[k]
            new.append(ev)
            if ev.type == ALERT:
                level = str(ev.payload.get("level") or level)
            k += 1
        if new or not points:
            fold(plan, new, state)
        fc = forecaster.forecast(state, at)
        points.append(HistoryPoint(at, fc.p_on_time, fc.p50, fc.p90, level, state.path))
        if first_below is None and not state.resumed and fc.p_on_time < confidence:
            first_below = at
    return points, first_below
