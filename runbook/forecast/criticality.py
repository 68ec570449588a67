"""Criticality: each step's share of samples on the longest path to the main resuming step, and
the critical path (the plan review's and the steps table's).

Two forward passes over the first CRITICALITY_SAMPLES samples as drawn, each keeping a step's
early finish only while a successor still needs it: the first finds the total (the resuming
step's early finish), the second compares each step's early start plus its longest remaining path
(the forecaster's LP rows, read back in drawn order) with it. Drawing the durations twice costs
~25 us a step; keeping every step's row between the passes cost 160 MB at 20,000 steps.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
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
    drawn = forecaster.unsort[:n]  # where the first n samples as drawn are kept
    mean_ef: dict[int, float] = {}
    total = np.empty(n, dtype=np.float32)

    def first_pass(i: int, d: np.ndarray, finish: np.ndarray) -> None:
        mean_ef[i] = float(finish.mean())
        if i == r:
            total[:] = finish

    _forward(forecaster, main, in_main, n, first_pass)
    tol = np.maximum(np.float32(0.5), total * np.float32(3e-5))  # float32 sums in two orders
    share: dict[str, float] = {}
    through = np.empty(n, dtype=np.float32)

    def second_pass(i: int, d: np.ndarray, finish: np.ndarray) -> None:
        np.subtract(finish, d, out=through)  # early start + LP, against the total
        np.add(through, lp[i, drawn], out=through)
        np.subtract(through, total, out=through)
        np.abs(through, out=through)
        share[plan.steps[i].id] = float(np.count_nonzero(through <= tol)) / n

    _forward(forecaster, main, in_main, n, second_pass)
    path = [r]
    while plan.steps[path[-1]].preds:
        preds = plan.steps[path[-1]].preds
        path.append(max(preds, key=lambda p: (share[plan.steps[p].id], mean_ef[p])))
    sources = [i for i in main if not plan.steps[i].preds]
    whole = lp[sources].max(axis=0) if len(sources) > 1 else lp[sources[0]]
    whole = whole[forecaster.unsort]  # as drawn: the mean adds them in that order
    return Criticality(share=share, path=[plan.steps[i].id for i in reversed(path)],
                       mean_s=float(whole.mean(dtype=np.float64)))


def _forward(forecaster: Forecaster, main: list[int], in_main: set[int], n: int,
             visit: Callable[[int, np.ndarray, np.ndarray], None]) -> None:
    """Each step of ``main`` (predecessors first) with its first n durations and early finish;
    an early finish is kept only until the last successor has read it."""
    plan = forecaster.plan
    waiting = {i: sum(j in in_main for j in plan.succs[i]) for i in main}
    ef: dict[int, np.ndarray] = {}
    for i in main:
        d = forecaster.durations(i, n)
        preds = plan.steps[i].preds
        if len(preds) == 1:
            finish = np.add(ef[preds[0]], d)
        elif preds:
            finish = np.add(functools.reduce(np.maximum, (ef[p] for p in preds)), d)
        else:
            finish = d.copy()
        visit(i, d, finish)
        ef[i] = finish
        for p in preds:
            waiting[p] -= 1
            if not waiting[p]:
                del ef[p]
