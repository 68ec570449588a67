"""`runbook check`, `runbook simulate` and `runbook schema` from the command line (DESIGN §2, §4)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from runbook.cli import main
from runbook.store import Store
from tests.conftest import RUNBOOKS

EXAMPLES = sorted(p for p in RUNBOOKS.glob("*.yaml") if ".events" not in p.name)
STORY = RUNBOOKS / "san-port-swap.yaml"
OVERRUN = RUNBOOKS / "san-port-swap.overrun.events.yaml"


def run_cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_passes_check(capsys, path):
    code, out, err = run_cli(capsys, "check", path, "--samples", "2000")
    assert code == 0, out + err
    assert "0 errors" in out and "Announce" in out and "Critical" in out


def test_check_json_has_the_contract_keys(capsys):
    code, out, _ = run_cli(capsys, "check", STORY, "--json", "--samples", "2000", "--seed", "3")
    data = json.loads(out)
    for key in ("runbook", "steps", "announced_resume", "p50", "p80", "p90", "p_on_time",
                "recommended_resume", "critical_path", "findings"):
        assert key in data
    assert data["runbook"] == "san-port-swap" and data["steps"] == 16
    assert data["announced_resume"] == "2026-11-25T01:20:00+09:00"
    assert data["p50"] <= data["p80"] <= data["p90"]
    assert data["critical_path"][0] == "go-no-go" and data["critical_path"][-1] == "reopen-channels"
    for f in data["findings"]:
        assert f["severity"] in ("error", "warning", "info") and f["code"] and f["message"]


def test_the_story_plan_with_a_30_minute_window_is_called_too_short(capsys, tmp_path):
    text = STORY.read_text().replace("announced_resume: 2026-11-25T01:20",
                                     "announced_resume: 2026-11-25T00:30")
    short = tmp_path / "san-port-swap-30m.yaml"
    short.write_text(text)
    code, out, _ = run_cli(capsys, "check", short, "--samples", "4000")
    assert code == 1  # under 1 chance in 20: that is an error, not a warning
    assert "window_too_short" in out and "TOO SHORT" in out and "cannot be met" in out
    data = json.loads(run_cli(capsys, "check", short, "--json", "--samples", "4000")[1])
    finding = next(f for f in data["findings"] if f["code"] == "window_too_short")
    recommended = data["recommended_resume"][11:16]
    assert f"Announce {recommended} instead" in finding["message"]
    assert finding["line"] == 24 and data["p_on_time"] < 0.05 and finding["severity"] == "error"


def test_strict_makes_warnings_fail(capsys, tmp_path):
    text = STORY.read_text().split("contingencies:")[0]
    path = tmp_path / "no-rollback.yaml"
    path.write_text(text)
    assert run_cli(capsys, "check", path, "--samples", "1000")[0] == 0
    code, out, _ = run_cli(capsys, "check", path, "--samples", "1000", "--strict")
    assert code == 1 and "no_contingency" in out


def test_check_samples_and_seed_make_it_deterministic(capsys):
    a = run_cli(capsys, "check", STORY, "--json", "--samples", "1000", "--seed", "9")[1]
    b = run_cli(capsys, "check", STORY, "--json", "--samples", "1000", "--seed", "9")[1]
    c = run_cli(capsys, "check", STORY, "--json", "--samples", "1000", "--seed", "10")[1]
    assert a == b and a != c


def test_check_does_not_import_textual():
    code = ("import sys; from runbook.cli import main; "
            f"rc = main(['check', {str(STORY)!r}, '--samples', '500']); "
            "bad = [m for m in sys.modules if m == 'textual' or m.startswith('textual.')]; "
            "print('TEXTUAL', bad); sys.exit(rc)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "TEXTUAL []" in out.stdout


@pytest.mark.parametrize("module", ["runbook.format.model", "runbook.forecast.core", "runbook.store",
                                    "runbook.engine.run", "runbook.engine.simulate", "runbook.cli"])
def test_domain_modules_do_not_import_textual(module):
    code = (f"import sys, {module}; "
            "print([m for m in sys.modules if m == 'textual' or m.startswith('textual.')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_simulate_json_has_the_contract_keys_and_records_with_db(capsys, tmp_path):
    db = tmp_path / "runs.db"
    code, out, _ = run_cli(capsys, "simulate", STORY, "--events", OVERRUN, "--json",
                           "--samples", "2000", "--db", db)
    assert code == 0
    data = json.loads(out)
    for key in ("runbook", "announced_resume", "timeline", "alerts", "resumed_at", "finished_at"):
        assert key in data
    for entry in data["timeline"]:
        assert set(entry) >= {"at", "level", "p_on_time", "p50", "p90", "decision_deadline", "path"}
    minutes = {e["at"][:16] for e in data["timeline"]}
    assert len(minutes) >= 70  # at least once a simulated minute
    with Store(db, readonly=True) as store:
        (info,) = store.runs()
        assert info.label == "rehearsal" and info.id == data["run"]
        types = [e.type for e in store.events(info.id)]
    assert types[0] == "run_started" and types[-1] == "run_finished"
    assert types.count("alert") == len(data["alerts"])


def test_simulate_human_output_is_a_compact_log(capsys):
    code, out, _ = run_cli(capsys, "simulate", STORY, "--events", OVERRUN, "--samples", "2000")
    assert code == 0
    assert "DECIDE NOW" in out and "trigger rollback" in out  # no AT RISK inside the margin
    assert "Resumed 01:04 (on time) on path rollback." in out


@pytest.mark.parametrize(
    "events,line,expect",
    [
        ([{"at": "0m", "start": "nope"}], 3, "event 1 (start nope): unknown step 'nope'"),
        ([{"at": "0m", "complete": "go-no-go"}], 3, "go-no-go is ready, not running"),
        ([{"at": "5m", "start": "go-no-go"}, {"at": "2m", "complete": "go-no-go"}], 4,
         "event 2: time goes backwards"),
        ([{"at": "0m", "start": "go-no-go", "colour": "red"}], 3, "unknown key 'colour'"),
        ([{"at": "0m", "start": "go-no-go", "complete": "go-no-go"}], 3, "one action per event"),
        ([{"at": "soon", "start": "go-no-go"}], 3, "neither an offset"),
        ([{"at": "0m", "trigger": "abort-all"}], 3, "unknown contingency 'abort-all'"),
    ],
)
def test_a_bad_script_exits_2_naming_the_event_and_line(capsys, tmp_path, events, line, expect):
    script = tmp_path / "bad.events.yaml"
    script.write_text("# comment\nevents:\n" + "".join(
        "  - " + json.dumps(e) + "\n" for e in events))
    code, out, err = run_cli(capsys, "simulate", STORY, "--events", script, "--samples", "500")
    assert code == 2 and out == ""
    assert f"{script}:{line}" in err and expect in err
    assert "Traceback" not in err


def test_simulate_with_a_missing_script_exits_2(capsys, tmp_path):
    code, _, err = run_cli(capsys, "simulate", STORY, "--events", tmp_path / "none.yaml")
    assert code == 2 and "no such file" in err


def test_schema_prints_the_committed_json_schema(capsys):
    code, out, _ = run_cli(capsys, "schema")
    schema = json.loads(out)
    assert code == 0 and schema["title"] == "runbook format v1"
    assert "steps" in schema["properties"]


def test_an_empty_script_file_is_refused(capsys, tmp_path):
    script = tmp_path / "e.yaml"
    script.write_text(yaml.safe_dump({"events": []}))
    code, out, err = run_cli(capsys, "simulate", STORY, "--events", script, "--samples", "500",
                             "--json")
    assert code == 2 and out == ""
    assert f"{script}:1: error: events: the list is empty; an events script holds `events:`" in err


def test_a_bug_is_one_line_not_a_traceback(capsys, monkeypatch):
    import runbook.cli

    def broken(args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(runbook.cli, "cmd_schema", broken)
    monkeypatch.delenv("RUNBOOK_DEBUG", raising=False)
    code, out, err = run_cli(capsys, "schema")
    assert code == 70 and "internal error (ZeroDivisionError" in err and "Traceback" not in err
    monkeypatch.setenv("RUNBOOK_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        main(["schema"])
