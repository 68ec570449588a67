"""What every perf section shares: a figure with its reference and target, repeats, processes.

A :class:`Figure` is one row of bench/perf.py's table: a measured value, a reference value
measured in the same run, the target (an absolute bound on the measured value, or a bound on the
ratio measured / reference), and how many repeats the medians are of.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


@dataclass
class Figure:
    section: str
    name: str
    measured: float | None  # None: could not be measured (see ``note``)
    reference: float | None
    ref_name: str
    unit: str  # "s", "ms", "us", "MB", "x", "steps"
    limit: float | None = None  # the target: measured <= limit (in ``unit``) ...
    ratio_limit: float | None = None  # ... or measured / reference <= ratio_limit
    n: int = 1  # medians of n repeats
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.measured is None or not self.reference:
            return None
        return self.measured / self.reference

    @property
    def target(self) -> str:
        if self.limit is not None:
            return f"<= {fmt(self.limit, self.unit)}" if self.unit != "steps" else \
                f">= {self.limit:,.0f}"
        if self.ratio_limit is not None:
            return f"<= {self.ratio_limit:g}x"
        return "-"

    @property
    def passed(self) -> bool | None:
        if self.limit is None and self.ratio_limit is None:
            return None
        if self.measured is None:
            return False
        if self.unit == "steps":
            return self.measured >= (self.limit or 0)
        if self.limit is not None:
            return self.measured <= self.limit
        ratio = self.ratio
        return ratio is not None and ratio <= (self.ratio_limit or 0)

    @property
    def over(self) -> str:
        """How far from the target: '4.2x over' (0 when it passes)."""
        if self.passed is not False or self.measured is None:
            return ""
        if self.unit == "steps":
            return f"{self.measured / (self.limit or 1):.2f} of it"
        got, bound = ((self.measured, self.limit) if self.limit is not None
                      else (self.ratio, self.ratio_limit))
        return f"{got / bound:.1f}x over" if got and bound else ""


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "steps":
        return f"{value:,.0f}"
    if unit in ("ms", "us"):
        return f"{value:,.1f} {unit}" if value < 100 else f"{value:,.0f} {unit}"
    if unit == "MB":
        return f"{value:,.0f} MB"
    if unit == "x":
        return f"{value:.2f}x"
    return f"{value:.2f} {unit}"


def repeat(fn: Callable[[], float], n: int, budget_s: float = 60.0) -> tuple[float, int]:
    """Median of ``fn()`` over up to ``n`` calls, fewer if they take more than ``budget_s``."""
    values = []
    t0 = time.perf_counter()
    for _ in range(n):
        values.append(fn())
        if time.perf_counter() - t0 > budget_s:
            break
    return statistics.median(values), len(values)


def paired(measure: Callable[[], float], reference: Callable[[], float], n: int,
           budget_s: float = 90.0) -> tuple[float, float, int]:
    """Medians of ``measure`` and ``reference`` run alternately (so both see the same noise)."""
    got, ref = [], []
    t0 = time.perf_counter()
    for _ in range(n):
        ref.append(reference())
        got.append(measure())
        if time.perf_counter() - t0 > budget_s:
            break
    return statistics.median(got), statistics.median(ref), len(got)


@dataclass
class Proc:
    """One finished child process: wall and CPU seconds, peak RSS, exit code, output."""

    wall: float
    cpu: float
    peak_mb: float
    code: int
    out: str
    err: str
    lines: dict[str, float] = field(default_factory=dict)  # "name value" lines of its stdout


# A child's peak RSS as the kernel reports it (ru_maxrss) also counts the memory of the process
# that forked it, as it was at the fork: measured from this big bench process it would be this
# process's size. So peak memory is measured through a small launcher, which also times the child.
LAUNCHER = r"""
import os, sys, time
t0 = time.perf_counter()
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - t0
with open(sys.argv[1], "w") as f:
    f.write(f"{wall} {usage.ru_utime + usage.ru_stime} {usage.ru_maxrss}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run(args: list[str], *, ok: tuple[int, ...] = (0,), timeout: float = 600.0,
        env: dict[str, str] | None = None, peak: bool = False) -> Proc:
    """Run ``args`` (a whole process: interpreter start, imports, exit) and measure it; with
    ``peak``, through the launcher (its peak RSS is then the child's own)."""
    if peak:
        with tempfile.NamedTemporaryFile("r", suffix=".usage") as usage:
            proc = run([PYTHON, "-c", LAUNCHER, usage.name, *args], ok=ok, timeout=timeout,
                       env=env)
            wall, cpu, rss = usage.read().split()
        proc.wall, proc.cpu, proc.peak_mb = float(wall), float(cpu), int(rss) / 1024
        return proc
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(args, stdout=out, stderr=err, cwd=ROOT,
                             env={**os.environ, **(env or {})})
        deadline = t0 + timeout
        while True:
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                p.kill()
                pid, status, usage = os.wait4(p.pid, 0)
                break
            time.sleep(0.005)
        wall = time.perf_counter() - t0
        p.returncode = code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        proc = Proc(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, code,
                    out.read(), err.read())
    if code not in ok:
        tail = proc.err.strip().splitlines()[-3:]
        raise RuntimeError(f"{' '.join(args[:4])}... exited {code}: {' | '.join(tail)}")
    for line in proc.out.splitlines():
        name, _, value = line.partition(" ")
        with contextlib.suppress(ValueError):
            proc.lines[name] = float(value)
    return proc


def runbook(*args: str, ok: tuple[int, ...] = (0, 1), **kw) -> Proc:
    """``runbook ARGS`` as a whole process (exit 1, findings, is a normal answer)."""
    return run([PYTHON, "-m", "runbook", *args], ok=ok, **kw)


def load_note() -> str:
    load = os.getloadavg()
    return (f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min) on "
            f"{os.cpu_count()} CPUs")
