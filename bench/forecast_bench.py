"""Forecast and `runbook check` speed on a generated 1,000-step DAG runbook.

Prints, beside a plain vectorised numpy Monte Carlo measured in the same run (sample once, one
full forward pass over the graph):
  * whole-process time of `runbook check --samples 10000` (median of 5),
  * the sampling cost inside runbook (drawing + longest-remaining-path precompute),
  * one frontier refresh of the live forecast from a mid-run state (median of 500),
  * one live engine tick (refresh + level) for the same state.

    python bench/forecast_bench.py [--steps 1000] [--samples 10000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def generate(steps: int, seed: int = 1) -> tuple[dict, list[list[int]]]:
    """A layered DAG: each step waits for 1-3 steps of earlier layers; estimates in minutes."""
    rnd = random.Random(seed)
    width = 8
    data_steps, preds = [], []
    for i in range(steps):
        layer = i // width
        if layer == 0:
            after: list[int] = []
        else:
            lo = max(0, (layer - 2) * width)
            pool = list(range(lo, layer * width))
            after = sorted(rnd.sample(pool, k=min(len(pool), rnd.randint(1, 3))))
        m = rnd.randint(1, 6)
        a, b = max(0.5, m * 0.7), m * rnd.choice([1.5, 2.0, 3.0])
        data_steps.append({"id": f"s{i:04d}", "title": f"Step {i}", "owner": "ops",
                           "estimate": {"optimistic": f"{a * 60:.0f}s", "likely": f"{m}m",
                                        "pessimistic": f"{b * 60:.0f}s"},
                           "after": [f"s{j:04d}" for j in after]})
        preds.append(after)
    runbook = {
        "runbook": 1, "id": "bench", "title": "Generated DAG", "timezone": "UTC",
        "window": {"start": "2026-11-25T00:00", "announced_resume": "2026-11-27T00:00"},
        "steps": data_steps,
        "contingencies": [{"id": "rollback", "title": "Roll back", "steps": [
            {"id": "rb1", "title": "Restore", "owner": "ops", "estimate": "20m"},
            {"id": "rb2", "title": "Reopen", "owner": "ops", "estimate": "5m"}]}],
    }
    return runbook, preds


def reference(steps: list[dict], preds: list[list[int]], samples: int) -> tuple[float, float]:
    """Plain numpy MC: triangular samples for all steps at once, then one forward pass."""
    def secs(text: str) -> float:
        return float(text[:-1]) * (60 if text.endswith("m") else 1)

    a = np.array([secs(s["estimate"]["optimistic"]) for s in steps], dtype=np.float32)[:, None]
    m = np.array([secs(s["estimate"]["likely"]) for s in steps], dtype=np.float32)[:, None]
    b = np.array([secs(s["estimate"]["pessimistic"]) for s in steps], dtype=np.float32)[:, None]
    t0 = time.perf_counter()
    rng = np.random.default_rng(0)
    d = rng.triangular(a, m, b, size=(len(steps), samples)).astype(np.float32)
    t1 = time.perf_counter()
    finish = np.empty_like(d)
    for i, p in enumerate(preds):
        finish[i] = d[i] + (finish[p].max(axis=0) if p else 0)
    _ = np.quantile(finish.max(axis=0), [0.5, 0.8, 0.9])
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--samples", type=int, default=10_000)
    args = ap.parse_args()

    from runbook.engine.state import COMPLETED, READY, RUNNING, RunState, StepState, fold
    from runbook.forecast.core import Forecaster
    from runbook.format.loader import load_runbook

    data, preds = generate(args.steps)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))

        ref_sample, ref_pass = min(reference(data["steps"], preds, args.samples) for _ in range(3))
        proc_ref = median_time(lambda: subprocess.run(
            [sys.executable, "-c", "import numpy; numpy.random.default_rng(0)"], check=True), 5)
        check = median_time(lambda: subprocess.run(
            [sys.executable, "-m", "runbook", "check", str(path), "--samples", str(args.samples),
             "--json"], check=True, stdout=subprocess.DEVNULL), 5)

        t0 = time.perf_counter()
        loaded = load_runbook(path)
        t_load = time.perf_counter() - t0
        t0 = time.perf_counter()
        f = Forecaster(loaded.plan, samples=args.samples, seed=0)
        t_draw = time.perf_counter() - t0
        # the worst a skip costs: the step before the end skipped, then every row read (its
        # ancestors, nearly every step, are redrawn; a refresh reads only the frontier's rows)
        last = loaded.plan.steps[loaded.plan.resume["main"]].preds[0]
        t0 = time.perf_counter()
        f.paths.set_zero(last, True)
        f.longest_remaining()
        t_lp = time.perf_counter() - t0
        f.paths.set_zero(last, False)
        f.longest_remaining()
        t0 = time.perf_counter()
        f.criticality()
        t_crit = time.perf_counter() - t0

        # Mid-run: the first half completed at their likely times, the ready frontier running.
        plan = loaded.plan
        start = datetime(2026, 11, 25, tzinfo=UTC)
        state = RunState.initial(plan)
        half = args.steps // 2
        steps = dict(state.steps)
        for s in plan.steps[:half]:
            steps[s.id] = StepState(COMPLETED, start, start + timedelta(seconds=s.likely), attempts=1)
        state = fold(plan, [], RunState(plan=plan, steps=steps))
        now = start + timedelta(hours=3)
        # Typical: the six running steps started 1-6 minutes ago. Worst: all stuck for hours.
        frontier = state.ids(READY)[:6]
        typical = {sid: StepState(RUNNING, now - timedelta(minutes=n + 1), None,
                                  now - timedelta(minutes=n + 1), 1)
                   for n, sid in enumerate(frontier)}
        state = fold(plan, [], RunState(plan=plan, steps={**state.steps, **typical}))
        t0 = time.perf_counter()
        f.forecast(state, now)  # the first refresh of a new state digests it (once per event)
        t_digest = time.perf_counter() - t0
        refresh = median_time(lambda: f.forecast(state, now), 500)
        stuck = {sid: StepState(RUNNING, start, None, start, 1) for sid in frontier}
        stuck_state = fold(plan, [], RunState(plan=plan, steps={**state.steps, **stuck}))
        f.forecast(stuck_state, now)
        refresh_stuck = median_time(lambda: f.forecast(stuck_state, now), 500)

    print(f"runbook forecast bench: {args.steps} steps x {args.samples} samples, "
          f"{len(state.ids(RUNNING))} running mid-run")
    rows = [
        ("reference numpy: triangular sampling", ref_sample),
        ("reference numpy: one forward pass + quantiles", ref_pass),
        ("reference numpy: sampling + pass", ref_sample + ref_pass),
        ("reference: bare `python -c 'import numpy'` process", proc_ref),
        ("reference as a process: bare numpy process + sampling + pass",
         proc_ref + ref_sample + ref_pass),
        ("runbook: load + validate YAML (in process)", t_load),
        ("runbook: draw samples + longest-path precompute", t_draw),
        ("runbook: a skip at the end, every row read (worst)", t_lp),
        ("runbook: criticality (check only)", t_crit),
        ("runbook check --samples N --json (whole process)", check),
        ("runbook: first refresh after an event (digest)", t_digest),
        ("runbook: frontier refresh, 6 running (median of 500)", refresh),
        ("runbook: frontier refresh, 6 running all stuck for hours", refresh_stuck),
    ]
    for name, secs in rows:
        print(f"  {name:<52} {secs * 1000:10.2f} ms")
    budget = 2 * (ref_sample + ref_pass)
    whole = proc_ref + ref_sample + ref_pass
    print(f"  check / (reference sampling + pass, in process) = {check / (ref_sample + ref_pass):.2f}x"
          f"; check / (reference as a process) = {check / whole:.2f}x (target <= 2x); "
          f"check minus bare numpy process = {(check - proc_ref) * 1000:.0f} ms vs 2x reference "
          f"{budget * 1000:.0f} ms")
    print(f"  frontier refresh {refresh * 1000:.3f} ms typical, {refresh_stuck * 1000:.3f} ms worst "
          "(target well under 1 ms)")


if __name__ == "__main__":
    main()
