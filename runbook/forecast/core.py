"""Monte Carlo forecast of the resume time. Pure: (plan, state, now) -> Forecast; no I/O, no clock.

Model (see docs/forecast.md for the reasoning):

* A three-point step's duration is triangular on (optimistic, likely, pessimistic), as written. A
  single estimate m is log-logistic with median m and its P10 / P90 at m x policy.spread (0.5x and
  2x by default): it keeps its median, and its right tail is heavy (chosen on real data, see
  docs/forecast.md). Samples are drawn once, when the plan loads, from a generator seeded by
  (seed, step id), so a refresh never flickers and editing one step does not reshuffle the others.
* A shared bias factor k per sample scales all remaining work: ln k ~ N(mu_n, tau_n²), the
  normal-normal update of a prior N(mu_0, tau_0²) by the log ratios actual/likely of the steps
  completed so far (each clipped to [ln 1/4, ln 4]; sigma 0.6). With no history mu_0 = 0, so a plan
  of symmetric estimates is forecast around their sum; history (``runbook check --db``) sets mu_0.
* A running step is conditioned on its elapsed time e: u' = F(e/k) + U (1 - F(e/k)). A
  log-logistic step's tail grows with e by itself; a triangular one past its likely estimate also
  keeps an exponential tail with mean half the overrun so far, so a step past its pessimistic
  estimate never "finishes now".
* At load, LP[i] = D[i] + max over successors LP[j] (longest remaining path to the resuming step,
  per sample). A refresh only looks at the frontier (running and ready steps):
  R = max(running: rem + k·max LP[succ]; ready: k·LP) and T = now + R. Ready steps are assumed to
  start at once: people are not a limit (model a shared operator as an explicit ``after``).
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from runbook.engine.clock import utc
from runbook.engine.state import RunState
from runbook.forecast import running as run_left
from runbook.forecast.criticality import CRITICALITY_SAMPLES, Criticality, criticality
from runbook.forecast.dists import _tri_row, ll_cdf, ll_ppf, ll_scales, tri_cdf, tri_ppf
from runbook.forecast.frontier import LOG_CLIP, Frontier
from runbook.forecast.paths import LongestPaths
from runbook.forecast.running import TAIL_SHARE, U_MAX
from runbook.format.plan import MAIN, Plan

__all__ = ["CRITICALITY_SAMPLES", "LOG_CLIP", "TAIL_SHARE", "U_MAX", "Forecaster", "Forecast", "Option", "Prior", "Criticality", "ceil_minute",
           "ll_cdf", "ll_ppf", "ll_scales", "tri_cdf", "tri_ppf"]


@dataclass(frozen=True)
class Prior:
    """Belief about ln(actual / likely) before this run: N(mu0, tau0²); sigma = per-step noise."""

    mu0: float = 0.0
    tau0: float = 0.3  # shared factor across a window's steps (docs/forecast.md: chosen on SiP data)
    sigma: float = 0.6  # one step's own noise (SiP data: 0.60 once clipped to 1/4x-4x)
    runs: int = 0  # past runs it was learned from; 0 = the plan alone

    def as_dict(self) -> dict[str, float]:
        """The form a run records in its meta (see :meth:`from_dict`)."""
        return {"mu0": self.mu0, "tau0": self.tau0, "sigma": self.sigma, "runs": self.runs}

    @classmethod
    def from_dict(cls, raw: object) -> Prior | None:
        """A prior as recorded with a run; None when absent or unreadable (the plan alone)."""
        if not isinstance(raw, dict):
            return None
        try:
            return cls(**{k: raw[k] for k in ("mu0", "tau0", "sigma", "runs") if k in raw})
        except TypeError:
            return None


@dataclass(frozen=True)
class Option:
    """One contingency as it stands now: what it needs, its last safe start, and its outcome."""

    contingency: str
    need_s: float  # its confidence-quantile duration if started now
    deadline: datetime  # announced_resume - need: the latest start that still makes it
    p_on_time_if_triggered: float  # P(resume by announced_resume) if triggered now
    need_p50_s: float = 0.0  # its median duration if started now


@dataclass(frozen=True)
class Forecast:
    at: datetime
    path: str
    resumed_at: datetime | None
    p50: datetime
    p80: datetime
    p90: datetime
    recommended: datetime  # the policy.confidence quantile, rounded up to the whole minute
    p_on_time: float
    p_hard_deadline: float | None
    decision_deadline: datetime | None
    contingency: str | None  # the contingency the deadline is for
    contingency_need_s: float | None  # its confidence-quantile duration
    p_on_time_if_triggered: float | None
    bias: float  # median multiplier learned so far (1.0 = as planned)
    learned_from: int  # completed steps that taught the bias
    options: tuple[Option, ...] = ()  # every contingency (main path only), latest deadline first

    @property
    def resumed(self) -> bool:
        return self.resumed_at is not None


@dataclass
class _Digest:
    revision: int
    bias: tuple[np.ndarray, float, int]
    ready: np.ndarray  # k * max LP over ready steps
    running: list[tuple[int, object, np.ndarray | None]]  # (step, its state, k * LP after it)


def ceil_minute(t: datetime) -> datetime:
    """``t`` rounded up to the whole minute: a time people announce that is never earlier than
    the quantile it stands for (so never below its confidence)."""
    down = t.replace(second=0, microsecond=0)
    return down if down == t else down + timedelta(minutes=1)


def _quantile_index(q: float, n: int) -> int:
    return min(n - 1, max(0, math.ceil(q * n) - 1))


class Forecaster:
    """Samples drawn once per plan; :meth:`forecast` answers cheaply for any state and time."""

    def __init__(self, plan: Plan, samples: int = 10_000, seed: int = 0, prior: Prior | None = None):
        if samples < 100:
            raise ValueError("at least 100 samples are needed for a forecast")
        self.plan = plan
        self.samples = samples
        self.seed = seed
        self.prior = prior or Prior()
        n = len(plan.steps)
        self.a = np.array([s.optimistic for s in plan.steps], dtype=np.float32)
        self.m = np.array([s.likely for s in plan.steps], dtype=np.float32)
        self.b = np.array([s.pessimistic for s in plan.steps], dtype=np.float32)
        # single estimates: log-logistic scales (below, above the median); three points: None
        self.ll = [ll_scales(s.likely, s.optimistic, s.pessimistic) if s.single else None
                   for s in plan.steps]
        # three points that float32 holds exactly (the kept draws are those the full arithmetic
        # would give) and that the running shortcuts hold for
        self._runs = [s.optimistic == float(np.float32(s.optimistic)) and
                      s.likely == float(np.float32(s.likely)) and
                      s.pessimistic == float(np.float32(s.pessimistic)) and
                      run_left.exact_runs(s.optimistic, s.likely, s.pessimistic)
                      for s in plan.steps]
        self._running: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        # each step's stream is Philox(key=[seed, crc32(id)]); the seed word as Philox makes it
        # from that list (past 2**53 it goes through a float64)
        self._bits = np.random.Philox(key=[seed & 0xFFFFFFFFFFFFFFFF, 0])
        self._key0 = self._bits.state["state"]["key"][0]
        self._rng = np.random.Generator(self._bits)
        self._k_min = 1.0
        self._k_descending = False
        # The samples are kept in descending order of the shared bias draw (so of k): a figure
        # of the whole sample set (a quantile, a share) does not depend on their order, and a
        # running step's samples then fall in runs (see runbook.forecast.running). Each step's
        # own draws are taken from its stream in the same order.
        z = np.random.default_rng([seed, 0x6B1A5]).standard_normal(samples, dtype=np.float32)
        self.sample_order = np.argsort(-z, kind="stable")
        self.unsort = np.empty_like(self.sample_order)  # sorted[unsort] = as drawn
        self.unsort[self.sample_order] = np.arange(samples)
        self.Z = z[self.sample_order]
        self._zeros = np.zeros(samples, dtype=np.float32)
        self.order = plan.topo_order()
        # Steps that matter for each path's resume time: the resuming step and its ancestors.
        self.relevant = np.zeros(n, dtype=bool)
        for r in plan.resume.values():
            self.relevant[list(plan.ancestors(r))] = True
        self._starts = {c: [i for i in plan.paths[c] if self.relevant[i] and not plan.steps[i].preds]
                        for c in plan.contingencies}
        self._k_key: tuple[int, float] | None = None
        self._k: np.ndarray | None = None
        self._mu_tau = (self.prior.mu0, self.prior.tau0)
        self._digested: _Digest | None = None
        self._need_cache: dict[tuple, tuple[np.ndarray, float]] = {}
        self._qs = [_quantile_index(q, samples) for q in (0.5, 0.8, 0.9, plan.policy.confidence)]
        self._announced = utc(plan.announced)
        self._hard = utc(plan.hard_deadline) if plan.hard_deadline else None
        self.frontier = Frontier(plan, self.relevant)
        # every step's samples drawn once: the only n x samples matrix
        self.paths = LongestPaths(plan, samples, self.relevant, self._sorted_durations)

    # -- precomputation -------------------------------------------------------------------------

    def uniforms(self, i: int, n: int | None = None) -> np.ndarray:
        """The first ``n`` uniform draws behind step i's durations: its own stream, keyed by
        (seed, step id), so a step's samples never depend on the other steps."""
        key = np.array([self._key0, zlib.crc32(self.plan.steps[i].id.encode())], np.uint64)
        # one bit generator, reset to the fresh state of Philox(key=[seed, crc]): half the cost
        # of making a new one for each step (checked in tests/test_forecast_running.py)
        self._bits.state = {"bit_generator": "Philox",
                            "state": {"counter": np.zeros(4, np.uint64), "key": key},
                            "buffer": np.zeros(4, np.uint64), "buffer_pos": 4, "has_uint32": 0,
                            "uinteger": 0}
        return self._rng.random(n or self.samples, dtype=np.float32)

    def durations(self, i: int, n: int | None = None) -> np.ndarray:
        """Step i's sampled durations (seconds, float32); the same numbers every time."""
        return self._ppf(i, self.uniforms(i, n))

    def _sorted_durations(self, i: int) -> np.ndarray:
        """Step i's durations, in the forecaster's order of samples."""
        return self._ppf(i, self.uniforms(i)[self.sample_order])

    def _ppf(self, i: int, u: np.ndarray) -> np.ndarray:
        s, ll = self.plan.steps[i], self.ll[i]
        if ll is not None:
            return ll_ppf(u, s.likely, *ll)
        return _tri_row(u, s.optimistic, s.likely, s.pessimistic)

    def longest_remaining(self) -> np.ndarray:
        """LP[i, s]: longest path from the start of step i through its path's resuming step, with
        skipped steps (and, once a step is skipped, completed ones) taking no time, for the state
        last forecast (see :mod:`runbook.forecast.paths`: rows are brought up to date as read)."""
        return self.paths.rows(range(len(self.plan.steps)))

    def bias(self, state: RunState) -> tuple[np.ndarray, float, int]:
        """Per-sample multiplier k for remaining work, its median, and how many steps taught it."""
        return self._digest(state).bias

    def _digest(self, state: RunState) -> _Digest:
        """What a refresh needs from ``state``, computed once per state revision from the steps
        that changed since the last one (see :mod:`runbook.forecast.frontier`)."""
        if self._digested is not None and self._digested.revision == state.revision:
            return self._digested
        fr, paths = self.frontier, self.paths
        had_skips = bool(fr.skipped)
        changed = fr.follow(state)
        ratios = fr.ratios
        key = (len(ratios), round(sum(ratios), 9))
        if self._k is None or key != self._k_key:
            p = self.prior
            tau2 = 1.0 / (1.0 / p.tau0**2 + len(ratios) / p.sigma**2)
            mu = tau2 * (p.mu0 / p.tau0**2 + sum(ratios) / p.sigma**2)
            self._k = np.exp(mu + math.sqrt(tau2) * self.Z).astype(np.float32)
            self._k_key, self._mu_tau = key, (mu, math.sqrt(tau2))
            self._k_min = float(self._k.min())
            self._k_descending = bool((self._k[:-1] >= self._k[1:]).all())
        k = self._k
        if changed is None:
            changed = set(range(len(self.plan.steps)))
        elif bool(fr.skipped) != had_skips:  # the first skip (or its undoing) zeroes the done
            changed = changed | fr.completed | fr.skipped | paths.zero
        for i in changed:
            paths.set_zero(i, fr.zeroed(i))
        succs = paths.succs
        need = set(fr.ready)
        for i in fr.running:
            need.update(succs[i])
        lp = paths.rows(need)
        ready = np.zeros(self.samples, dtype=np.float32)
        for i in sorted(fr.ready):
            np.maximum(ready, lp[i], out=ready)
        running = []
        for i in sorted(fr.running):
            succ = succs[i]
            after = None
            if succ:
                after = k * (lp[succ[0]] if len(succ) == 1 else lp[list(succ)].max(axis=0))
            running.append((i, fr.running[i], after))
        for i in [i for i in self._running if i not in fr.running]:
            del self._running[i]  # its draws are kept while it runs, and only then
        self._digested = _Digest(state.revision, (k, math.exp(self._mu_tau[0]), len(ratios)),
                                 k * ready, running)
        return self._digested

    # -- refresh ----------------------------------------------------------------------------------

    def remaining(self, state: RunState, now: datetime) -> np.ndarray | None:
        """Seconds from ``now`` until the active path resumes service, per sample; None if resumed."""
        if state.resumed:
            return None
        digest = self._digest(state)
        k = digest.bias[0]
        out = digest.ready.copy()
        for i, st, after in digest.running:
            rem = self._running_remaining(i, st.elapsed_s(now), k)
            if after is not None:
                rem += after
            np.maximum(out, rem, out=out)
        return out

    def _running_remaining(self, i: int, elapsed: float, k: np.ndarray) -> np.ndarray:
        kept = self._running_draws(i)
        ll = self.ll[i]
        if ll is not None:
            return run_left.log_logistic(elapsed, k, kept[0], float(self.m[i]), *ll, self._zeros)
        return run_left.triangular(elapsed, k, self._k_min, self._k_descending and self._runs[i],
                                   kept, float(self.a[i]), float(self.m[i]), float(self.b[i]),
                                   self._zeros)

    def _running_draws(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Step i's uniforms, durations and tail draws, kept while it runs."""
        cached = self._running.get(i)
        if cached is None:
            u = self.uniforms(i)[self.sample_order]
            cached = self._running[i] = run_left.draws(u, self._ppf(i, u))
        return cached

    def contingency_need(self, contingency: str, state: RunState) -> tuple[np.ndarray, float]:
        """Duration of ``contingency`` if started now, per sample, and its confidence quantile.
        (Its median: :meth:`contingency_median`.)"""
        k, _, _ = self.bias(state)
        starts = self._starts[contingency]
        lp = self.paths.rows(starts)
        key = (contingency, tuple(self.paths.version[i] for i in starts), self._k_key)
        if key not in self._need_cache:
            need = k * lp[starts].max(axis=0) if starts else np.zeros(self.samples, np.float32)
            if len(self._need_cache) > 8:
                self._need_cache.clear()
            q = self._qs[3]
            self._need_cache[key] = (need, float(np.partition(need, q)[q]))
        return self._need_cache[key]

    def contingency_median(self, contingency: str, state: RunState) -> float:
        need, _ = self.contingency_need(contingency, state)
        starts = self._starts[contingency]
        key = ("p50", contingency, tuple(self.paths.version[i] for i in starts), self._k_key)
        if key not in self._need_cache:
            half = self._qs[0]
            self._need_cache[key] = (need, float(np.partition(need, half)[half]))
        return self._need_cache[key][1]

    def forecast(self, state: RunState, now: datetime) -> Forecast:
        """The resume forecast for ``state`` at ``now``; all times aware UTC."""
        plan = self.plan
        now = utc(now)
        _, bias, learned = self.bias(state)
        rem = self.remaining(state, now)
        if rem is None:
            t = utc(state.resumed_at)
            on_time = 1.0 if t <= self._announced else 0.0
            return Forecast(now, state.path, t, t, t, t, ceil_minute(t), on_time, None, None, None,
                            None, None, bias, learned)
        until_announced = (self._announced - now).total_seconds()
        qs = self._qs
        # the same order statistics as np.partition(rem, qs): numpy sorts 10,000 floats with
        # SIMD in ~15 us, while a partition at several places runs a branchy introselect that
        # takes ~120 us on data it has not seen before
        part = np.sort(rem)
        p50, p80, p90, pconf = (now + timedelta(seconds=float(part[i])) for i in qs)
        pconf = ceil_minute(pconf)
        p_on_time = float(np.count_nonzero(rem <= until_announced)) / self.samples
        p_hard = None
        if self._hard is not None:
            until_hard = (self._hard - now).total_seconds()
            p_hard = float(np.count_nonzero(rem <= until_hard)) / self.samples
        deadline = best = need_s = p_if = None
        options: list[Option] = []
        if state.path == MAIN:
            for c in plan.contingencies:
                need, q = self.contingency_need(c, state)
                d = self._announced - timedelta(seconds=q)
                p = float(np.count_nonzero(need <= until_announced)) / self.samples
                options.append(Option(c, q, d, p, self.contingency_median(c, state)))
                if deadline is None or d > deadline:
                    deadline, best, need_s, p_if = d, c, q, p
            options.sort(key=lambda o: o.deadline, reverse=True)
        return Forecast(
            at=now, path=state.path, resumed_at=None, p50=p50, p80=p80, p90=p90, recommended=pconf,
            p_on_time=p_on_time, p_hard_deadline=p_hard, decision_deadline=deadline,
            contingency=best, contingency_need_s=need_s, p_on_time_if_triggered=p_if,
            bias=bias, learned_from=learned, options=tuple(options),
        )

    # -- plan review --------------------------------------------------------------------------------

    def criticality(self) -> Criticality:
        """Per-step share of samples on the longest path to the main resuming step (with no step
        skipped: the plan as written)."""
        zeroed = set(self.paths.zero)
        for i in zeroed:
            self.paths.set_zero(i, False)
        try:
            return criticality(self)
        finally:
            for i in zeroed:
                self.paths.set_zero(i, True)
