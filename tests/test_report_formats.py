"""The exporters with hostile input: CSV round trip, HTML and Markdown escaping, self-contained HTML."""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_report_support import DATA, record

from runbook.format.loader import load_runbook
from runbook.report import build, render
from runbook.report.csv_out import COLUMNS
from runbook.store import Store

SCRIPT_TITLE = "<script>alert(1)</script>"
SCRIPT_NOTE = "</td></tr><script>alert(2)</script><svg onload=alert(3)>"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory):
    db = tmp_path_factory.mktemp("hostile") / "runs.db"
    run = record(db, "hostile.yaml", "hostile.events.yaml", label="rehearsal", samples=500)
    with Store(db, readonly=True) as s:
        info = s.resolve(run)
        return build(info, s.events(run))


@pytest.fixture(scope="module")
def titles() -> dict[str, str]:
    return {s.id: s.title for s in load_runbook(DATA / "hostile.yaml").plan.steps}


def test_hostile_titles_are_really_hostile(titles) -> None:
    assert "," in titles["comma"] and '"' in titles["comma"]
    assert "\r\n" in titles["newline"] and "\n" in titles["newline"]
    assert titles["script"] == SCRIPT_TITLE


def test_csv_round_trips_hostile_titles(hostile, titles) -> None:
    text = render(hostile, "csv")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert list(rows[0].keys()) == list(COLUMNS)
    assert list(COLUMNS[:11]) == ["id", "title", "path", "status", "started_at", "finished_at",
                                  "actual_s", "planned_optimistic_s", "planned_likely_s",
                                  "planned_pessimistic_s", "variance_s"]
    assert {r["id"]: r["title"] for r in rows} == titles
    by_id = {r["id"]: r for r in rows}
    assert by_id["comma"]["owner"] == "ops, night | shift"
    assert by_id["comma"]["notes"] == '00:03 simulator: done, "cleanly"\nsecond line'
    assert by_id["script"]["notes"] == f"00:08 simulator: {SCRIPT_NOTE}"
    assert (by_id["script"]["attempts"], by_id["script"]["failures"]) == ("2", "1")
    assert by_id["newline"]["actual_s"] == "240" and by_id["newline"]["variance_s"] == "60"
    assert by_id["korean"]["title"].startswith("데이터베이스 종료")
    assert all(r["run_status"] == "finished" for r in rows)
    assert text.encode("utf-8").decode("utf-8") == text and not text.startswith("\ufeff")


def test_csv_file_round_trip(hostile, titles, tmp_path: Path) -> None:
    from runbook.commands import _write_output

    target = tmp_path / "r.csv"
    _write_output(render(hostile, "csv"), str(target))
    with target.open(newline="", encoding="utf-8") as f:
        assert {r["id"]: r["title"] for r in csv.DictReader(f)} == titles


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data) -> None:
        self.text.append(data)


def test_html_escapes_titles_and_notes(hostile) -> None:
    html = render(hostile, "html")
    assert "<script" not in html.lower()
    assert "<b>titles" not in html and "<svg onload" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    parser = Tags()
    parser.feed(html)
    assert "script" not in parser.tags and "b" not in parser.tags
    assert not any(name.startswith("on") for name, _ in parser.attrs)
    text = "".join(parser.text)
    assert SCRIPT_TITLE in text and SCRIPT_NOTE in text  # shown exactly as typed
    assert 'Hostile <b>titles</b> & "quotes", commas' in text
    # the SVG's own <title> tooltips and labels are escaped too
    svg = html[html.index("<svg"):html.rindex("</svg>")]
    assert "&lt;script&gt;" in svg and "<script" not in svg


def test_html_is_self_contained_and_prints_on_a4(hostile) -> None:
    html = render(hostile, "html")
    parser = Tags()
    parser.feed(html)
    assert not {"link", "img", "iframe", "object", "embed", "script"} & set(parser.tags)
    for name, value in parser.attrs:
        assert name not in ("src", "href"), (name, value)
    assert "@import" not in html and "url(" not in html
    urls = set(re.findall(r"https?://[A-Za-z0-9./]+", html))
    assert urls <= {"http://www.w3.org/2000/svg", "http://x"}  # the namespace; a note's text
    assert "@page { size: A4" in html and "@media print" in html
    assert html.count("<svg") == 2  # the Gantt and P(on time)


def test_markdown_escapes_hostile_text(hostile) -> None:
    md = render(hostile, "md")
    assert re.search(r"(?<!\\)<(?!br>)", md) is None  # every < is escaped (but our <br>)
    assert r"\<script\>alert(1)\</script\>" in md
    step_rows = [r for r in md.splitlines() if re.match(r"\| \d+ \| `", r)]
    assert len(step_rows) == 4
    header = next(r for r in md.splitlines() if r.startswith("| # | Step"))
    cells = {len(re.split(r"(?<!\\)\|", r)) for r in [header, *step_rows]}
    assert len(cells) == 1  # no title or owner broke a row: every row has the header's cells
    assert "Line one<br>line two" in md  # line breaks kept inside the cell


@pytest.mark.parametrize("tz", ["Asia/Seoul", "Europe/Berlin", "America/St_Johns", "UTC"])
def test_fast_time_formatting_matches_pendulum(tz: str) -> None:
    from datetime import UTC, datetime, timedelta

    import pendulum

    from runbook.format import times

    start = datetime(2026, 3, 29, 0, 30, 15, 600_000, tzinfo=UTC)  # across the EU DST change
    for h in range(0, 240, 7):
        at = start + timedelta(minutes=h * 13)
        slow = pendulum.instance(at).in_timezone(tz)
        assert times.iso(at, tz) == slow.replace(microsecond=0).isoformat()
        assert times.hhmm(at, tz) == slow.strftime("%H:%M")
        assert times.hhmm(at, tz, seconds=True) == slow.strftime("%H:%M:%S")


def test_report_never_imports_textual() -> None:
    import subprocess
    import sys

    code = ("import sys, runbook.report, runbook.report.html, runbook.report.md, "
            "runbook.report.csv_out, runbook.report.json_out, runbook.forecast.calibrate, runbook.report.runs; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
