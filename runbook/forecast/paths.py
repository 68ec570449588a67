"""LP[i, s]: the longest remaining path from the start of step i to its path's resuming step, per
sample, kept up to date row by row as steps are zeroed (skipped, or done once something is).

Drawn once, at load, successors first. When a step joins or leaves the zeroed set only its row and
its ancestors' rows can change: they are marked stale, and a stale row is recomputed when it is
read (its stale successors first). The forecast reads the frontier's rows, which are the
*descendants* of what the operators just finished, so a completion costs a few row marks and no
redraw; skipping a step further down recomputes the rows between the frontier and it.

A recomputed row is the same float32 expression on the same inputs as in a full pass
(``durations(i)`` or 0, plus the maximum of the successors' rows), so it is bit for bit the row a
full recomputation would give: caching changes no figure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from runbook.format.plan import Plan


class LongestPaths:
    def __init__(self, plan: Plan, samples: int, relevant: np.ndarray,
                 durations: Callable[[int], np.ndarray]) -> None:
        n = len(plan.steps)
        self.order = plan.topo_order()
        self.rank = [0] * n  # position in the topological order
        for k, i in enumerate(self.order):
            self.rank[i] = k
        # LP[i] reads its relevant successors; a step's own relevant predecessors read it
        keep = relevant.tolist()
        self.succs = [tuple(j for j in plan.succs[i] if keep[j]) if keep[i] else ()
                      for i in range(n)]
        self.readers: list[tuple[int, ...]] = [() for _ in range(n)]
        for i in range(n):
            for j in self.succs[i]:
                self.readers[j] += (i,)
        self.durations = durations
        self.zero: set[int] = set()
        self.stale: set[int] = set()  # closed under readers: a stale row's readers are stale
        self.version = [0] * n  # bumped when a row is recomputed (for caches built on rows)
        self.lp = np.empty((n, samples), dtype=np.float32)
        for i in reversed(self.order):
            self._compute(i)

    def _compute(self, i: int) -> None:
        row = self.lp[i]
        if i in self.zero:
            row[:] = 0
        else:
            row[:] = self.durations(i)
        succ = self.succs[i]
        if len(succ) == 1:
            row += self.lp[succ[0]]
        elif succ:
            row += self.lp[list(succ)].max(axis=0)
        self.version[i] += 1

    def set_zero(self, i: int, zero: bool) -> None:
        """Step i takes no time (``zero``) or its sampled time from now on."""
        if (i in self.zero) == zero:
            return
        if zero:
            self.zero.add(i)
        else:
            self.zero.discard(i)
        stack = [i]
        while stack:
            j = stack.pop()
            if j not in self.stale:
                self.stale.add(j)
                stack.extend(self.readers[j])

    def rows(self, ids: Iterable[int]) -> np.ndarray:
        """The matrix, with the rows ``ids`` (and what they read) brought up to date."""
        todo = [i for i in ids if i in self.stale]
        if todo:
            need: set[int] = set()
            while todo:
                j = todo.pop()
                if j in self.stale and j not in need:
                    need.add(j)
                    todo.extend(self.succs[j])
            for j in sorted(need, key=self.rank.__getitem__, reverse=True):
                self._compute(j)
                self.stale.discard(j)
        return self.lp

    def row(self, i: int) -> np.ndarray:
        return self.rows((i,))[i]
