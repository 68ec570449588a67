"""Abort (NO-GO) and undo from a `simulate` script, recorded and shown in every report format."""

from __future__ import annotations

import csv
import io
import json

import pytest

from runbook.engine.simulate import as_json, simulate
from runbook.format.loader import LoadError, load_runbook
from runbook.report import build, render
from runbook.store import Store
from tests.conftest import RUNBOOKS

SWAP = load_runbook(RUNBOOKS / "san-port-swap.yaml")


def play(tmp_path, events: str):
    script = tmp_path / "night.events.yaml"
    script.write_text("events:\n" + events)
    db = tmp_path / "runs.db"
    result = simulate(SWAP, script, db=str(db), samples=1_000)
    with Store(db, readonly=True) as s:
        info = s.resolve(None)
        report = build(info, s.events(info.id))
    return result, report


def test_abort_at_go_no_go_ends_the_run_aborted_everywhere(tmp_path):
    result, report = play(tmp_path, """\
  - {at: 0m, start: go-no-go}
  - {at: 2m, abort: "NO-GO: storage vendor not on the bridge"}
""")
    assert result.engine.state.aborted
    assert as_json(result)["finished_at"] is not None
    assert report.status == "aborted"
    md, html = render(report, "md"), render(report, "html")
    for text in (md, html):
        assert "NO-GO: storage vendor not on the bridge" in text and "aborted" in text.lower()
    data = json.loads(render(report, "json"))
    assert data["run"]["status"] == "aborted"
    assert data["run"]["abort_reason"] == "NO-GO: storage vendor not on the bridge"
    rows = list(csv.DictReader(io.StringIO(render(report, "csv"))))
    assert {r["run_status"] for r in rows} == {"aborted"}
    assert [r["status"] for r in rows if r["id"] == "go-no-go"] == ["abandoned"]


def test_runs_lists_an_aborted_run_as_aborted(tmp_path, capsys):
    from runbook.cli import main

    play(tmp_path, """\
  - {at: 0m, start: go-no-go}
  - {at: 2m, abort: "NO-GO: storage vendor not on the bridge"}
""")
    capsys.readouterr()
    assert main(["runs", "--db", str(tmp_path / "runs.db")]) == 0
    line = capsys.readouterr().out.splitlines()[-1]
    assert "aborted" in line and "in progress" not in line and "finished" not in line
    assert main(["runs", "--db", str(tmp_path / "runs.db"), "--json"]) == 0
    (run,) = json.loads(capsys.readouterr().out)
    assert run["status"] == "aborted"


def test_an_undone_mis_press_shows_both_the_action_and_its_undo(tmp_path):
    result, report = play(tmp_path, """\
  - {at: 0m, start: go-no-go}
  - {at: 1m, complete: go-no-go, note: pressed too early}
  - {at: 1m10s, undo: true}
  - {at: 3m, complete: go-no-go, note: all GO}
""")
    state = result.engine.state
    assert state.steps["go-no-go"].finished_at is not None
    assert (state.steps["go-no-go"].actual_s or 0) == 180  # the real completion, not the mis-press
    row = next(s for s in report.steps if s.id == "go-no-go")
    texts = [n.text for n in row.notes]
    assert texts == ["pressed too early (undone)", "undid complete go-no-go of 00:01:00", "all GO"]
    for fmt in ("md", "html", "csv", "json"):
        out = render(report, fmt)
        assert "undid complete go-no-go of 00:01:00" in out, fmt
        assert "pressed too early (undone)" in out, fmt
    assert row.actual_s == 180 and row.status == "completed"


def test_undo_past_the_grace_period_is_a_script_error_naming_the_event(tmp_path):
    with pytest.raises(LoadError, match=r"event 3 \(undo\): the last action \(complete go-no-go\)"):
        play(tmp_path, """\
  - {at: 0m, start: go-no-go}
  - {at: 1m, complete: go-no-go}
  - {at: 5m, undo: true}
""")


def test_undo_takes_no_note(tmp_path):
    with pytest.raises(LoadError, match="an undo records no text"):
        play(tmp_path, "  - {at: 0m, undo: true, note: oops}\n")


def test_a_whole_night_with_a_mis_press_and_a_rollback_reads_unambiguously(tmp_path):
    """The story night (overrun, rollback at 00:37) with a mis-pressed completion at 00:14 that
    the operator undoes five seconds later: every format shows the undo, the real completion and
    the rollback; durations are the real ones."""
    night = (RUNBOOKS / "san-port-swap.overrun.events.yaml").read_text().splitlines()
    lines = [ln for ln in night if ln.startswith("  - ")]
    at = lines.index("  - {at: 12m, start: stop-db}") + 1
    lines[at:at] = ["  - {at: 14m, complete: stop-db}", "  - {at: 14m5s, undo: true}"]
    result, report = play(tmp_path, "\n".join(lines) + "\n")
    state = result.engine.state
    assert state.path == "rollback" and state.resumed_at is not None
    stop_db = next(s for s in report.steps if s.id == "stop-db")
    assert stop_db.actual_s == 8 * 60  # 00:12 to 00:20, not to the mis-press at 00:14
    assert report.summary.contingency.id == "rollback"
    for fmt in ("md", "html", "csv", "json"):
        out = render(report, fmt)
        assert "undid complete stop-db of 00:14:00" in out, fmt
        assert "rollback" in out, fmt
    data = json.loads(render(report, "json"))
    row = next(s for s in data["steps"] if s["id"] == "stop-db")
    assert row["actual_s"] == 480 and row["status"] == "completed"
