"""Section 3 of bench/perf.py: `check --json` and its memory against a plain numpy Monte Carlo
process, and the largest plan `check` accepts.

The reference process reads the same runbook (its JSON twin, written by the generator from the
same data), draws triangular samples for every step (numpy, float32 rows, blocks of 1,024 steps),
runs one forward pass over the graph and prints the P50/P80/P90 of the resuming step as JSON:
the work a Monte Carlo plan review cannot avoid, in a plain script.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench import generate
from bench.measure import PYTHON, Figure, Proc, paired, run, runbook

SECTION = "3 start-up"

REFERENCE = r"""
import json, sys
import numpy as np
data = json.load(open(sys.argv[1]))
samples = int(sys.argv[2])
steps = data["steps"]
index = {s["id"]: i for i, s in enumerate(steps)}
unit = {"s": 1.0, "m": 60.0, "h": 3600.0}
def secs(text):
    return float(text[:-1]) * unit[text[-1]]
def three(est):
    if isinstance(est, dict):
        return secs(est["optimistic"]), secs(est["likely"]), secs(est["pessimistic"])
    m = secs(est)
    return 0.8 * m, m, 2.0 * m
a, m, b = (np.array(col, dtype=np.float64) for col in zip(*(three(s["estimate"]) for s in steps)))
preds = [[index[p] for p in s.get("after", [])] for s in steps]
rng = np.random.default_rng(0)
finish = np.empty((len(steps), samples), dtype=np.float32)
for lo in range(0, len(steps), 1024):
    hi = min(len(steps), lo + 1024)
    d = rng.triangular(a[lo:hi, None], m[lo:hi, None], b[lo:hi, None],
                       size=(hi - lo, samples)).astype(np.float32)
    for i in range(lo, hi):
        p = preds[i]
        if len(p) == 1:
            np.add(finish[p[0]], d[i - lo], out=finish[i])
        elif p:
            np.add(finish[p].max(axis=0), d[i - lo], out=finish[i])
        else:
            finish[i] = d[i - lo]
q = np.quantile(finish[len(steps) - 1], [0.5, 0.8, 0.9])
print(json.dumps({"p50": float(q[0]), "p80": float(q[1]), "p90": float(q[2])}))
"""

LIFTED = r"""
import sys
import runbook.format.plan as plan
plan.MAX_STEPS = 10**9
from runbook.cli import main
raise SystemExit(main(sys.argv[1:]))
"""


def _plan(tmp: Path, steps: int, compact: bool = False) -> tuple[Path, Path]:
    """The layered plan as YAML (``compact``: estimates and ``after`` on one line, as runbooks
    are written: 50,000 steps in 7.7 MB, under the loader's 8 MB) and its JSON twin."""
    data = generate.layered_data(steps)
    yml, twin = tmp / f"check-{steps}.yaml", tmp / f"check-{steps}.json"
    yml.write_text(generate.dump(data, compact=compact))
    twin.write_text(json.dumps(data))
    return yml, twin


def check_vs_reference(tmp: Path, sizes: tuple[int, ...], n: int) -> list[Figure]:
    """`check --json` wall time and peak memory, whole process, vs the numpy reference."""
    return [f for steps in sizes for f in _check(tmp, steps, n)]


def _check(tmp: Path, steps: int, n: int) -> list[Figure]:
    yml, twin = _plan(tmp, steps)
    ratio = 2.0 if steps <= 1000 else 2.5
    ref_procs: list[Proc] = []
    got_procs: list[Proc] = []

    def reference() -> float:
        ref_procs.append(run([PYTHON, "-c", REFERENCE, str(twin), "10000"], peak=True))
        return ref_procs[-1].wall

    def check() -> float:
        got_procs.append(runbook("check", str(yml), "--json", peak=True))
        return got_procs[-1].wall

    def lifted() -> float:
        got_procs.append(run([PYTHON, "-c", LIFTED, "check", str(yml), "--json"], ok=(0, 1),
                             peak=True))
        return got_procs[-1].wall

    out = []
    name = f"check --json, {steps:,} steps"
    probe = runbook("check", str(yml), "--json", ok=(0, 1, 2))
    if probe.code == 2:  # refused: say so, then measure it with the loader's limit lifted
        why = probe.err.strip().splitlines()[0] if probe.err.strip() else "exit 2"
        out.append(Figure(SECTION, name, None, None, "numpy MC process", "s", ratio_limit=ratio,
                          n=0, note=f"refused: {_reason(why)}"))
        name += ", step limit lifted by the bench"
    got, ref, reps = paired(lifted if probe.code == 2 else check, reference, n, budget_s=20)
    out.append(Figure(SECTION, name, got, ref, "numpy MC process", "s", ratio_limit=ratio,
                      n=reps, note="whole processes, wall time; 10,000 samples"))
    out.append(Figure(SECTION, name.replace("check --json", "check peak memory"),
                      max(p.peak_mb for p in got_procs), max(p.peak_mb for p in ref_procs),
                      "numpy MC process", "MB", ratio_limit=1.3, n=reps,
                      note="peak RSS, the largest of the repeats"))
    return out


def _accepts(tmp: Path, steps: int) -> tuple[bool, str]:
    """Does `runbook check` accept a ``steps``-step plan? (100 samples: the loader decides.)
    When it does, the reason says what the check took."""
    yml, _ = _plan(tmp, steps, compact=True)
    proc = runbook("check", str(yml), "--json", "--samples", "100", ok=(0, 1, 2), peak=True)
    size = yml.stat().st_size / 1e6
    yml.unlink()
    if proc.code != 2:
        return True, (f"check --samples 100 of {steps:,} steps ({size:.1f} MB of YAML): "
                      f"{proc.wall:.0f} s, {proc.peak_mb:,.0f} MB")
    msg = proc.err.strip().splitlines()[0] if proc.err.strip() else ""
    return False, _reason(msg)


def _reason(message: str) -> str:
    """The loader's complaint without the file name and the advice after it."""
    return message.split(": error: ")[-1].split("; ")[0]


def largest_plan(tmp: Path, target: int = 50_000, precision: float = 0.05) -> Figure:
    """The largest layered plan `check` accepts, up to ``target`` steps: if ``target`` is
    refused, step down (/2, /2.5, ...) to an accepted size, then bisect to ``precision``."""
    ok, reason = _accepts(tmp, target)
    if ok:
        from runbook.format.plan import MAX_STEPS

        return Figure(SECTION, "largest plan accepted (check)", target, None, "-", "steps",
                      limit=target, note=f"{target:,} accepted, {reason}; larger not tried (the "
                      f"step limit: {MAX_STEPS:,}, contingencies included)")
    lo, hi, probes = 0, target, 1
    for size in (20_000, 10_000, 5_000, 2_000, 1_000, 100):
        if size >= hi:
            continue
        probes += 1
        good, why = _accepts(tmp, size)
        if good:
            lo = size
            break
        hi, reason = size, why
    while lo and hi - lo > lo * precision:
        mid = (lo + hi) // 2
        probes += 1
        good, why = _accepts(tmp, mid)
        if good:
            lo = mid
        else:
            hi, reason = mid, why
    yml, _ = _plan(tmp, target, compact=True)  # what stops it next: the target, limit lifted
    lifted = run([PYTHON, "-c", LIFTED, "check", str(yml), "--json", "--samples", "100"],
                 ok=(0, 1, 2), peak=True)
    yml.unlink()
    nxt = (f"with the step limit lifted, {target:,} is accepted (check --samples 100: "
           f"{lifted.wall:.0f} s, {lifted.peak_mb:,.0f} MB)" if lifted.code != 2 else
           f"with the step limit lifted, {target:,} is still refused: "
           f"{_reason(lifted.err.strip().splitlines()[0])}")
    return Figure(SECTION, "largest plan accepted (check)", lo, None, "-", "steps",
                  limit=target, n=probes, note=f"{hi:,} refused: {reason}; {nxt}")
