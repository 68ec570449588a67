"""Is the forecast right about itself? The real forecast and the real engine against real
estimate-vs-actual data, beside baselines measured in the same run.

Reads a CSV of past steps (one row per step: a group such as the project, an estimate and an
actual, in the order they ran), cuts each group into windows of k consecutive steps (k = 5, 10,
20), turns each window into a runbook (a chain of single estimates; 1 estimated hour = 1 runbook
minute: the model is scale-free) and measures:

* before the run: coverage of P10/P50/P80/P90 (share of windows that finished by each), Brier
  and CRPS of the forecast with the window announced at the plan's own sum;
* during the run, replaying the actual durations through runbook.engine.run.Engine on a
  simulated clock with the window announced at the forecast's recommended time (its P80):
  coverage and Brier at 25/50/75% of the elapsed time, a reliability table of P(on time), and
  the levels: on-time windows that left on_track or were called `late`, overrun windows warned
  before the announced time and how early, and levels that reversed within two minutes.

    python bench/calibration.py                       # the shared SiP data, ~5 min on 2 cores
    python bench/calibration.py --per-k 60 --samples 1000     # a quick look, ~1 min
    python bench/calibration.py --csv past.csv --group-col change --estimate-col plan_min \\
        --actual-col actual_min

Baselines: the plain sum of estimates (a point forecast; in the run: elapsed + estimates left),
independent triangular steps (0.8x, 1x, 2x) without a shared bias factor, runbook v1 (the same
triangular, shared bias tau 0.25, through the real code) and, before the run, the reference class
(the actual/plan ratios of the other windows with the same k: leave-one-out).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from calibration_replay import LEVEL_VARIANTS, replay  # noqa: E402
from calibration_windows import (  # noqa: E402
    Window,
    crps,
    model_plan,
    q_index,
    read_windows,
    tri_samples,
)

from runbook.engine.state import RunState  # noqa: E402
from runbook.forecast.core import Forecaster, Prior  # noqa: E402

QS = (0.1, 0.5, 0.8, 0.9)
V1_PRIOR = Prior(tau0=0.25, sigma=0.6)


def pre_run(windows: list[Window], args: argparse.Namespace) -> dict[str, dict]:
    """Coverage, Brier at the plan's sum and CRPS/sum for every model, one forecast per window."""
    names = ("runbook", "runbook v1", "plain sum", "independent triangular", "reference class")
    rows: dict[str, dict[str, list]] = {n: {"cov": [], "brier": [], "crps": []} for n in names}
    ratios: dict[int, np.ndarray] = {}
    for k in {w.k for w in windows}:
        ratios[k] = np.array([w.actual / w.planned for w in windows if w.k == k])
    rng = np.random.default_rng(args.seed)
    for n, w in enumerate(windows):
        made = w.actual <= w.planned
        samples = {}
        for name, three, prior in (("runbook", False, args.prior), ("runbook v1", True, V1_PRIOR)):
            plan = model_plan(w, w.planned, spread=args.spread, three_point=three).plan
            f = Forecaster(plan, samples=args.samples, seed=args.seed, prior=prior)
            samples[name] = f.remaining(RunState.initial(plan), plan.start) / 60.0
        samples["independent triangular"] = tri_samples(w, args.samples, rng)
        same_k = ratios[w.k]
        own = np.flatnonzero(same_k == w.actual / w.planned)[:1]
        samples["reference class"] = np.delete(same_k, own) * w.planned
        for name, x in samples.items():
            x = np.sort(x)
            qs = [x[q_index(q, len(x))] for q in QS]
            rows[name]["cov"].append([w.actual <= q for q in qs])
            rows[name]["brier"].append((np.mean(x <= w.planned) - made) ** 2)
            rows[name]["crps"].append(crps(x, w.actual) / w.planned)
        rows["plain sum"]["cov"].append([w.actual <= w.planned] * 4)
        rows["plain sum"]["brier"].append(0.0 if made else 1.0)
        rows["plain sum"]["crps"].append(abs(w.actual - w.planned) / w.planned)
        if args.progress and n % 100 == 99:
            print(f"  pre-run {n + 1}/{len(windows)}", file=sys.stderr)
    return {n: {"cov": np.mean(r["cov"], axis=0), "brier": float(np.mean(r["brier"])),
                "crps": float(np.mean(r["crps"]))} for n, r in rows.items()}


def bound(windows: list[Window]) -> float:
    """Hindsight bound on the Brier score at the plan's sum for any forecast that sees only the
    window's shape: the on-time rate per decile of n_eff = (sum e)² / sum e², fitted on the
    outcomes themselves."""
    neff = np.array([w.n_eff for w in windows])
    made = np.array([w.actual <= w.planned for w in windows], dtype=float)
    edges = np.quantile(neff, np.linspace(0, 1, 11))
    which = np.clip(np.searchsorted(edges, neff, side="right") - 1, 0, 9)
    score = 0.0
    for b in range(10):
        sel = which == b
        if sel.any():
            r = made[sel].mean()
            score += sel.sum() * r * (1 - r)
    return score / len(windows)


def pct(x: float) -> str:
    return f"{100 * x:5.1f}"


def print_pre(res: dict[str, dict], windows: list[Window], bound_brier: float) -> None:
    made = np.mean([w.actual <= w.planned for w in windows])
    print("Before the run (announced at the plan's own sum for Brier; CRPS in units of that sum)")
    print(f"  {'model':<26}{'P10':>6}{'P50':>7}{'P80':>7}{'P90':>7}   {'Brier':>6}  {'CRPS':>6}")
    for name, r in res.items():
        c = r["cov"]
        print(f"  {name:<26}{pct(c[0]):>6}{pct(c[1]):>7}{pct(c[2]):>7}{pct(c[3]):>7}   "
              f"{r['brier']:6.3f}  {r['crps']:6.3f}")
    print(f"  {'target':<26}{'':>6}{'45-55':>7}{'77-85':>7}{'87-93':>7}   {'<=0.24':>6}")
    print(f"  windows that finished by the plan's sum: {100 * made:.1f}%; always answering that "
          f"share scores Brier {made * (1 - made):.3f}; hindsight bound by window shape "
          f"(on-time rate per n_eff decile, fitted on the outcomes): {bound_brier:.3f}")


def print_in_run(res: dict, args: argparse.Namespace) -> None:
    print()
    print(f"During the run: actual durations replayed through the engine (tick {args.tick:g} s), "
          "announced at the recommended time (P80 of the forecast before the run)")
    print(f"  {'model':<24}{'at':>5}{'P10':>7}{'P50':>7}{'P80':>7}{'P90':>7}   "
          f"{'Brier@announced':>15} {'Brier@sum':>9}")
    for name, per in res["checkpoints"].items():
        for c, r in per.items():
            cov = r["cov"]
            print(f"  {name:<24}{c:>4}%{pct(cov[0]):>7}{pct(cov[1]):>7}{pct(cov[2]):>7}"
                  f"{pct(cov[3]):>7}   {r['brier_ann']:15.3f} {r['brier_sum']:9.3f}")
    for title, key in (("P(on time by the announced time)", "rel_ann"),
                       ("P(on time by the plan's sum)", "rel_sum")):
        print()
        print(f"  Reliability of the runbook forecast's {title}, pooled over 25/50/75%:")
        print(f"    {'said':<10}{'n':>6}{'mean said':>11}{'happened':>10}{'gap':>7}")
        for lo, n, said, happened in res[key]:
            if n == 0:
                continue
            gap = 100 * (happened - said)
            flag = "  <- off by more than 10 points" if n >= 30 and abs(gap) > 10 else ""
            print(f"    {f'{lo}-{lo + 10}%':<10}{n:>6}{pct(said):>11}{pct(happened):>10}"
                  f"{gap:+7.1f}{flag}")
    print()
    on, over = res["on_time"], res["overrun"]
    print(f"  Levels ({on} windows on time, {over} overran the announced time; lead = how long "
          "before the announced time the first warning came, as a share of the window)")
    print(f"    {'rules':<34}{'on time: left':>14}{'called':>8}  {'overrun: warned':>16}"
          f"{'lead p25/p50':>14}{'late early':>11}{'reversals':>10}")
    for name, r in res["levels"].items():
        print(f"    {name:<34}{pct(r['left']):>14}{pct(r['late']):>8}  {pct(r['warned']):>16}"
              f"{r['lead']:>14}{pct(r['late_before']):>11}{r['reversals']:>10}")
    print(f"    {'target':<34}{'<=25':>14}{'<=10':>8}  {'100':>16}{'':>14}{'':>11}{'0':>10}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--csv", default="/work/shared/data/sip-dev-tasks.csv")
    p.add_argument("--group-col", default="project")
    p.add_argument("--estimate-col", default="estimate_h")
    p.add_argument("--actual-col", default="actual_h")
    p.add_argument("--k", default="5,10,20", help="window sizes (default 5,10,20)")
    p.add_argument("--per-k", type=int, default=300,
                   help="windows per size, evenly spread over the data; 0 = all (default 300)")
    p.add_argument("--samples", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tick", type=float, default=10.0, help="simulated seconds between refreshes")
    p.add_argument("--spread", default=None, help="P10,P90 multipliers of a single estimate "
                   "(default: the format's policy.spread default)")
    p.add_argument("--tau", type=float, default=None, help="prior shared-bias sd (default: Prior)")
    p.add_argument("--sigma", type=float, default=None, help="per-step noise in the learning")
    p.add_argument("--rollback", type=float, default=0.0, metavar="F",
                   help="give every window a rollback of F x its plan (decide_now can fire)")
    p.add_argument("--no-in-run", action="store_true", help="only the pre-run figures")
    p.add_argument("--progress", action="store_true")
    args = p.parse_args(argv)
    args.spread = tuple(float(x) for x in args.spread.split(",")) if args.spread else None
    base = Prior()
    args.prior = Prior(tau0=base.tau0 if args.tau is None else args.tau,
                       sigma=base.sigma if args.sigma is None else args.sigma)
    ks = tuple(int(x) for x in args.k.split(","))
    windows = read_windows(args.csv, args.group_col, args.estimate_col, args.actual_col, ks,
                           args.per_k)
    sizes = ", ".join(f"{sum(w.k == k for w in windows)} of k={k}" for k in ks)
    spread = args.spread or "policy default"
    print(f"Calibration on {Path(args.csv).name}: {len(windows)} windows ({sizes}); 1 estimated "
          f"hour = 1 runbook minute; {args.samples:,} samples, seed {args.seed}; spread {spread}, "
          f"tau0 {args.prior.tau0}, sigma {args.prior.sigma}")
    t0 = time.perf_counter()
    print_pre(pre_run(windows, args), windows, bound(windows))
    t1 = time.perf_counter()
    if not args.no_in_run:
        print_in_run(replay(windows, args), args)
    t2 = time.perf_counter()
    print(f"\n({t1 - t0:.0f} s before the run, {t2 - t1:.0f} s replaying; level rules: "
          f"{', '.join(LEVEL_VARIANTS)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
