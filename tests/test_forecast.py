"""The forecast core: exact where the maths gives answers, properties where it does not."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runbook.engine.state import COMPLETED, RUNNING, RunState, StepState, fold
from runbook.forecast.core import Forecaster, Prior, ll_cdf, ll_ppf, ll_scales, tri_cdf, tri_ppf
from tests.conftest import START, at, make_runbook, three

NO_BIAS = Prior(tau0=1e-9)  # switch off the shared bias factor: independent steps


def phi(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def minutes(fc_time, start=START) -> float:
    return (fc_time - start).total_seconds() / 60


def with_steps(state: RunState, **steps: StepState) -> RunState:
    """A copy of ``state`` with some steps replaced (and ready flags recomputed)."""
    new = RunState(plan=state.plan, steps={**state.steps, **steps}, path=state.path)
    return fold(state.plan, [], new)


# -- one step ------------------------------------------------------------------------------------


@pytest.mark.parametrize("a,m,b", [(3, 5, 12), (1, 1, 4), (2, 6, 6), (5, 5, 5), (0, 2, 10)])
def test_triangular_moments_match_the_formulas(a, m, b):
    u = (np.arange(200_000) + 0.5) / 200_000  # a fine grid: numerical integration, no noise
    x = tri_ppf(u, a, m, b)
    mean = (a + m + b) / 3
    var = (a * a + b * b + m * m - a * m - a * b - b * m) / 18
    assert x.mean() == pytest.approx(mean, abs=1e-4)
    assert x.var() == pytest.approx(var, abs=1e-3)
    assert x.min() >= a - 1e-9 and x.max() <= b + 1e-9


@pytest.mark.parametrize("a,m,b", [(3, 5, 12), (1, 1, 4), (2, 6, 6)])
def test_triangular_cdf_inverts_the_ppf(a, m, b):
    u = np.linspace(0.001, 0.999, 999)
    assert tri_cdf(tri_ppf(u, a, m, b), a, m, b) == pytest.approx(u, abs=1e-6)


# -- chains and networks -------------------------------------------------------------------------


def test_serial_chain_of_symmetric_steps_is_forecast_around_the_sum():
    loaded = make_runbook([{"id": f"s{i}", "estimate": three(3, 5, 7)} for i in range(8)],
                          announced="2026-11-25T00:40")  # the sum: 8 x 5m
    fc = Forecaster(loaded.plan, samples=20_000, seed=1).forecast(
        RunState.initial(loaded.plan), loaded.plan.start)
    assert minutes(fc.p50) == pytest.approx(40, abs=0.4)
    assert fc.p_on_time == pytest.approx(0.5, abs=0.02)


def test_single_chain_matches_the_classic_normal_approximation():
    # Ten independent triangular steps: P(T <= mean + 1 sd) tends to Phi(1) (Malcolm et al.).
    steps = [{"id": f"s{i}", "estimate": three(2, 4, 9)} for i in range(10)]
    mu = 10 * (2 + 4 + 9) / 3
    sd = math.sqrt(10 * (4 + 81 + 16 - 8 - 18 - 36) / 18)
    deadline = START + timedelta(minutes=mu + sd)
    loaded = make_runbook(steps, announced=deadline.strftime("%Y-%m-%dT%H:%M:%S+00:00"))
    fc = Forecaster(loaded.plan, samples=40_000, seed=3, prior=NO_BIAS).forecast(
        RunState.initial(loaded.plan), loaded.plan.start)
    assert fc.p_on_time == pytest.approx(phi(1.0), abs=0.015)


# The PERT example network (Wikipedia "Program evaluation and review technique").
PERT = [
    ("a", [], (2, 4, 7)), ("b", [], (3, 5, 9)), ("c", ["a"], (4, 5, 7)), ("d", ["a"], (4, 6, 10)),
    ("e", ["b", "c"], (4, 5, 7)), ("f", ["d"], (3, 4, 8)), ("g", ["e"], (3, 5, 8)),
]


def pert_runbook(fixed: bool) -> object:
    steps = []
    for sid, after, (a, m, b) in PERT:
        te = (a + 4 * m + b) / 6
        est = three(te, te, te) if fixed else three(a, m, b)
        steps.append({"id": sid, "after": after, "estimate": est})
    steps.append({"id": "done", "after": ["f", "g"], "estimate": "0s", "kind": "milestone"})
    return make_runbook(steps, announced="2026-11-25T01:00")


def test_textbook_pert_network_critical_path_and_expected_duration():
    loaded = pert_runbook(fixed=True)
    f = Forecaster(loaded.plan, samples=2_000, seed=0, prior=NO_BIAS)
    crit = f.criticality()
    assert crit.path == ["a", "c", "e", "g", "done"]
    assert crit.share["d"] == 0 and crit.share["b"] == 0 and crit.share["c"] == 1
    expected = sum((a + 4 * m + b) / 6 for sid, _, (a, m, b) in PERT if sid in "aceg")
    fc = f.forecast(RunState.initial(loaded.plan), loaded.plan.start)
    assert minutes(fc.p50) == pytest.approx(expected, abs=0.01)  # 19.67 minutes


def test_pert_network_with_uncertainty_has_merge_bias_above_the_critical_path_mean():
    loaded = pert_runbook(fixed=False)
    crit = Forecaster(loaded.plan, samples=20_000, seed=0, prior=NO_BIAS).criticality()
    path_mean = sum((a + m + b) / 3 for sid, _, (a, m, b) in PERT if sid in "aceg")
    assert crit.path == ["a", "c", "e", "g", "done"]
    assert crit.share["c"] > 0.8
    assert path_mean < crit.mean_s / 60 < path_mean + 1.0


def test_two_equal_parallel_branches_finish_later_than_one():
    one = make_runbook([{"id": "x", "estimate": three(3, 5, 7)}])
    two = make_runbook([
        {"id": "x", "estimate": three(3, 5, 7)},
        {"id": "y", "after": [], "estimate": three(3, 5, 7)},
        {"id": "join", "after": ["x", "y"], "estimate": "0s"},
    ])
    f1 = Forecaster(one.plan, 20_000, 0, NO_BIAS).forecast(RunState.initial(one.plan), START)
    f2 = Forecaster(two.plan, 20_000, 0, NO_BIAS).forecast(RunState.initial(two.plan), START)
    assert minutes(f2.p50) > minutes(f1.p50) + 0.3
    # Each branch alone is 50% done by 5m; both together only 25%.
    rem = Forecaster(two.plan, 20_000, 0, NO_BIAS).remaining(RunState.initial(two.plan), START)
    assert np.mean(rem <= 300) == pytest.approx(0.25, abs=0.015)


# -- during the run ------------------------------------------------------------------------------


def chain(n: int = 5, est=(3, 5, 9), **kw):
    return make_runbook([{"id": f"s{i}", "estimate": three(*est)} for i in range(n)], **kw)


def running(state: RunState, step: str, started_min: float) -> RunState:
    return with_steps(state, **{step: StepState(status=RUNNING, started_at=at(started_min),
                                                attempt_started_at=at(started_min), attempts=1)})


def test_never_predicts_a_resume_in_the_past():
    loaded = chain()
    f = Forecaster(loaded.plan, 5_000, 0)
    state = running(RunState.initial(loaded.plan), "s0", 0)
    for now in (0, 3, 9, 30, 240):
        fc = f.forecast(state, at(now))
        assert fc.p50 >= at(now) and fc.p90 >= fc.p50


def test_a_step_past_its_pessimistic_estimate_keeps_a_tail():
    loaded = chain(n=1, est=(3, 5, 9), announced="2026-11-25T02:00")
    f = Forecaster(loaded.plan, 5_000, 0)
    state = running(RunState.initial(loaded.plan), "s0", 0)
    rem20 = f.remaining(state, at(20))
    rem40 = f.remaining(state, at(40))
    assert np.median(rem20) > 60  # not "finishes now": a stuck step stays stuck for a while
    assert np.median(rem40) > np.median(rem20)


def test_completed_steps_running_long_make_the_rest_likelier_to_run_long():
    loaded = chain(n=6, announced="2026-11-25T01:00")
    f = Forecaster(loaded.plan, 10_000, 0)
    base = RunState.initial(loaded.plan)
    slow = with_steps(base, s0=StepState(COMPLETED, at(0), at(10), attempts=1))  # 2x likely
    f0 = f.forecast(with_steps(base, s0=StepState(COMPLETED, at(0), at(5), attempts=1)), at(10))
    f1 = f.forecast(slow, at(10))
    assert f1.bias > 1.05 and f1.learned_from == 1
    assert f1.p50 > f0.p50 + timedelta(minutes=1)


def test_one_stuck_step_does_not_dominate_the_learning():
    loaded = chain(n=6, announced="2026-11-25T03:00")
    f = Forecaster(loaded.plan, 10_000, 0)
    state = with_steps(RunState.initial(loaded.plan),
                       s0=StepState(COMPLETED, at(0), at(100), attempts=1))  # 20x likely
    fc = f.forecast(state, at(100))
    assert 1.0 < fc.bias < 1.35  # clipped to 4x and shrunk toward the plan (tau0 0.3: 1.32x)


def test_same_seed_same_forecast_and_refresh_does_not_flicker():
    loaded = chain()
    state = running(RunState.initial(loaded.plan), "s0", 0)
    a = Forecaster(loaded.plan, 5_000, 7).forecast(state, at(4))
    f = Forecaster(loaded.plan, 5_000, 7)
    assert f.forecast(state, at(4)) == a == f.forecast(state, at(4))
    assert Forecaster(loaded.plan, 5_000, 8).forecast(state, at(4)).p50 != a.p50


def test_decision_deadline_is_announced_minus_the_contingency_quantile():
    loaded = chain(n=3, contingencies=[{"id": "rollback", "title": "Roll back", "steps": [
        {"id": "r1", "estimate": three(4, 4, 4)}, {"id": "r2", "estimate": three(6, 6, 6)}]}])
    f = Forecaster(loaded.plan, 5_000, 0, NO_BIAS)
    fc = f.forecast(RunState.initial(loaded.plan), START)
    assert fc.contingency == "rollback" and fc.contingency_need_s == pytest.approx(600, abs=0.01)
    assert fc.decision_deadline == loaded.plan.announced - timedelta(minutes=10)


def test_a_running_contingency_has_no_decision_deadline():
    loaded = chain(n=3, contingencies=[{"id": "rb", "title": "Roll back", "steps": [{"id": "r1"}]}])
    plan = loaded.plan
    state = RunState.initial(plan)
    state = replace(state, path="rb")
    state = fold(plan, [], state)
    fc = Forecaster(plan, 2_000, 0).forecast(state, at(1))
    assert fc.path == "rb" and fc.decision_deadline is None


# -- properties ----------------------------------------------------------------------------------

estimates = st.tuples(st.integers(0, 20), st.integers(0, 20), st.integers(0, 40)).map(
    lambda t: tuple(sorted(t)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(est=st.lists(estimates, min_size=1, max_size=5), which=st.integers(0, 4),
       e1=st.floats(0, 60), extra=st.floats(0.1, 60))
def test_more_elapsed_time_never_raises_p_on_time(est, which, e1, extra):
    loaded = make_runbook([{"id": f"s{i}", "estimate": three(*e)} for i, e in enumerate(est)],
                          announced="2026-11-25T00:45")
    step = f"s{which % len(est)}"
    f = Forecaster(loaded.plan, 1_000, 0)
    state = RunState.initial(loaded.plan)
    state = with_steps(state, **{s.id: StepState(COMPLETED, START, START, attempts=1)
                                 for s in loaded.plan.steps[: which % len(est)]})
    state = running(state, step, 0)
    p1 = f.forecast(state, at(e1)).p_on_time
    p2 = f.forecast(state, at(e1 + extra)).p_on_time
    assert p2 <= p1


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(slack_est=estimates, elapsed=st.floats(0, 1))
def test_a_branch_with_slack_does_not_move_the_forecast_until_its_slack_is_used(slack_est, elapsed):
    # Main path: at least 60 minutes. Side branch: at most 40 minutes, running for part of it.
    loaded = make_runbook([
        {"id": "long", "estimate": three(60, 70, 90)},
        {"id": "side", "after": [], "estimate": three(*slack_est)},
        {"id": "join", "after": ["long", "side"], "estimate": "1m"},
    ], announced="2026-11-25T01:30")
    f = Forecaster(loaded.plan, 2_000, 0, NO_BIAS)
    base = running(running(RunState.initial(loaded.plan), "long", 0), "side", 0)
    # The side step has run no longer than its likely estimate: in every sample it ends by 40m,
    # long before the main path (60m at best), so its progress must not move anything.
    now = at(elapsed * slack_est[1])
    fc_side = f.forecast(base, now)
    no_side = with_steps(base, side=StepState(COMPLETED, START, now, attempts=1))
    fc_done = f.forecast(no_side, now)
    assert fc_side.p50 == fc_done.p50 and fc_side.p_on_time == fc_done.p_on_time


# -- a single estimate: log-logistic around its median (docs/forecast.md) ------------------------


@pytest.mark.parametrize("m,p10,p90", [(300, 150, 540), (600, 480, 1200), (60, 60, 120),
                                       (120, 60, 120)])
def test_a_single_estimate_keeps_its_median_and_puts_p10_p90_at_the_spread(m, p10, p90):
    lo, hi = ll_scales(m, p10, p90)
    u = np.array([0.1, 0.5, 0.9], dtype=np.float32)
    assert ll_ppf(u, m, lo, hi) == pytest.approx([p10, m, p90], rel=1e-4)


@pytest.mark.parametrize("m,p10,p90", [(300, 150, 540), (600, 480, 1200)])
def test_log_logistic_cdf_inverts_the_ppf_and_has_a_heavy_right_tail(m, p10, p90):
    lo, hi = ll_scales(m, p10, p90)
    u = np.linspace(0.001, 0.999, 999).astype(np.float32)
    assert ll_cdf(ll_ppf(u, m, lo, hi), m, lo, hi) == pytest.approx(u, abs=2e-4)
    # beyond the P90 the tail keeps going: P99 is well past the "pessimistic" point
    assert ll_ppf(np.float32([0.99]), m, lo, hi)[0] > 1.5 * p90


def test_a_plan_of_single_estimates_is_forecast_from_their_medians():
    loaded = make_runbook([{"id": "one", "estimate": "10m"}], announced="2026-11-25T00:18")
    fc = Forecaster(loaded.plan, 20_000, 0, NO_BIAS).forecast(
        RunState.initial(loaded.plan), loaded.plan.start)
    assert minutes(fc.p50) == pytest.approx(10, abs=0.15)
    assert fc.p_on_time == pytest.approx(0.9, abs=0.01)  # 18m is the default P90 (1.8x)


def test_a_stuck_single_estimate_step_is_expected_to_stay_stuck_longer():
    loaded = make_runbook([{"id": "one", "estimate": "5m"}], announced="2026-11-25T02:00")
    f = Forecaster(loaded.plan, 5_000, 0)
    state = running(RunState.initial(loaded.plan), "one", 0)
    rem = [np.median(f.remaining(state, at(t))) for t in (5, 15, 30, 60)]
    assert rem == sorted(rem) and rem[0] > 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(est=st.lists(st.integers(1, 20), min_size=1, max_size=5), which=st.integers(0, 4),
       e1=st.floats(0, 60), extra=st.floats(0.1, 60))
def test_more_elapsed_time_never_raises_p_on_time_for_single_estimates(est, which, e1, extra):
    loaded = make_runbook([{"id": f"s{i}", "estimate": f"{e}m"} for i, e in enumerate(est)],
                          announced="2026-11-25T00:45")
    f = Forecaster(loaded.plan, 1_000, 0)
    state = running(RunState.initial(loaded.plan), f"s{which % len(est)}", 0)
    assert f.forecast(state, at(e1 + extra)).p_on_time <= f.forecast(state, at(e1)).p_on_time


def test_the_recommended_time_is_a_whole_minute_the_forecast_itself_puts_at_the_confidence():
    loaded = chain(n=7, announced="2026-11-25T01:00")
    f = Forecaster(loaded.plan, 4_000, 3)
    state = running(RunState.initial(loaded.plan), "s0", 0)
    now = at(2) + timedelta(seconds=17)
    fc = f.forecast(state, now)
    assert fc.recommended.second == 0 and fc.recommended.microsecond == 0
    assert fc.recommended >= fc.p80  # policy confidence 0.8: never below its quantile
    assert fc.recommended - fc.p80 < timedelta(minutes=1)
    by = (fc.recommended - now).total_seconds()
    assert np.mean(f.remaining(state, now) <= by) >= loaded.plan.policy.confidence


def test_each_option_carries_its_median_need():
    loaded = chain(n=3, contingencies=[{"id": "rollback", "title": "Roll back", "steps": [
        {"id": "r1", "estimate": three(4, 4, 4)}, {"id": "r2", "estimate": three(6, 6, 6)}]}])
    fc = Forecaster(loaded.plan, 2_000, 0, NO_BIAS).forecast(RunState.initial(loaded.plan), START)
    (option,) = fc.options
    assert option.need_p50_s == pytest.approx(600, abs=0.01)
