"""Criticality: each step's share of samples on the longest path to the main resuming step, and
the critical path (the plan review's and the steps table's).

One forward pass over the first CRITICALITY_SAMPLES samples as drawn: each step's early finish is
kept only while a successor still needs it, and each step's early start plus its longest
remaining path (the forecaster's LP rows, read back in drawn order) is compared with the total
once that is known. Memory: one float32 row per step of the main path, not three.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from runbook.format.plan import MAIN

if TYPE_CHECKING:
    from runbook.forecast.core import Forecaster

CRITICALITY_SAMPLES = 2_000  # criticality shares to about +-1%; the forecast uses every sample


@dataclass(frozen=True)
class Criticality:
    share: dict[str, float]  # step id -> share of samples in which it is on the longest path
    path: list[str]  # the critical path, first step first
    mean_s: float  # mean duration of the main path to the resuming step


def criticality(forecaster: Forecaster) -> Criticality:
    """Per-step share of samples on the longest path to the main resuming step, from the
    forecaster's longest paths as they stand (the caller zeroes nothing)."""
    plan = forecaster.plan
    r = plan.resume[MAIN]
    n = min(forecaster.samples, CRITICALITY_SAMPLES)
    in_main = plan.ancestors(r)
    main = [i for i in forecaster.order if i in in_main]
    lp = forecaster.paths.rows(main)
    waiting = {i: sum(j in in_main for j in plan.succs[i]) for i in main}
    ef: dict[int, np.ndarray] = {}  # early finishes a successor still needs
    through = np.empty((len(main), n), dtype=np.float32)  # early start + LP, per step
    mean_ef: dict[int, float] = {}
    for k, i in enumerate(main):
        d = forecaster.durations(i, n)
        preds = plan.steps[i].preds
        if len(preds) == 1:
            finish = np.add(ef[preds[0]], d)
        elif preds:
            finish = np.add(functools.reduce(np.maximum, (ef[p] for p in preds)), d)
        else:
            finish = d.copy()
        mean_ef[i] = float(finish.mean())
        np.subtract(finish, d, out=through[k])
        through[k] += lp[i, forecaster.unsort[:n]]  # the first n samples as drawn
        ef[i] = finish
        for p in preds:
            waiting[p] -= 1
            if not waiting[p]:
                del ef[p]
    total = ef[r].copy()
    tol = np.maximum(np.float32(0.5), total * np.float32(3e-5))  # float32 sums in two orders
    share: dict[str, float] = {}
    for k, i in enumerate(main):
        row = through[k]
        row -= total
        np.abs(row, out=row)
        share[plan.steps[i].id] = float(np.count_nonzero(row <= tol)) / n
    path = [r]
    while plan.steps[path[-1]].preds:
        preds = plan.steps[path[-1]].preds
        path.append(max(preds, key=lambda p: (share[plan.steps[p].id], mean_ef[p])))
    sources = [i for i in main if not plan.steps[i].preds]
    whole = lp[sources].max(axis=0) if len(sources) > 1 else lp[sources[0]]
    whole = whole[forecaster.unsort]  # as drawn: the mean adds them in that order
    return Criticality(share=share, path=[plan.steps[i].id for i in reversed(path)],
                       mean_s=float(whole.mean(dtype=np.float64)))
