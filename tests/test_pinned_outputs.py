"""What a report, `runbook runs`, `check --db` and `calibrate` say, pinned byte for byte.

Pinned before the big-store work of issue #11 (stored run summaries, SQL lookups, a faster
report): none of it may change a word of these outputs. The store mixes every way a run gets
there: generated runs written event by event (as older versions left them), runs recorded by the
engine (`simulate --db`), an aborted run, an undo, a hook failure recorded after the finish, and
imported history. Each output is checked with the run summaries the engine stored and with them
ignored (every run folded from its events).

Regenerate only when an output is meant to change, and say why in the commit:
    RUNBOOK_PIN_WRITE=1 .venv/bin/pytest tests/test_pinned_outputs.py
"""

from __future__ import annotations

import itertools
import os
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from test_report_support import DATA

from runbook.cli import main
from runbook.format.loader import load_text
from runbook.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import generate  # noqa: E402

PINS = Path(__file__).resolve().parent / "data" / "pins"
WRITE = bool(os.environ.get("RUNBOOK_PIN_WRITE"))
ROOT = Path(__file__).resolve().parent.parent

UNDO_AND_ABORT = """\
start: 2026-11-25T00:00
events:
  - {at: 0m, start: stop-was}
  - {at: 4m, complete: stop-was}
  - {at: 4m, start: stop-db}
  - {at: 5m, undo: true}
  - {at: 6m, start: stop-db}
  - {at: 9m, complete: stop-db}
  - {at: 9m, start: swap-port}
  - {at: 20m, abort: the spare port is dead too}
"""

HISTORY = """회차,단계,작업명,계획(분),실적(분),일자
CHG-0301,stop-was,Close channels and stop the WAS cluster,5,9,2026-03-01
CHG-0301,,Shut down the CBSPRD database,5,8,2026-03-01
CHG-0301,,Reopen internet and teller channels,2,2,2026-03-01
CHG-0415,stop-was,WAS 중지,5,6,2026-04-15
CHG-0415,,DB 종료,1:00,1:20,2026-04-15
"""


def _pinned(name: str, text: str) -> None:
    path = PINS / name
    if WRITE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
        return
    assert path.exists(), f"no pin {path}: RUNBOOK_PIN_WRITE=1 writes it"
    assert text == path.read_bytes().decode("utf-8"), f"{name} differs from its pin"


def _out(capsys: pytest.CaptureFixture, argv: list[str], db: Path) -> str:
    capsys.readouterr()
    code = main(argv)
    out = capsys.readouterr().out
    assert code in (0, 1), out
    return out.replace(str(db), "<DB>").replace(str(db.parent), "<TMP>").replace(str(ROOT), "<ROOT>")


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("pins")
    many, big = tmp / "many.db", tmp / "big.db"
    layered = tmp / "layered.yaml"
    layered.write_text(generate.layered(40))
    loaded = load_text(layered.read_text(), layered.name)
    count = itertools.count()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("runbook.store.sqlite.secrets.token_hex", lambda n: f"{next(count):04x}")
        with Store(many) as store:
            generate.past_runs(store, loaded, 24)
            # stopped part-way, then aborted; and finished, then a hook failure noticed later
            part = generate.record(store, loaded, generate.schedule(loaded, upto=0.4, seed=99),
                                   start=generate.START + timedelta(days=30))
            last = store.events(part)[-1].at
            store.append(part, at=last + timedelta(minutes=1), actor="bench", host="bench",
                         type="run_aborted", payload={"reason": "no-go"})
            done = generate.record(store, loaded, generate.schedule(loaded, seed=98),
                                   start=generate.START + timedelta(days=31))
            last = store.events(done)[-1].at
            store.append(done, at=last + timedelta(seconds=5), actor="bench", host="bench",
                         type="hook_failed", payload={"hook": "chat", "error": "timeout",
                                                      "level": "late"})
        for runbook, events, label in (("story.yaml", "story.events.yaml", "live"),
                                       ("story.yaml", "rollback.events.yaml", "live"),
                                       ("story.yaml", "partial.events.yaml", "live"),
                                       ("hostile.yaml", "hostile.events.yaml", "rehearsal"),
                                       ("calib.yaml", "calib-1.events.yaml", "live"),
                                       ("calib.yaml", "calib-3.events.yaml", "rehearsal")):
            assert main(["simulate", str(DATA / runbook), "--events", str(DATA / events),
                         "--db", str(many), "--label", label, "--samples", "500"]) == 0
        script = tmp / "undo-abort.events.yaml"
        script.write_text(UNDO_AND_ABORT)
        assert main(["simulate", str(DATA / "story.yaml"), "--events", str(script),
                     "--db", str(many), "--samples", "500"]) == 0
        past = tmp / "past.csv"
        past.write_text(HISTORY, encoding="utf-8")
        assert main(["history", "import", str(past), "--db", str(many)]) == 0
        report_plan = load_text(generate.layered(60), "report-60.yaml")
        how = generate.fill(len(report_plan.plan.paths["main"]), 600)
        with Store(big) as store:
            generate.record(store, report_plan, generate.schedule(report_plan, **how),
                            samples=500)
    return {"many": many, "big": big, "layered": layered}


@pytest.fixture(params=["stored", "ignored"], autouse=True)
def summaries(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every pin holds both ways: with the summaries the engine stored, and with them ignored
    (another format asked for), so that every run is folded from its events."""
    if request.param == "ignored":
        for module in ("runbook.report.runs", "runbook.forecast.calibrate"):
            monkeypatch.setattr(f"{module}.VERSION", -1)
    return request.param


def test_runs(stores, capsys) -> None:
    db = stores["many"]
    _pinned("runs.json", _out(capsys, ["runs", "--db", str(db), "--json"], db))
    _pinned("runs.txt", _out(capsys, ["runs", "--db", str(db)], db))


@pytest.mark.parametrize("runbook", ["layered", "story", "calib", "core-banking-batch"])
def test_check_db_prior(stores, capsys, runbook: str) -> None:
    db = stores["many"]
    path = {"layered": stores["layered"], "story": DATA / "story.yaml",
            "calib": DATA / "calib.yaml",
            "core-banking-batch": ROOT / "runbooks" / "core-banking-batch.yaml"}[runbook]
    out = _out(capsys, ["check", str(path), "--json", "--db", str(db), "--samples", "500"], db)
    _pinned(f"check-{runbook}.json", out)


@pytest.mark.parametrize("runbook", ["layered", "calib"])
def test_calibrate(stores, capsys, runbook: str) -> None:
    db = stores["many"]
    path = stores["layered"] if runbook == "layered" else DATA / "calib.yaml"
    _pinned(f"calibrate-{runbook}.json",
            _out(capsys, ["calibrate", str(path), "--json", "--db", str(db)], db))


@pytest.mark.parametrize("fmt", ["md", "csv", "json", "html"])
def test_report_of_a_generated_run(stores, capsys, fmt: str) -> None:
    db = stores["big"]
    _pinned(f"report-generated.{fmt}",
            _out(capsys, ["report", "--db", str(db), "--format", fmt], db))


@pytest.mark.parametrize("fmt", ["md", "json"])
def test_reports_of_the_other_runs(stores, capsys, fmt: str) -> None:
    db = stores["many"]
    with Store(db, readonly=True) as store:
        ids = [r.id for r in store.runs()]
    out = "".join(_out(capsys, ["report", rid, "--db", str(db), "--format", fmt], db)
                  for rid in ids[:12])
    _pinned(f"reports-many.{fmt}", out)


def test_prior_to_the_last_bit(stores) -> None:
    from runbook.forecast.calibrate import prior_from_store
    from runbook.format.loader import load_runbook

    lines = []
    for path in (stores["layered"], DATA / "story.yaml", DATA / "calib.yaml",
                 DATA / "hostile.yaml", ROOT / "runbooks" / "core-banking-batch.yaml"):
        prior, said = prior_from_store(load_runbook(path).plan, str(stores["many"]))
        lines.append(f"{path.name}: {prior!r}\n  {said}".replace(str(stores["many"]), "<DB>"))
    _pinned("priors.txt", "\n".join(lines) + "\n")
