"""`runbook history import` and the track record `runbook calibrate` prints (issue #9 item 4)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from runbook.cli import main
from runbook.forecast.calibrate import prior_from_store
from runbook.forecast.history import minutes, parse
from runbook.forecast.track import track_record
from runbook.format.loader import load_runbook
from runbook.store import Store
from tests.conftest import RUNBOOKS

STORY = RUNBOOKS / "san-port-swap.yaml"

KOREAN = """회차,단계,작업명,계획(분),실적(분),일자
CHG-0301,stop-was,Close channels and stop the WAS cluster,5,9,2026-03-01
CHG-0301,,Shut down the CBSPRD database,5,8,2026-03-01
CHG-0301,,Reopen internet and teller channels,2,2,2026-03-01
CHG-0415,stop-was,WAS 중지,5,6,2026-04-15
CHG-0415,,DB 종료,1:00,1:20,2026-04-15
"""


def write(tmp_path: Path, text: str, name: str = "past.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def runs(db: Path) -> list:
    if not db.exists():
        return []
    with Store(db, readonly=True) as s:
        return s.runs()


@pytest.mark.parametrize("text,seconds", [("12", 720), ("12.5", 750), ("1:30", 5400),
                                          ("90s", 90), ("1h5m", 3900), ("0", 0)])
def test_minutes_are_read_as_people_write_them(text, seconds):
    assert minutes(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "-3", "12 apples"])
def test_bad_minutes_say_what_to_write(text):
    with pytest.raises(ValueError):
        minutes(text)


def test_korean_headers_and_excel_cp949_are_understood(tmp_path):
    for encoding in ("utf-8-sig", "cp949"):
        windows = parse(write(tmp_path, KOREAN, encoding=encoding), "Asia/Seoul")
        assert [w.name for w in windows] == ["CHG-0301", "CHG-0415"]
        first = windows[0].rows
        assert [(r.step, r.planned_s, r.actual_s) for r in first] == [
            ("stop-was", 300, 540), (None, 300, 480), (None, 120, 120)]
        assert windows[1].rows[1].planned_s == 3600 and windows[1].rows[1].actual_s == 4800
        assert first[0].date.isoformat() == "2026-03-01T00:00:00+09:00"


def test_english_headers_with_units_and_semicolons(tmp_path):
    text = "Change ID;Step title;Planned (min);Actual minutes\nA;one;10;12\nA;two;5;4\n"
    (w,) = parse(write(tmp_path, text))
    assert [(r.title, r.planned_s, r.actual_s) for r in w.rows] == [("one", 600, 720),
                                                                     ("two", 300, 240)]


def test_import_records_windows_as_history_and_check_forecasts_from_them(tmp_path, capsys):
    db = tmp_path / "runs.db"
    assert main(["history", "import", str(write(tmp_path, KOREAN)), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "Imported 2 windows (5 steps)" in out and "as history" in out
    stored = runs(db)
    assert len(stored) == 2 and {r.label for r in stored} == {"history"}
    with Store(db, readonly=True) as s:
        types = [e.type for e in s.events(stored[-1].id)]
    assert types[0] == "run_started" and types[-1] == "run_finished"
    assert types.count("step_completed") == 3
    # a runbook with no past runs of its own starts from the organisation's history
    prior, line = prior_from_store(load_runbook(STORY).plan, db)
    assert prior is not None and prior.runs == 2 and prior.mu0 > 0  # steps ran long
    assert line.startswith("2 past imported history windows")
    assert main(["check", str(STORY), "--db", str(db), "--samples", "1000"]) in (0, 1)
    assert "History    2 past imported history windows" in capsys.readouterr().out
    # importing the same file again adds nothing
    assert main(["history", "import", str(write(tmp_path, KOREAN)), "--db", str(db)]) == 0
    assert "Imported 0 windows" in capsys.readouterr().out and len(runs(db)) == 2


def test_bad_rows_are_named_by_line_and_nothing_is_imported(tmp_path, capsys):
    text = ("window,step,planned,actual\n"
            "A,one,10,12\n"
            "A,two,ten,4\n"
            ",three,5,5\n"
            "B,four,5,-1\n")
    db = tmp_path / "runs.db"
    assert main(["history", "import", str(write(tmp_path, text)), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "nothing imported" in err
    assert "line 3: planned minutes 'ten' is not minutes" in err
    assert "line 4: the window is empty" in err and "line 5: actual minutes" in err
    assert "line 2" not in err
    assert runs(db) == []


def test_missing_columns_are_named_with_what_the_header_has(tmp_path, capsys):
    path = write(tmp_path, "window,step,hours\nA,one,3\n")
    assert main(["history", "import", str(path), "--db", str(tmp_path / "r.db")]) == 2
    err = capsys.readouterr().err
    assert "line 1: no column for planned, actual" in err and "'hours'" in err


def test_store_import_is_one_transaction(tmp_path):
    db = tmp_path / "runs.db"
    good = {"runbook_id": "x", "title": "x", "label": "history", "source_text": "x",
            "source_name": "x", "created_at": load_runbook(STORY).plan.start, "meta": {},
            "events": []}
    with Store(db) as s, pytest.raises(ValueError):
        s.import_runs([good, {**good, "label": "nonsense"}])
    assert runs(db) == []


def test_with_a_runbook_steps_are_matched_and_calibrate_sees_them(tmp_path, capsys):
    text = ("window,title,planned,actual\n"
            "N1,Shut down the CBSPRD database,5,10\n"
            "N1,Reopen internet; mobile; ATM and teller channels,2,3\n"
            "N2,Shut down the CBSPRD database,5,8\n")
    db = tmp_path / "runs.db"
    assert main(["history", "import", str(write(tmp_path, text)), "--db", str(db),
                 "--runbook", str(STORY)]) == 0
    capsys.readouterr()
    assert {r.runbook_id for r in runs(db)} == {"san-port-swap"}
    assert main(["calibrate", str(STORY), "--db", str(db), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    stop_db = next(s for s in data["steps"] if s["id"] == "stop-db")
    assert stop_db["observed"]["values_s"] == [480.0, 600.0]
    assert data["track_record"]["runs"] == 2


def test_track_record_counts_how_often_each_quantile_held(tmp_path, capsys):
    rows = ["window,step,planned,actual"]
    for w in range(3):  # every window took 5x its plan: no forecast made at the start held
        rows += [f"slow{w},a,10,50", f"slow{w},b,10,50"]
    for w in range(2):  # these took half: everything held
        rows += [f"fast{w},a,10,5", f"fast{w},b,10,5"]
    db = tmp_path / "runs.db"
    assert main(["history", "import", str(write(tmp_path, "\n".join(rows) + "\n")), "--db",
                 str(db), "--runbook", str(RUNBOOKS / "san-port-swap.yaml")]) == 0
    with Store(db, readonly=True) as s:
        rec = track_record(s, "san-port-swap", ("history",))
    assert rec.runs == 5 and rec.by_label == {"history": 5}
    assert rec.held[0] == {"p50": 2, "p80": 2, "p90": 2}
    assert all(rec.held[p]["p90"] >= rec.held[p]["p50"] for p in rec.held)
    capsys.readouterr()
    assert main(["calibrate", str(STORY), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "Track record over 5 past runs (5 history)" in out
    assert "Our P80 held 2 of 5 times at the start" in out


def test_run_forecasts_from_imported_history_and_says_so_on_its_screen(tmp_path, capsys,
                                                                        monkeypatch):
    """#9.4: the first live run forecasts from the history and `run` says so, on the screen as
    it opens (the real app, headless) and on stderr when it closes."""
    import asyncio

    import runbook.tui.launch as launch

    db = tmp_path / "runs.db"
    assert main(["history", "import", str(write(tmp_path, KOREAN)), "--db", str(db)]) == 0
    real = launch.opening_operator_app
    seen: dict = {}

    class Headless:
        """The real operator app, run headless until its welcome is on the message line."""

        failure = None

        def __init__(self, open_engine, actor, title) -> None:
            self.app = real(open_engine, actor, title, freeze_gc=False)

        def run(self) -> None:
            async def opened() -> None:
                async with self.app.run_test(size=(160, 30)) as pilot:
                    for _ in range(400):
                        await pilot.pause(0.05)
                        if any("New run started" in s for s in self.app.said):
                            break
                    seen["message"] = str(self.app.main.query_one("#message").render())

            asyncio.run(opened())
            self.failure = self.app.failure

    monkeypatch.setattr(launch, "opening_operator_app", Headless)
    prior, _line = prior_from_store(load_runbook(STORY).plan, db)
    assert prior is not None and prior.runs == 2
    capsys.readouterr()
    assert main(["run", str(STORY), "--db", str(db), "--start", "now", "--operator", "kim"]) == 0
    assert "the forecast starts from 2 past runs" in seen["message"]
    assert f"(steps {math.exp(prior.mu0):.2f}x their likely estimate)" in seen["message"]
    assert "History: 2 past imported history windows" in capsys.readouterr().err
    live = [r for r in runs(db) if r.label == "live"]
    assert len(live) == 1 and live[0].meta["prior"]["runs"] == 2
