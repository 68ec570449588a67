"""`runbook report`: exact figures from runs recorded with `runbook simulate --db`."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from test_report_support import DATA, record, t

from runbook.cli import main
from runbook.engine.state import ALERT
from runbook.report import build, render
from runbook.report.history import plan_sampling
from runbook.report.json_out import as_json
from runbook.store import SCHEMA_VERSION, Store


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    """name -> (store, run id): the story night, the rollback night, a run still in progress."""
    base = tmp_path_factory.mktemp("report")
    out = {}
    for name in ("story", "rollback", "partial"):
        db = base / f"{name}.db"
        out[name] = (db, record(db, "story.yaml", f"{name}.events.yaml"))
    return out


def report_of(db: Path, run: str | None = None, **kw):
    with Store(db, readonly=True) as s:
        info = s.resolve(run)
        return build(info, s.events(info.id), **kw)


def steps_by_id(data: dict) -> dict[str, dict]:
    return {s["id"]: s for s in data["steps"]}


# -- exact figures ------------------------------------------------------------------------------

def test_story_night_figures(runs) -> None:
    data = as_json(report_of(*runs["story"]))
    run, sm = data["run"], data["summary"]
    assert run["status"] == "finished" and run["runbook"] == "port-swap-story"
    assert run["started_at"] == t("00:00") and run["finished_at"] == t("01:40")
    assert run["operators"] == ["simulator"]
    assert sm["announced_resume"] == t("00:30")
    assert sm["resumed_at"] == t("01:30")
    assert sm["overrun_s"] == 3600 and sm["resume_delta_s"] == 3600
    assert sm["outage_report_required"] is True
    # the overrun crossed 10 minutes at 00:40; the report is due 24 h later
    assert sm["report_due_by"] == t("00:40", day=26)
    assert sm["contingency"] is None and sm["path"] == "main"
    assert sm["planned_likely_resume"] == t("00:24")  # 3+3+5+3+4+4+2 minutes of likely time
    assert sm["first_warning_at"] is not None and sm["first_warning_at"] < sm["resumed_at"]
    assert sm["first_warning"]["level"] in ("at_risk", "decide_now", "late")
    steps = steps_by_id(data)
    expect = {  # id: (actual_s, likely_s, variance_s)
        "stop-was": (240, 180, 60), "stop-db": (300, 180, 120), "swap-port": (1320, 300, 1020),
        "verify-paths": (1260, 180, 1080), "start-db": (660, 240, 420),
        "start-was": (1020, 240, 780), "reopen": (600, 120, 480), "verify-batch": (600, 480, 120),
    }
    for sid, (actual, likely, variance) in expect.items():
        s = steps[sid]
        assert (s["actual_s"], s["planned_likely_s"], s["variance_s"]) == (actual, likely, variance)
        assert s["status"] == "completed" and s["path"] == "main"
    swap = steps["swap-port"]
    assert (swap["attempts"], swap["failures"]) == (2, 1)
    assert swap["started_at"] == t("00:09") and swap["finished_at"] == t("00:31")
    assert swap["over_pessimistic"] is True
    assert swap["notes"][0]["text"] == "fc1/20 notConnected; reseating the SFP"
    # a single estimate (2m): its P10 and P90 by the default spread 0.5 / 1.8
    assert (steps["reopen"]["planned_optimistic_s"], steps["reopen"]["planned_pessimistic_s"]) \
        == (60, 216)
    assert steps["reopen"]["resumes_service"] is True
    # notes given with a completion are kept too
    assert [n["text"] for n in steps["reopen"]["notes"]] == ["channels open 01:30"]
    # the contingency that did not run is still listed, untouched
    assert {s["status"] for s in data["steps"] if s["path"] == "rollback"} == {"pending"}


def test_rollback_rows(runs) -> None:
    data = as_json(report_of(*runs["rollback"]))
    sm = data["summary"]
    assert sm["contingency"] == {
        "id": "rollback", "title": "Abort the swap and restore service on the redundant path",
        "triggered_at": t("00:15"), "triggered_by": "simulator",
        "note": "roll back while it still fits"}
    assert sm["path"] == "rollback"
    assert sm["resumed_at"] == t("00:38") and sm["overrun_s"] == 480
    assert sm["outage_report_required"] is False and sm["report_due_by"] is None
    steps = steps_by_id(data)
    swap = steps["swap-port"]  # started, failed, then left behind by the rollback
    assert swap["status"] == "abandoned" and swap["actual_s"] == 540
    assert swap["finished_at"] == t("00:15")
    for sid in ("verify-paths", "start-db", "start-was", "reopen", "verify-batch"):
        assert steps[sid]["status"] == "abandoned" and steps[sid]["actual_s"] is None
    rb = {sid: (steps[sid]["status"], steps[sid]["path"], steps[sid]["actual_s"],
                steps[sid]["variance_s"])
          for sid in ("rb-isolate", "rb-start-db", "rb-start-was", "rb-reopen")}
    assert rb == {"rb-isolate": ("completed", "rollback", 180, 0),
                  "rb-start-db": ("completed", "rollback", 300, 60),
                  "rb-start-was": ("completed", "rollback", 300, 60),
                  "rb-reopen": ("completed", "rollback", 600, 480)}
    # the contingency's baseline starts at its trigger
    assert steps["rb-isolate"]["planned_start"] == t("00:15")
    assert steps["rb-start-db"]["planned_start"] == t("00:18")


def test_in_progress_is_marked(runs) -> None:
    db, run = runs["partial"]
    r = report_of(db, run)
    data = as_json(r)
    assert data["run"]["status"] == "in_progress" and data["run"]["finished_at"] is None
    assert data["report"]["as_of"] == t("00:33")  # the last event, when no time is given
    verify = steps_by_id(data)["verify-paths"]
    assert verify["status"] == "running" and verify["elapsed_s"] == 120
    assert verify["actual_s"] is None
    assert data["summary"]["resumed_at"] is None and data["summary"]["overrun_s"] == 180
    assert data["summary"]["outage_report_required"] is False
    assert "RUN IN PROGRESS" in render(r, "md") and "RUN IN PROGRESS" in render(r, "html")
    csv_text = render(r, "csv")
    assert all(line.endswith(",in_progress") for line in csv_text.splitlines()[1:])
    # made later, with service still down: the overrun so far crosses the threshold
    later = as_json(report_of(db, run, now=r.as_of + timedelta(minutes=12)))
    assert later["summary"]["overrun_s"] == 900
    assert later["summary"]["outage_report_required"] is True
    assert later["summary"]["report_due_by"] == t("00:40", day=26)


def test_json_contract_keys(runs) -> None:
    data = as_json(report_of(*runs["story"]))
    assert {"run", "steps", "alerts", "summary"} <= data.keys()
    assert {"id", "runbook", "started_at", "finished_at", "operators"} <= data["run"].keys()
    for s in data["steps"]:
        assert {"id", "title", "path", "status", "started_at", "finished_at", "actual_s",
                "planned_optimistic_s", "planned_likely_s", "planned_pessimistic_s",
                "variance_s"} <= s.keys()
    assert {"announced_resume", "resumed_at", "overrun_s", "outage_report_required",
            "report_due_by"} <= data["summary"].keys()
    assert all({"at", "level", "message"} <= a.keys() for a in data["alerts"])
    assert data["alerts"][-1]["level"] == "resumed"


def test_forecast_history_replays_what_the_tool_showed(runs) -> None:
    db, run = runs["story"]
    with Store(db, readonly=True) as s:
        info = s.resolve(run)
        events = s.events(run)
    r = build(info, events)
    h = r.history
    assert h.exact and h.samples == 2000 and h.interval_s == 60
    assert h.points[0].at == r.summary.started_at and h.points[-1].at == r.summary.resumed_at
    assert len(h.points) == 91  # every minute 00:00..01:29, and the resume
    by_time = {p.at: p for p in h.points}
    checked = 0
    for i, ev in enumerate(events):  # alerts raised on a whole minute, after that instant's events
        later = [e for e in events[i + 1:] if e.at == ev.at and e.type != ALERT]
        if ev.type == ALERT and ev.at in by_time and not later and ev.payload["level"] != "resumed":
            assert round(by_time[ev.at].p_on_time, 4) == ev.payload["p_on_time"]
            checked += 1
    assert checked >= 1
    below = r.summary.first_below_confidence_at
    assert below is not None and by_time[below].p_on_time < 0.8
    assert all(p.p_on_time >= 0.8 for p in h.points if p.at < below)
    assert as_json(r) == as_json(build(info, events))  # deterministic


def test_plan_sampling_budget() -> None:
    assert plan_sampling(15, 10_000, 100 * 60) == (10_000, 60.0)
    samples, interval = plan_sampling(2000, 10_000, 4.5 * 3600)
    assert samples == 500 and interval == 540.0  # 4.5 h in at most 30 points: every 9 min
    assert plan_sampling(15, 10_000, 24 * 3600) == (10_000, 120.0)  # 720 points at most


def test_report_uses_the_stored_runbook_not_the_file(tmp_path: Path) -> None:
    book = tmp_path / "story.yaml"
    shutil.copy(DATA / "story.yaml", book)
    shutil.copy(DATA / "story.events.yaml", tmp_path / "story.events.yaml")
    db = tmp_path / "runs.db"
    assert main(["simulate", str(book), "--events", str(tmp_path / "story.events.yaml"),
                 "--db", str(db), "--samples", "500"]) == 0
    book.write_text(book.read_text().replace("Stop the WAS cluster", "Edited later"))
    out = tmp_path / "r.json"
    assert main(["report", "--db", str(db), "--format", "json", "-o", str(out)]) == 0
    book.unlink()
    data = json.loads(out.read_text())
    assert steps_by_id(data)["stop-was"]["title"] == "Stop the WAS cluster"


# -- the command line ---------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["md", "csv", "json", "html"])
def test_cli_formats_to_stdout_and_file(runs, fmt: str, tmp_path: Path, capsys) -> None:
    db, run = runs["rollback"]
    assert main(["report", run[:-2], "--db", str(db), "--format", fmt]) == 0
    printed = capsys.readouterr().out
    target = tmp_path / f"report.{fmt}"
    assert main(["report", run, "--db", str(db), "--format", fmt, "-o", str(target)]) == 0
    assert capsys.readouterr().out == ""
    assert target.read_bytes().decode("utf-8") == printed  # the same bytes, CRLF of CSV kept
    assert "rb-reopen" in printed


def test_cli_newest_run_by_default(runs, capsys) -> None:
    db, run = runs["story"]
    assert main(["report", "--db", str(db), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["run"]["id"] == run


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    return err


def test_cli_unknown_run(runs, capsys) -> None:
    db, _ = runs["story"]
    assert main(["report", "nope", "--db", str(db)]) == 2
    err = one_line_error(capsys)
    assert "no run 'nope'" in err and "runbook runs" in err


def test_cli_missing_store(tmp_path: Path, capsys) -> None:
    assert main(["report", "--db", str(tmp_path / "none.db")]) == 2
    assert "no store at" in one_line_error(capsys)


def test_cli_empty_store(tmp_path: Path, capsys) -> None:
    Store(tmp_path / "empty.db").close()
    assert main(["report", "--db", str(tmp_path / "empty.db")]) == 2
    assert "has no runs yet" in one_line_error(capsys)


def test_cli_store_from_a_newer_version(tmp_path: Path, capsys) -> None:
    import sqlite3

    db = tmp_path / "newer.db"
    Store(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'",
                     (str(SCHEMA_VERSION + 1),))
    assert main(["report", "--db", str(db)]) == 2
    assert "newer runbook" in one_line_error(capsys)


def test_cli_output_is_a_directory(runs, tmp_path: Path, capsys) -> None:
    db, _ = runs["story"]
    assert main(["report", "--db", str(db), "-o", str(tmp_path)]) == 2
    assert "is a directory" in one_line_error(capsys)


def test_aborted_and_empty_runs_render(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    at = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    text = (DATA / "story.yaml").read_text()
    with Store(tmp_path / "odd.db") as s:
        empty = s.create_run(runbook_id="port-swap-story", title="t", label="live",
                             source_text=text, source_name="story.yaml", created_at=at)
        aborted = s.create_run(runbook_id="port-swap-story", title="t", label="live",
                               source_text=text, source_name="story.yaml", created_at=at)
        for minutes, kind, step, payload in [
                (0, "run_started", None, {"operator": "kim"}), (0, "step_started", "stop-was", {}),
                (3, "step_completed", "stop-was", {}), (3, "step_started", "stop-db", {}),
                (50, "run_aborted", None, {"reason": "storage array <fault>"})]:
            s.append(aborted.id, at=at + timedelta(minutes=minutes), actor="kim", host="ops1",
                     type=kind, step=step, payload=payload)
        runs = {"empty": (empty, s.events(empty.id)), "aborted": (aborted, s.events(aborted.id))}
    for info, events in runs.values():
        r = build(info, events)
        for fmt in ("md", "csv", "json", "html"):
            assert render(r, fmt)
    data = as_json(build(*runs["aborted"]))
    assert data["run"]["status"] == "aborted" and data["run"]["finished_at"] == t("00:50")
    assert data["run"]["abort_reason"] == "storage array <fault>"
    assert data["summary"]["overrun_s"] == 1200  # service never came back: up to the abort
    assert data["summary"]["outage_report_required"] is True
    stop_db = steps_by_id(data)["stop-db"]  # left running at the abort: abandoned then
    assert stop_db["status"] == "abandoned" and stop_db["finished_at"] == t("00:50")
    empty_data = as_json(build(*runs["empty"]))
    assert empty_data["run"]["status"] == "in_progress"
    assert empty_data["forecast_history"]["points"] == [] and empty_data["run"]["started_at"] is None


def test_coarse_history_refines_the_first_dip_to_the_minute(tmp_path: Path, monkeypatch) -> None:
    from runbook.report import history

    script = tmp_path / "slow.events.yaml"
    script.write_text("events:\n  - {at: 0m, skip: never}\n  - {at: 0m, start: block}\n"
                      "  - {at: 10m, complete: block}\n  - {at: 10m, start: flow}\n"
                      "  - {at: 13m, complete: flow}\n  - {at: 13m, start: single}\n"
                      "  - {at: 40m, complete: single}\n")
    db = tmp_path / "calib.db"
    assert main(["simulate", str(DATA / "calib.yaml"), "--events", str(script), "--db", str(db),
                 "--samples", "1000"]) == 0
    fine = report_of(db).history
    assert fine.interval_s == 60 and fine.first_below_at is not None
    assert fine.first_below_at > fine.points[0].at  # on track at first, then the dip
    monkeypatch.setattr(history, "MIN_POINTS", 4)
    monkeypatch.setattr(history, "MAX_POINTS", 4)
    r = report_of(db)
    coarse = r.history
    assert coarse.interval_s == 10 * 60  # 40 minutes in at most 4 points
    assert coarse.first_below_at == fine.first_below_at  # found to the minute all the same
    assert coarse.first_below_at.minute % 10 != 0  # between two coarse points
    assert any(p.at == coarse.first_below_at for p in coarse.points)
    assert render(r, "html") and render(r, "md")
