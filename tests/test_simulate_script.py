"""`runbook simulate` scripts (issue 8, items 7, 8 and 11): offsets added as instants across a DST
fall-back, time bounds with the bound in the message, and what an empty script is told."""

from __future__ import annotations

import json
import re
import tempfile
import textwrap
from pathlib import Path

import pytest

from runbook.cli import main
from runbook.engine import simulate

BERLIN = textwrap.dedent("""\
    runbook: 1
    id: dst-night
    title: The night the clocks go back
    timezone: Europe/Berlin
    window:
      start: 2026-10-25T01:30
      announced_resume: 2026-10-25T04:00
    steps:
      - {id: a, title: A, estimate: 80m}
      - {id: b, title: B, estimate: 20m}
    """)


def run(capsys, tmp_path, script: str, *extra: str, runbook: str = BERLIN):
    book = tmp_path / "dst-night.yaml"
    book.write_text(runbook)
    events = tmp_path / "night.events.yaml"
    events.write_text(script)
    code = main(["simulate", str(book), "--events", str(events), "--samples", "300", *extra])
    out, err = capsys.readouterr()
    return code, out, err, events


def test_events_across_a_dst_fall_back_play_in_instant_order(capsys, tmp_path):
    # 80 and 100 minutes after 01:30 CEST are 02:50 CEST and 02:10 CET: the wall clock goes back,
    # time does not (before: "time goes backwards")
    script = ("events:\n  - {at: 0m, start: a}\n  - {at: 80m, complete: a}\n"
              "  - {at: 80m, start: b}\n  - {at: 100m, complete: b}\n")
    code, out, err, _ = run(capsys, tmp_path, script, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["resumed_at"] == "2026-10-25T02:10:00+01:00"
    steps = {s["id"]: s for s in data["steps"]}
    assert steps["a"]["finished_at"] == "2026-10-25T02:50:00+02:00"
    assert steps["a"]["actual_s"] == 4800 and steps["b"]["actual_s"] == 1200
    code, out, err, _ = run(capsys, tmp_path, script)
    assert re.search(r"\n  02:50 CEST +complete a\n", out)
    assert re.search(r"\n  02:10 CET +complete b\n", out)


def test_an_absolute_time_in_the_repeated_hour_takes_its_offset(capsys, tmp_path):
    script = ("events:\n  - {at: 0m, start: a}\n  - {at: '2026-10-25T02:50+02:00', complete: a}\n"
              "  - {at: '2026-10-25T02:10+01:00', start: b}\n")
    code, out, err, _ = run(capsys, tmp_path, script, "--json")
    assert code == 0, err


@pytest.mark.parametrize("at,says", [
    ("8000h", "`at` 8000h (2027-09-23 09:30) is 333 days after the window start (2026-10-25 01:30)"),
    ("'2027-01-01T00:00'", "(2027-01-01 00:00) is 68 days after the window start"),
    ("'9999-01-01T00:00'", "year 9999 is out of range (1970-8999)"),
])
def test_an_event_far_from_the_window_is_refused_with_the_bound(capsys, tmp_path, at, says):
    script = f"events:\n  - {{at: 0m, start: a}}\n  - {{at: {at}, complete: a}}\n"
    code, out, err, events = run(capsys, tmp_path, script)
    assert code == 2 and out == ""  # before: minutes of simulated seconds, or exit 70
    assert err.startswith(f"{events}:3: error: event 2: ") and says in err
    if "out of range" not in says:
        assert "simulate covers 30 days either side of it" in err


def test_a_script_start_far_from_the_window_is_refused(capsys, tmp_path):
    code, _, err, events = run(capsys, tmp_path, "start: 2025-01-01T00:00\nevents:\n"
                               "  - {at: 0m, start: a}\n")
    assert code == 2
    assert f"{events}:1: error: start: (2025-01-01 00:00) is 662 days before the window" in err


@pytest.mark.parametrize("script,line,says", [
    ("", "1:1", "the file is empty; an events script holds `events:`, a list of actions such as "
                "`- {at: 0m, start: STEP}`"),
    ("# later\n", "1:1", "the file holds only comments and blank lines; an events script holds"),
    ("start: 2026-10-25T01:30\n", "1:1", "events: missing; an events script holds `events:`"),
    ("- {at: 0m, start: a}\n", "1:1", "the top level is not a mapping; an events script holds"),
    ("events: []\n", "1", "events: the list is empty"),
])
def test_an_empty_script_is_told_what_it_needs(capsys, tmp_path, script, line, says):
    code, _, err, events = run(capsys, tmp_path, script)
    assert code == 2 and "runbook: 1" not in err  # before: "a runbook starts with `runbook: 1`"
    assert err.startswith(f"{events}:{line}: error: {says}"), err


def test_a_script_over_the_event_limit_says_so(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(simulate, "MAX_EVENTS", 100)
    script = "events:\n" + "".join(f"  - {{at: {i}s, note: n{i}}}\n" for i in range(101))
    code, _, err, events = run(capsys, tmp_path, script)
    assert code == 2 and "alias" not in err
    assert f"{events}:2: error: events: 101 events; simulate takes up to 100 in one script" in err



def test_a_simulation_without_a_store_leaves_nothing_behind(capsys, tmp_path):
    """Its throw-away store lives in memory where the system has it (/dev/shm), and goes."""
    where = Path(simulate._scratch() or tempfile.gettempdir())
    before = set(where.glob("runbook-sim-*"))
    code, out, _, _ = run(capsys, tmp_path, "events:\n  - {at: 0m, start: a}\n"
                          "  - {at: 70m, complete: a}\n")
    assert code in (0, 1) and "complete a" in out
    assert set(where.glob("runbook-sim-*")) == before
