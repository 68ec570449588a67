"""Benchmark: how big a runbook `check` can take, the figures behind the loader's limits.

    .venv/bin/python bench/size_bench.py [--steps 10000 50000] [--samples 10000]

Generates compact plans (one line a step, a single estimate) of the given sizes, in two shapes:
`linear` (each step after the one above) and `wide4` (each step after the four above), plus a
1,500-step `dense` graph (each step after every step above: 1.1 million links, which the loader
refuses by its link limit). For each it runs `runbook check` in a child process and prints the
file size, wall time, peak memory (max RSS) and the exit code. The limits in
runbook/format/plan.py (MAX_STEPS, MAX_LINKS) and runbook/format/files.py (MAX_BYTES) quote
these figures.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def plan(n: int, links: int | None) -> str:
    """``links``: how many steps above each step waits for (None: all of them)."""
    lines = ["runbook: 1", "title: Big", "timezone: Asia/Seoul", "window:",
             "  start: 2026-11-25T00:00", "  announced_resume: 2026-12-20T00:00", "steps:"]
    for i in range(n):
        first = 0 if links is None else max(0, i - links)
        after = ", ".join(f"s{j}" for j in range(first, i))
        lines.append(f"  - {{id: s{i}, title: Step {i}, estimate: 1s, owner: x, after: [{after}]}}")
    return "\n".join(lines) + "\n"


def measure(path: Path, samples: int) -> tuple[float, int, int]:
    """(wall seconds, max RSS in KB, exit code) of `runbook check` on ``path``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    began = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "runbook", "check", str(path), "--samples",
                             str(samples)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - began, usage.ru_maxrss, proc.returncode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, nargs="+", default=[10_000, 50_000])
    ap.add_argument("--samples", type=int, default=10_000)
    args = ap.parse_args()
    cases = [(f"{n}-linear", n, 1) for n in args.steps]
    cases += [(f"{n}-wide4", n, 4) for n in args.steps]
    cases.append(("1500-dense", 1500, None))
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'plan':<14} {'MB':>6} {'seconds':>8} {'max RSS MB':>11} exit")
        for name, n, links in cases:
            path = Path(tmp) / f"{name}.yaml"
            path.write_text(plan(n, links))
            wall, rss_kb, code = measure(path, args.samples)
            print(f"{name:<14} {path.stat().st_size / 1e6:6.1f} {wall:8.1f} {rss_kb / 1024:11.0f} "
                  f"{code}")


if __name__ == "__main__":
    main()
