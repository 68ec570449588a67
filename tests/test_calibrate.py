"""`runbook calibrate` and the history prior of `runbook check --db`, checked by hand.

Three recorded runs of tests/data/report/calib.yaml (two live, one rehearsal):

    step     plan a/m/b     run 1  run 2  run 3 (rehearsal)
    block    2m/4m/8m       5m     6m     10m
    flow     1m/2m/4m       2m     2m     3m
    single   5m (4m/5m/10m) 4m     7m     13m
    never    3m             skipped every time
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
from test_report_support import DATA, record

from runbook.cli import main
from runbook.forecast.calibrate import calibrate, prior_from_history, prior_from_store, propose
from runbook.forecast.core import Prior
from runbook.format.loader import load_runbook
from runbook.store import Store

M = 60.0


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("calib") / "runs.db"
    record(path, "calib.yaml", "calib-1.events.yaml", label="live", samples=500)
    record(path, "calib.yaml", "calib-2.events.yaml", label="live", samples=500)
    record(path, "calib.yaml", "calib-3.events.yaml", label="rehearsal", samples=500)
    return path


def cal_of(db: Path, label: str = "all"):
    with Store(db, readonly=True) as s:
        return calibrate(load_runbook(DATA / "calib.yaml"), s, label)


def test_blending_rule_by_hand() -> None:
    # n = 3: weight 3 / (3 + 3) = 1/2
    (a, m, b), w = propose(2 * M, 4 * M, 8 * M, [5 * M, 6 * M, 10 * M])
    assert w == 0.5
    assert m == 0.5 * 240 + 0.5 * 360 == 300  # likely: half way to the median
    assert a == 0.5 * 120 + 0.5 * 300 == 210  # optimistic: half way to the fastest
    assert b == 600  # the blend (540) is below the worst observed (600): never below it
    # n = 1: weight 1/4; rounded to 10 s (a down, m nearest, b up); one run says nothing
    # about the tail, so the pessimistic estimate stays
    (a, m, b), w = propose(60, 100, 200, [137])
    assert w == 0.25 and (a, m, b) == (70, 110, 200)  # 79.25 -> 70, 109.25 -> 110
    # n = 5: weight 5/8, and now the tail may come down: 0.375*200 + 0.625*130 = 156.25 -> 160
    (a, m, b), w = propose(60, 100, 200, [90, 100, 110, 120, 130])
    assert w == 0.625 and (a, m, b) == (70, 110, 160)
    assert propose(60, 100, 200, []) == ((60, 100, 200), 0.0)  # no data: the plan stays


def test_three_runs(db: Path) -> None:
    cal = cal_of(db)
    assert len(cal.runs) == 3 and {r.label for r in cal.runs} == {"live", "rehearsal"}
    got = {c.id: (c.observed, c.weight, c.proposed, c.changed) for c in cal.steps}
    assert got == {
        "block": ([300, 360, 600], 0.5, (210, 300, 600), True),
        "flow": ([120, 120, 180], 0.5, (90, 120, 240), True),  # 3 runs: the tail stays
        # single 5m = P10 2m30s / 5m / P90 9m (default spread 0.5 / 1.8): m = (300 + 420) / 2,
        # a = min((150 + 240) / 2, m) rounded down to 10 s, b = the worst seen, 13m
        "single": ([240, 420, 780], 0.5, (190, 360, 780), True),
        "never": ([], 0.0, (90, 180, 324), False),
    }


def test_label_filter(db: Path) -> None:
    cal = cal_of(db, "live")
    assert len(cal.runs) == 2
    block = next(c for c in cal.steps if c.id == "block")
    # n = 2: weight 0.4; m = 0.6*240 + 0.4*330 = 276 -> 280; a = 0.6*120 + 0.4*300 = 192 -> 190;
    # b stays 480: two runs do not lower the pessimistic estimate
    assert block.weight == 0.4 and block.proposed == (190, 280, 480)
    assert [r.label for r in cal_of(db, "rehearsal").runs] == ["rehearsal"]


def test_write_keeps_comments_and_layout(db: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "calib.new.yaml"
    assert main(["calibrate", str(DATA / "calib.yaml"), "--db", str(db), "--write",
                 str(out)]) == 0
    assert "3 estimates updated" in capsys.readouterr().err
    old = (DATA / "calib.yaml").read_text().splitlines()
    new = out.read_text().splitlines()
    assert len(old) == len(new)
    changed = {i: (a, b) for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b}
    assert [b for a, b in changed.values()] == [
        "      optimistic: 3m30s     # keep this comment",
        "      likely: 5m",
        "      pessimistic: 10m",
        "    estimate: {optimistic: 1m30s, likely: 2m, pessimistic: 4m}   # and this one",
        "    estimate: {optimistic: 3m10s, likely: 6m, pessimistic: 13m}"
        "         # a single estimate: median 5m, P10 2m30s, P90 9m",
    ]
    plan = load_runbook(out).plan
    assert [(s.optimistic, s.likely, s.pessimistic) for s in plan.steps] == [
        (210, 300, 600), (90, 120, 240), (190, 360, 780), (90, 180, 324)]


def test_write_refuses_the_input_file(db: Path, tmp_path: Path, capsys) -> None:
    book = tmp_path / "calib.yaml"
    shutil.copy(DATA / "calib.yaml", book)
    before = book.read_text()
    assert main(["calibrate", str(book), "--db", str(db), "--write", str(book)]) == 2
    err = capsys.readouterr().err
    assert "is the runbook being calibrated" in err and "Traceback" not in err
    assert book.read_text() == before


def test_json(db: Path, capsys) -> None:
    assert main(["calibrate", str(DATA / "calib.yaml"), "--db", str(db), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    block = data["steps"][0]
    assert block["observed"] == {"min_s": 300, "median_s": 360, "max_s": 600,
                                 "values_s": [300, 360, 600]}
    assert block["proposed"] == {"optimistic_s": 210, "likely_s": 300, "pessimistic_s": 600}
    assert data["plan_weight"] == 3 and len(data["runs"]) == 3
    assert data["forecast"]["proposed"]["p50"] > data["forecast"]["plan"]["p50"]


def test_text_says_how_much_data_backs_each_proposal(db: Path, capsys) -> None:
    assert main(["calibrate", str(DATA / "calib.yaml"), "--db", str(db), "--label",
                 "live"]) == 0
    out = capsys.readouterr().out
    assert "2 runs (40% weight), few" in out
    assert "no data: plan kept" in out
    assert "never below the worst observed" in out and "lowered only on 5+ runs" in out


def test_no_runs(tmp_path: Path, capsys) -> None:
    db = tmp_path / "empty.db"
    Store(db).close()
    assert main(["calibrate", str(DATA / "calib.yaml"), "--db", str(db), "--write",
                 str(tmp_path / "x.yaml")]) == 0
    captured = capsys.readouterr()
    assert "Nothing to calibrate" in captured.out and "not writing" in captured.err
    assert not (tmp_path / "x.yaml").exists()
    assert main(["calibrate", str(DATA / "calib.yaml"), "--db", str(tmp_path / "no.db")]) == 2
    assert "no store at" in capsys.readouterr().err


# -- the prior for `runbook check --db` ---------------------------------------------------------

def test_prior_from_history_by_hand() -> None:
    run1 = [math.log(5 / 4), 0.0, math.log(4 / 5)]  # mean 0
    run2 = [math.log(6 / 4), 0.0, math.log(7 / 5)]
    m2 = sum(run2) / 3
    p = prior_from_history([run1, run2])
    mu0 = (0 + m2) / 3  # the plan counts as a third run with no bias
    assert p.mu0 == pytest.approx(mu0)
    assert p.tau0 == pytest.approx(math.sqrt((Prior().tau0**2 + mu0**2 + (m2 - mu0) ** 2) / 3))
    ss = sum(x * x for x in run1) + sum((x - m2) ** 2 for x in run2)
    assert p.sigma == pytest.approx(math.sqrt((5 * 0.36 + ss) / (5 + 4)))
    assert p.runs == 2


def test_prior_from_store_uses_live_runs_against_todays_estimates(db: Path, tmp_path) -> None:
    plan = load_runbook(DATA / "calib.yaml").plan
    prior, text = prior_from_store(plan, db)
    assert prior is not None and prior.runs == 2  # the live runs; the rehearsal is left out
    assert prior.mu0 == pytest.approx(prior_from_history([
        [math.log(5 / 4), 0.0, math.log(4 / 5)], [math.log(6 / 4), 0.0, math.log(7 / 5)]]).mu0)
    assert text.startswith("2 past live runs (6 completed steps)")
    # after calibrate --write, the same history shows (almost) no bias: not counted twice
    out = tmp_path / "calibrated.yaml"
    assert main(["calibrate", str(DATA / "calib.yaml"), "--db", str(db), "--label", "live",
                 "--write", str(out)]) == 0
    again, _ = prior_from_store(load_runbook(out).plan, db)
    assert abs(again.mu0) < abs(prior.mu0)


def test_prior_without_history(tmp_path: Path) -> None:
    plan = load_runbook(DATA / "calib.yaml").plan
    assert prior_from_store(plan, tmp_path / "none.db")[0] is None
    db = tmp_path / "empty.db"
    Store(db).close()
    prior, text = prior_from_store(plan, db)
    assert prior is None and text.startswith("no past runs of calib")


def test_check_says_history_was_used(db: Path, capsys) -> None:
    assert main(["check", str(DATA / "calib.yaml"), "--db", str(db), "--samples", "500"]) in (0, 1)
    out = capsys.readouterr().out
    assert "History" in out and "2 past live runs" in out
