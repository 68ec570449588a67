"""Windows of consecutive past steps, the runbooks made from them, and the scoring arithmetic
(shared by bench/calibration.py and its replay)."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from runbook.format.loader import Loaded, load_text

START = "2026-01-05T00:00:00+00:00"


@dataclass
class Window:
    group: str
    k: int
    est: list[float]  # runbook minutes (= estimated hours)
    act: list[float]
    planned: float = field(init=False)
    actual: float = field(init=False)

    def __post_init__(self) -> None:
        self.planned, self.actual = sum(self.est), sum(self.act)

    @property
    def n_eff(self) -> float:
        return self.planned ** 2 / sum(e * e for e in self.est)


def read_windows(path: str | Path, group_col: str, estimate_col: str, actual_col: str,
                 ks: tuple[int, ...], per_k: int) -> list[Window]:
    """Non-overlapping windows of k consecutive rows of one group, in file order; per size,
    ``per_k`` of them evenly spread over the data (0 = all). Rows without a positive estimate
    and actual are left out."""
    groups: dict[str, list[tuple[float, float]]] = {}
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = {group_col, estimate_col, actual_col} - set(reader.fieldnames or ())
        if missing:
            raise SystemExit(f"{path}: no column {', '.join(sorted(missing))}; columns are "
                             f"{', '.join(reader.fieldnames or ())}")
        for row in reader:
            try:
                e, a = float(row[estimate_col]), float(row[actual_col])
            except ValueError:
                continue
            if e > 0 and a > 0 and math.isfinite(e) and math.isfinite(a):
                groups.setdefault(row[group_col], []).append((e, a))
    out = []
    for k in ks:
        ws = [Window(g, k, [e for e, _ in rows[i:i + k]], [a for _, a in rows[i:i + k]])
              for g, rows in groups.items() for i in range(0, len(rows) - k + 1, k)]
        if per_k and len(ws) > per_k:
            ws = [ws[i] for i in np.linspace(0, len(ws) - 1, per_k).round().astype(int)]
        out += ws
    return out


def seconds(minutes: float) -> str:
    return f"{minutes * 60:.3f}s"


def model_plan(w: Window, announced_min: float, *, spread: tuple[float, float] | None = None,
               three_point: bool = False, rollback: float = 0.0) -> Loaded:
    """A runbook for ``w``: a chain of its steps, announced ``announced_min`` after the start.
    ``three_point``: v1's reading of a single estimate, triangular (0.8m, m, 2m), written out."""
    steps = []
    for i, e in enumerate(w.est):
        est: object = seconds(e)
        if three_point:
            est = {"optimistic": seconds(0.8 * e), "likely": seconds(e),
                   "pessimistic": seconds(2 * e)}
        steps.append({"id": f"s{i + 1:02d}", "title": f"Step {i + 1}", "estimate": est})
    start = np.datetime64(START[:19])
    announced = start + np.timedelta64(int(math.ceil(announced_min * 60_000)), "ms")
    data: dict = {"runbook": 1, "id": "window", "title": f"{w.group} window", "timezone": "UTC",
                  "window": {"start": START, "announced_resume": f"{announced}+00:00"},
                  "steps": steps}
    if spread:
        data["policy"] = {"spread": {"optimistic": spread[0], "pessimistic": spread[1]}}
    if rollback:
        data["contingencies"] = [{"id": "rollback", "title": "Roll back", "steps": [
            {"id": "rb", "title": "Roll back", "estimate": seconds(rollback * w.planned),
             "after": []}]}]
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return load_text(yaml.dump(data, Dumper=dumper, sort_keys=False), "window.yaml")


def q_index(q: float, n: int) -> int:
    """The order statistic the forecast reports as its q-quantile."""
    return min(n - 1, max(0, math.ceil(q * n) - 1))


def crps(x: np.ndarray, y: float) -> float:
    """Continuous ranked probability score of the sample ``x`` (sorted) for the outcome ``y``:
    E|X - y| - E|X - X'| / 2."""
    n = len(x)
    spread = 2.0 * np.sum((2 * np.arange(1, n + 1) - n - 1) * x) / (n * n)
    return float(np.mean(np.abs(x - y)) - 0.5 * spread)


def tri_samples(w: Window, samples: int, rng: np.random.Generator, done: int = 0,
                elapsed: float = 0.0) -> np.ndarray:
    """Remaining minutes under independent triangular steps (0.8m, m, 2m), no shared factor:
    steps before ``done`` are finished; step ``done`` has run ``elapsed`` minutes (resampled
    beyond it; past 2m it ends now)."""
    total = np.zeros(samples)
    for i in range(done, w.k):
        m = w.est[i]
        a, b = 0.8 * m, 2.0 * m
        d = np.full(samples, m) if a == b else rng.triangular(a, m, b, samples)
        if i == done and elapsed > 0:
            if elapsed >= b:
                d = np.full(samples, elapsed)
            else:
                c = (m - a) / (b - a)
                x = min(max(elapsed, a), b)
                f = (x - a) ** 2 / ((b - a) * (m - a)) if x <= m else \
                    1 - (b - x) ** 2 / ((b - a) * (b - m))
                f = min(f, 1.0) if x > a else 0.0
                u = f + rng.random(samples) * (1 - f)
                d = np.where(u < c, a + np.sqrt(u * (b - a) * (m - a)),
                             b - np.sqrt((1 - u) * (b - a) * (b - m)))
            d = np.maximum(d - elapsed, 0)
        total += d
    return total
