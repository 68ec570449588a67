"""Times off the window's local day carry the day (issue 10, item 3) in `check`, `simulate`,
`runs` and the md, html and csv reports: a P90 after midnight never reads earlier than the
window start, a hard deadline after the resume reads after it, and across a DST fall-back the zone
is shown where the wall clock repeats. JSON stays ISO 8601."""

from __future__ import annotations

import csv
import io
import json
import re
import textwrap
from pathlib import Path

import pytest

from runbook.cli import main

MIDNIGHT = textwrap.dedent("""\
    runbook: 1
    id: midnight
    title: Across midnight
    timezone: Asia/Seoul
    window:
      start: 2026-11-30T23:00
      announced_resume: 2026-12-01T00:10
      hard_deadline: 2026-12-01T06:00
    steps:
      - {id: a, title: A, owner: x, estimate: {optimistic: 40m, likely: 55m, pessimistic: 90m}}
      - {id: b, title: B, owner: x, estimate: 5m}
    contingencies:
      - id: rollback
        title: Roll back
        steps:
          - {id: r, title: R, owner: x, estimate: 20m}
    """)
MIDNIGHT_EVENTS = ("events:\n  - {at: 0m, start: a}\n  - {at: 58m, complete: a, note: slow}\n"
                   "  - {at: 58m, start: b}\n  - {at: 75m, complete: b, note: done}\n")

BERLIN = textwrap.dedent("""\
    runbook: 1
    id: dst-night
    title: The night the clocks go back
    timezone: Europe/Berlin
    window:
      start: 2026-10-25T01:30
      announced_resume: 2026-10-25T04:00
    steps:
      - {id: a, title: A, owner: x, estimate: 80m}
      - {id: b, title: B, owner: x, estimate: 20m}
    """)
BERLIN_EVENTS = ("events:\n  - {at: 0m, start: a}\n  - {at: 80m, complete: a}\n"
                 "  - {at: 80m, start: b}\n  - {at: 100m, complete: b, note: back}\n")


def run(capsys, *args) -> tuple[int, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    return code, out


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("dates")
    out = {"root": root}
    for name, book, events in (("midnight", MIDNIGHT, MIDNIGHT_EVENTS),
                               ("berlin", BERLIN, BERLIN_EVENTS)):
        (root / f"{name}.yaml").write_text(book)
        (root / f"{name}.events.yaml").write_text(events)
        db = root / f"{name}.db"
        assert main(["simulate", str(root / f"{name}.yaml"), "--events",
                     str(root / f"{name}.events.yaml"), "--db", str(db), "--samples", "2000"]) == 0
        out[name], out[f"{name}.db"] = root / f"{name}.yaml", db
    return out


def test_check_puts_the_day_on_times_after_midnight(capsys, night):
    _, out = run(capsys, "check", night["midnight"], "--samples", "2000")
    assert "announced resume 00:10 +1d (1h10m, Asia/Seoul), hard deadline 06:00 +1d" in out
    forecast = re.search(r"Forecast   P50 (.+?)   P80 (.+?)   P90 (.+?)   ", out)
    assert forecast and all(x.endswith(" +1d") for x in forecast.groups())  # before: "P90 00:36"
    announce = re.search(r"Announce   (00:\d\d) \+1d or later", out)
    assert announce, out
    assert re.search(r"Decide by  23:\d\d at the latest to switch to rollback and still make "
                     r"00:10 \+1d", out)
    assert f"Announce {announce.group(1)} +1d instead" in out  # the finding says the day too


def test_check_json_stays_iso(capsys, night):
    _, out = run(capsys, "check", night["midnight"], "--samples", "2000", "--json")
    data = json.loads(out)
    assert data["announced_resume"] == "2026-12-01T00:10:00+09:00"
    assert data["p90"].startswith("2026-12-01T00:")


def test_simulate_log_carries_the_day_and_stays_aligned(capsys, night, tmp_path):
    _, out = run(capsys, "simulate", night["midnight"], "--events",
                 night["root"] / "midnight.events.yaml", "--samples", "2000")
    assert out.startswith("midnight: simulated run, announced resume 00:10 +1d\n")
    assert "\n  23:58      complete a (slow)\n" in out
    assert "\n  00:15 +1d  complete b (done)\n" in out
    assert "Resumed 00:15 +1d (5m late) on path main." in out


def test_the_markdown_report_reads_in_order_across_midnight(capsys, night):
    _, md = run(capsys, "report", "--db", night["midnight.db"], "--format", "md")
    assert "| Service resumed | 00:15 +1d, 5m late |" in md
    assert "| Plan (likely) | 00:00 +1d if every step took its likely time |" in md
    steps = md[md.index("## Steps"):]
    assert re.search(r"\| `a` A \| completed \| 23:00 \| 23:58 \|", steps)
    assert re.search(r"\| `b` B \| completed[^|]* \| 23:58 \| 00:15 \+1d \|", steps)
    assert "| 00:15 +1d | RESUMED |" in md
    assert "P(on time) = chance of resuming by 00:10 +1d" in md


def test_the_html_report_and_its_charts_carry_the_day(capsys, night):
    _, html = run(capsys, "report", "--db", night["midnight.db"], "--format", "html")
    assert '<td class="t">00:15 +1d</td>' in html
    assert "announced 00:10 +1d" in html  # the Gantt marker
    assert re.search(r'class="tick"[^>]*>00:00 \+1d<', html)  # the first tick after midnight
    assert "Chance of resuming by 00:10 +1d" in html


def test_csv_notes_carry_the_day_and_times_stay_iso(capsys, night):
    _, out = run(capsys, "report", "--db", night["midnight.db"], "--format", "csv")
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(out, newline=""))}
    assert rows["b"]["notes"] == "00:15 +1d simulator: done"
    assert rows["b"]["finished_at"] == "2026-12-01T00:15:00+09:00"


def test_runs_lists_a_resume_after_midnight_after_its_start(capsys, night):
    _, out = run(capsys, "runs", "--db", night["midnight.db"])
    assert "2026-11-30 23:00  00:15 +1d / 00:10 +1d (+5m late)" in out


def test_reports_name_the_zone_in_the_repeated_hour(capsys, night):
    _, md = run(capsys, "report", "--db", night["berlin.db"], "--format", "md")
    steps = md[md.index("## Steps"):]
    assert re.search(r"\| `a` A \| completed \| 01:30 \| 02:50 CEST \|", steps)
    assert re.search(r"\| `b` B \| completed \| 02:50 CEST \| 02:10 CET \|", steps)
    assert "- 02:10 CET `b` simulator: back" in md
    _, out = run(capsys, "runs", "--db", night["berlin.db"])
    assert "2026-10-25 01:30  02:10 CET / 04:00 (1h50m early)" in out
