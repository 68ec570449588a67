"""What a forecast needs from a run's state, followed event by event (issue #11).

A :class:`Frontier` mirrors one :class:`RunState`: the steps that teach the bias (completed, with
their log ratio actual/likely), the skipped and completed steps (which the longest paths zero),
and the frontier of the active path (ready or failed steps, running steps). It reads the state's
``changes`` (the steps whose StepState was replaced, in order) from where it stopped, so an event
costs what it touched. Another state, a new generation (an undo replays the log) or a change of
path starts it again from every step, which is what every event cost before.

The bias ratios are kept in file order and summed by ``sum()`` over that list, exactly as a scan
of every step would add them: the bias is the same to the last bit.
"""

from __future__ import annotations

import bisect
import math

import numpy as np

from runbook.engine.state import COMPLETED, FAILED, READY, RUNNING, SKIPPED, RunState, StepState
from runbook.format.plan import Plan

LOG_CLIP = math.log(4.0)


def log_ratio(likely: float, st: StepState) -> float | None:
    """The clipped ln(actual / likely) a completed step teaches, or None."""
    actual = st.actual_s
    if st.status == COMPLETED and likely >= 1.0 and actual and actual > 0:
        return min(LOG_CLIP, max(-LOG_CLIP, math.log(actual / likely)))
    return None


class Frontier:
    def __init__(self, plan: Plan, relevant: np.ndarray) -> None:
        self.plan = plan
        self.relevant = relevant
        self.generation = -1  # the state generation followed; -1: none yet
        self.read = 0  # how far into its ``changes``
        self.path = ""
        self.ratio_at: list[int] = []  # steps that teach the bias, file order ...
        self.ratios: list[float] = []  # ... and their log ratios
        self.skipped: set[int] = set()
        self.completed: set[int] = set()
        self.ready: set[int] = set()  # relevant, on the active path, ready or failed
        self.running: dict[int, StepState] = {}  # relevant, on the active path, running

    def follow(self, state: RunState) -> set[int] | None:
        """Catch up with ``state``: the steps that changed, or None when every step was read
        again (another state, an undo, a change of path)."""
        if state.generation != self.generation or state.path != self.path \
                or self.read > len(state.changes):
            self._restart(state)
            return None
        changed = set(state.changes[self.read:])
        self.read = len(state.changes)
        for i in changed:
            self._update(state, i)
        return changed

    def _restart(self, state: RunState) -> None:
        self.generation, self.read, self.path = state.generation, len(state.changes), state.path
        self.ratio_at, self.ratios = [], []
        self.skipped, self.completed, self.ready, self.running = set(), set(), set(), {}
        for s in self.plan.steps:
            self._update(state, s.index)

    def _update(self, state: RunState, i: int) -> None:
        s = self.plan.steps[i]
        st = state.steps[s.id]
        status = st.status
        r = log_ratio(s.likely, st)
        k = bisect.bisect_left(self.ratio_at, i)
        known = k < len(self.ratio_at) and self.ratio_at[k] == i
        if r is None and known:
            del self.ratio_at[k], self.ratios[k]
        elif r is not None and known:
            self.ratios[k] = r
        elif r is not None:
            self.ratio_at.insert(k, i)
            self.ratios.insert(k, r)
        for members, want in ((self.skipped, status == SKIPPED),
                              (self.completed, status == COMPLETED)):
            if want:
                members.add(i)
            else:
                members.discard(i)
        active = self.relevant[i] and s.path == self.path
        if active and status in (READY, FAILED):
            self.ready.add(i)
        else:
            self.ready.discard(i)
        if active and status == RUNNING:
            self.running[i] = st
        else:
            self.running.pop(i, None)

    def zeroed(self, i: int) -> bool:
        """Does step i take no time in the longest paths? Skipped steps, and once a step is
        skipped, completed ones too (as the forecast has always zeroed them)."""
        return i in self.skipped or (bool(self.skipped) and i in self.completed)
