"""bench/calibration.py measures what it says: on data whose windows are exchangeable, the
leave-one-out reference class is calibrated by construction, so the harness must print its
coverage near the nominal P10/P50/P80/P90; the plain sum's coverage is the share of windows that
finished by the plan's sum; and the in-run replay runs end to end through the real engine."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.fixture
def calibration(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    monkeypatch.syspath_prepend(str(BENCH.parent))
    import calibration

    return calibration


def write(path: Path, ratios: np.ndarray, k: int) -> Path:
    """One group per window of k steps of 1 h each, every step of a window taking ``ratio`` x."""
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["project", "estimate_h", "actual_h"])
        for n, r in enumerate(ratios):
            for _ in range(k):
                out.writerow([f"P{n}", 1.0, round(float(r), 6)])
    return path


def figures(text: str, model: str) -> list[float]:
    line = next(x for x in text.splitlines() if x.strip().startswith(model + "  "))
    return [float(v) for v in re.findall(r"-?\d+\.\d+", line[len(model) + 2:])]


def test_exchangeable_windows_give_the_reference_class_its_nominal_coverage(
        calibration, tmp_path, capsys):
    rng = np.random.default_rng(7)
    ratios = np.exp(rng.normal(0.1, 0.5, 400))  # i.i.d. windows: leave-one-out is calibrated
    data = write(tmp_path / "past.csv", ratios, 5)
    assert calibration.main(["--csv", str(data), "--k", "5", "--per-k", "0", "--samples", "200",
                             "--no-in-run"]) == 0
    out = capsys.readouterr().out
    assert "400 windows (400 of k=5)" in out
    p10, p50, p80, p90, brier, _crps = figures(out, "reference class")
    for said, nominal in ((p10, 10), (p50, 50), (p80, 80), (p90, 90)):
        assert abs(said - nominal) <= 4, (said, nominal)
    made = 100 * np.mean(ratios <= 1.0)
    assert f"finished by the plan's sum: {made:.1f}%" in out
    assert figures(out, "plain sum")[:4] == [round(made, 1)] * 4
    assert abs(brier - (made / 100) * (1 - made / 100)) < 0.03  # close to the base rate


def test_windows_three_times_over_are_outside_every_forecast_of_the_plan(
        calibration, tmp_path, capsys):
    data = write(tmp_path / "late.csv", np.full(60, 3.0), 5)
    assert calibration.main(["--csv", str(data), "--k", "5", "--per-k", "0", "--samples", "200",
                             "--no-in-run"]) == 0
    out = capsys.readouterr().out
    assert "finished by the plan's sum: 0.0%" in out
    assert figures(out, "plain sum")[:5] == [0.0, 0.0, 0.0, 0.0, 1.0]  # Brier 1: said sure, wrong
    assert figures(out, "runbook")[3] < 10.0  # 3x is past the P90 of a 5-step plan


def test_the_in_run_replay_goes_through_the_engine_and_prints_the_levels(
        calibration, tmp_path, capsys):
    rng = np.random.default_rng(3)
    data = write(tmp_path / "past.csv", np.exp(rng.normal(0.1, 0.5, 12)), 5)
    assert calibration.main(["--csv", str(data), "--k", "5", "--per-k", "0", "--samples", "200",
                             "--tick", "30"]) == 0
    out = capsys.readouterr().out
    assert "During the run" in out and "Reliability of the runbook forecast" in out
    assert re.search(r"this version \(default rules\)\s+\d+\.\d", out)
