"""`runbook runs`: the runs in a store, and the bad stores it must explain in one line."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_report_support import record, t

from runbook.cli import main
from runbook.store import SCHEMA_VERSION, Store


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    db = tmp_path_factory.mktemp("runs") / "runs.db"
    ids = {name: record(db, "story.yaml", f"{name}.events.yaml", samples=500)
           for name in ("story", "rollback", "partial")}
    ids["drill"] = record(db, "hostile.yaml", "hostile.events.yaml", label="rehearsal",
                          samples=500)
    return db, ids


def test_runs_text(store, capsys) -> None:
    db, ids = store
    assert main(["runs", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["RUN", "RUNBOOK", "LABEL", "OPERATORS", "STARTED", "RESUMED", "/",
                                "ANNOUNCED", "STATUS"]
    row = {name: next(line for line in lines if line.startswith(rid)) for name, rid in ids.items()}
    assert "01:30 / 00:30 (+1h late)" in row["story"] and row["story"].endswith("finished")
    assert "00:38 / 00:30 (+8m late)" in row["rollback"]
    assert row["rollback"].endswith("finished (rollback)")
    assert "-- / 00:30" in row["partial"] and row["partial"].endswith("in_progress")
    assert "00:12 / 00:20 (8m early)" in row["drill"] and " rehearsal " in row["drill"]
    assert "2026-11-25 00:00" in row["story"] and " simulator " in row["story"]
    assert lines[-1].startswith(f"4 runs in {db}")


def test_runs_json(store, capsys) -> None:
    db, ids = store
    assert main(["runs", "--db", str(db), "--json"]) == 0
    data = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    story = data[ids["story"]]
    assert story == {
        "id": ids["story"], "runbook": "port-swap-story",
        "title": "Replace faulty SAN switch port (DB <-> storage)", "label": "live",
        "operators": ["simulator"], "started_at": t("00:00"), "announced_resume": t("00:30"),
        "resumed_at": t("01:30"), "resume_delta_s": 3600.0, "finished_at": t("01:40"),
        "status": "finished", "path": "main", "timezone": "Asia/Seoul", "events": story["events"],
    }
    assert data[ids["partial"]]["status"] == "in_progress"
    assert data[ids["partial"]]["resumed_at"] is None
    # newest first (same start time: the last recorded first)
    assert list(data) == [ids["drill"], ids["partial"], ids["rollback"], ids["story"]]


def test_empty_store(tmp_path: Path, capsys) -> None:
    db = tmp_path / "empty.db"
    Store(db).close()
    assert main(["runs", "--db", str(db)]) == 0
    assert capsys.readouterr().out.strip() == f"no runs in {db}"
    assert main(["runs", "--db", str(db), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


def test_missing_store(tmp_path: Path, capsys) -> None:
    assert main(["runs", "--db", str(tmp_path / "nope.db")]) == 2
    assert "no store at" in _one_line(capsys)
    assert not (tmp_path / "nope.db").exists()  # listing never creates a store


def test_newer_store(tmp_path: Path, capsys) -> None:
    db = tmp_path / "newer.db"
    Store(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'",
                     (str(SCHEMA_VERSION + 1),))
    assert main(["runs", "--db", str(db)]) == 2
    assert "newer runbook" in _one_line(capsys)


def test_not_a_store(tmp_path: Path, capsys) -> None:
    db = tmp_path / "notes.txt"
    db.write_text("hello\n" * 500)
    assert main(["runs", "--db", str(db)]) == 2
    assert "not a runbook store" in _one_line(capsys)


def test_unreadable_stored_runbook_is_still_listed(tmp_path: Path, capsys) -> None:
    db = tmp_path / "odd.db"
    at = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    with Store(db) as s:
        info = s.create_run(runbook_id="future", title="From a newer version", label="live",
                            source_text="runbook: 2\n", source_name="future.yaml", created_at=at,
                            meta={"timezone": "Asia/Seoul"})
        s.append(info.id, at=at, actor="kim", host="ops1", type="run_started",
                 payload={"operator": "kim"})
    assert main(["runs", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert info.id in out and "in_progress (?)" in out and " kim " in out
