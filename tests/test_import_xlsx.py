"""`runbook import` from a workbook built here with openpyxl, as a bank team's sheet looks:
a merged title row, a date/time block above a two-row header, Excel time values, owners merged
over several rows, a step spanning two rows, a formula with a saved value, a rollback sheet."""

from __future__ import annotations

import re
import sys
import zipfile
from datetime import date, time, timedelta
from pathlib import Path

import pytest

openpyxl = pytest.importorskip("openpyxl")

from runbook.cli import main  # noqa: E402
from runbook.format.loader import load_runbook  # noqa: E402
from runbook.format.times import iso  # noqa: E402
from runbook.sheets import read  # noqa: E402


def team_workbook(path: Path, *, formula_value: str | None = "0.00694444444444444") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "작업계획"
    ws["A1"] = "코어뱅킹 DB 스토리지 포트 교체 작업계획서"
    ws.merge_cells("A1:J1")
    ws.append(["작업일자", date(2026, 11, 25), "시작", time(0, 0), "서비스 재개", time(0, 45),
               "시간대", "Asia/Seoul"])
    ws.append([])
    ws.append(["No.", "작업명", "담당", "계획", None, "실적", None, "선행작업", "명령어", "확인사항"])
    ws.append([None, None, None, "시작", "소요", "시작", "소요"])
    for rng in ("A4:A5", "B4:B5", "C4:C5", "D4:E4", "F4:G4", "H4:H5", "I4:I5", "J4:J5"):
        ws.merge_cells(rng)
    rows = [
        (1, "작업 공지 게시", "서비스데스크", time(0, 0), time(0, 5), None, "-", None, "공지 확인"),
        (2, "=HYPERLINK(\"http://x\",\"WAS 중지\")", None, time(0, 5), time(0, 10), None, None,
         "ansible-playbook stop.yml", None),
        (3, "DB 종료", "DBA", time(0, 15), timedelta(minutes=90), None, 2,
         "srvctl stop database -d CBS", "not running"),
        (None, "리스너 종료 확인", None, None, None, None, None, "lsnrctl status", "no listener"),
        (4, "DB 기동", "DBA", time(1, 45), None, None, "3", "srvctl start database -d CBS", None),
    ]
    for r, row in enumerate(rows, start=6):
        for c, value in zip((1, 2, 3, 4, 5, 6, 8, 9, 10), row, strict=True):
            ws.cell(row=r, column=c, value=value)
            if isinstance(value, str):
                ws.cell(row=r, column=c).data_type = "s"  # the '=...' title is text in the sheet
    for cell in ws["E"][5:10]:
        if isinstance(cell.value, time):
            cell.number_format = "h:mm"
    ws["E8"].number_format = "[h]:mm"
    ws["E10"] = "=E6*2"  # a formula; its saved value is patched into the file below
    ws["E10"].number_format = "h:mm"
    ws.merge_cells("C6:C7")  # the service desk owns steps 1 and 2
    ws.merge_cells("A8:A9")  # step 3 spans two rows
    rb = wb.create_sheet("원복계획")
    rb.append(["번호", "작업명", "담당", "소요시간", "선행작업"])
    rb.append([1, "DB 기동 (기존 경로)", "DBA", "10분", "-"])
    rb.append([2, "채널 재개", "네트워크", "1시간 5분", 1])
    wb.save(path)
    if formula_value is not None:
        _patch(path, "xl/worksheets/sheet1.xml",
               lambda xml: xml.replace("<f>E6*2</f><v />", f"<f>E6*2</f><v>{formula_value}</v>"))
    return path


def _patch(path: Path, member: str, change) -> None:
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    xml = parts[member].decode("utf-8")
    new = change(xml)
    assert new != xml, "the patch did not apply"
    parts[member] = new.encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


def run(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(["import", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_team_workbook(tmp_path, capsys) -> None:
    src = team_workbook(tmp_path / "계획서.xlsx")
    out = tmp_path / "plan.yaml"
    code, _, err = run([str(src), "-o", str(out)], capsys)
    assert code == 0, err
    plan = load_runbook(out).plan
    assert plan.title == "코어뱅킹 DB 스토리지 포트 교체 작업계획서"  # the merged title row
    assert plan.timezone == "Asia/Seoul"
    assert iso(plan.start, plan.timezone) == "2026-11-25T00:00:00+09:00"  # date cell + time cell
    assert iso(plan.announced, plan.timezone) == "2026-11-25T00:45:00+09:00"
    main_steps = [s for s in plan.steps if s.path == "main"]
    assert [s.id for s in main_steps] == ["1", "2", "3", "4"]
    assert [s.likely for s in main_steps] == [300, 600, 5400, 600]  # h:mm, [h]:mm, formula value
    assert [s.owner for s in main_steps] == ["서비스데스크", "서비스데스크", "DBA", "DBA"]
    step2 = plan.by_id["2"]
    assert step2.title == '=HYPERLINK("http://x","WAS 중지")'  # text stays text
    step3 = plan.by_id["3"]
    assert step3.command == "srvctl stop database -d CBS\nlsnrctl status"
    assert step3.check == "not running\nno listener"
    assert step3.notes == "리스너 종료 확인"
    assert [plan.steps[p].id for p in step3.preds] == ["2"]
    rollback = [s for s in plan.steps if s.path == "rollback"]
    assert [(s.id, s.likely) for s in rollback] == [("rollback-1", 600), ("rollback-2", 3900)]
    assert "sheet '작업계획', header in row 5" in err
    assert "E '계획 소요' -> estimate" in err
    assert "not imported: D '계획 시작', F '실적 시작', G '실적 소요'" in err
    assert "rows continuing the step above (joined to its notes, command and check): 9 -> 8" in err
    assert "1 formula cell: used the values Excel saved with them" in err
    assert "contingency 'rollback' (원복계획): 2 steps" in err
    assert "# sheet '작업계획' row 8" in out.read_text()


def test_a_formula_without_a_saved_value_is_an_error(tmp_path, capsys) -> None:
    src = team_workbook(tmp_path / "p.xlsx", formula_value=None)
    out = tmp_path / "plan.yaml"
    code, _, err = run([str(src), "-o", str(out)], capsys)
    assert code == 2 and not out.exists()
    assert ("sheet '작업계획', row 10, column E (계획 소요): error: formula =E6*2 has no saved "
            "value") in err
    assert "formulas are never evaluated" in err


def test_problems_name_the_sheet(tmp_path, capsys) -> None:
    src = team_workbook(tmp_path / "p.xlsx")
    wb = openpyxl.load_workbook(src)
    wb["작업계획"]["E7"] = "soon"
    wb["원복계획"]["E3"] = 7
    wb.save(src)
    code, _, err = run([str(src), "-o", str(tmp_path / "x.yaml")], capsys)
    assert code == 2
    assert "p.xlsx: sheet '작업계획', row 7, column E (계획 소요): error: 'soon' is not a duration" in err
    assert "p.xlsx: sheet '원복계획', row 3, column E (선행작업): error: waits for '7'" in err


def test_sheet_option(tmp_path, capsys) -> None:
    src = team_workbook(tmp_path / "p.xlsx")
    code, _, err = run([str(src), "--sheet", "없는시트"], capsys)
    assert code == 2 and "--sheet '없는시트': no such sheet; the sheets are '작업계획', '원복계획'" in err


def test_info_sheet_holds_the_window(tmp_path, capsys) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Steps"
    ws.append(["Step", "Task", "Owner", "Estimate (min)"])
    ws.append([1, "Stop", "ops", 5])
    ws.append([2, "Start", "ops", 7.5])
    info = wb.create_sheet("Info")
    info.append(["Title", "Disk swap"])
    info.append(["Timezone", "Europe/London"])
    info.append(["Window", "2026-10-15 22:00 ~ 2026-10-16 01:00"])
    src = tmp_path / "p.xlsx"
    wb.save(src)
    code, stdout, err = run([str(src)], capsys)
    assert code == 0, err
    assert "title: Disk swap" in stdout and "announced_resume: 2026-10-16T01:00" in stdout
    assert "estimate: 7m30s" in stdout
    assert "window info read from sheet 'Info'" in err


def test_refuses_a_dtd_and_a_zip_bomb(tmp_path, capsys, monkeypatch) -> None:
    src = team_workbook(tmp_path / "dtd.xlsx")
    _patch(src, "xl/worksheets/sheet1.xml", lambda xml: re.sub(
        r"^(<\?xml[^>]*\?>)?", lambda m: (m.group(0) or "") + '<!DOCTYPE x [<!ENTITY a "aaaa">]>',
        xml, count=1))
    code, _, err = run([str(src)], capsys)
    assert code == 2 and "declares a DTD" in err
    monkeypatch.setattr(read, "MAX_UNPACKED", 1000)
    code, _, err = run([str(team_workbook(tmp_path / "ok.xlsx"))], capsys)
    assert code == 2 and "(a zip bomb?)" in err


def test_without_openpyxl_says_how_to_install(tmp_path, capsys, monkeypatch) -> None:
    src = team_workbook(tmp_path / "p.xlsx")
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # import openpyxl -> ImportError
    code, _, err = run([str(src)], capsys)
    assert code == 2
    assert "pip install 'runbook[xlsx]'" in err and "Traceback" not in err


def test_a_damaged_workbook(tmp_path, capsys) -> None:
    src = tmp_path / "broken.xlsx"
    src.write_bytes(b"PK\x03\x04 this is not really a zip")
    code, _, err = run([str(src)], capsys)
    assert code == 2 and "damaged zip" in err
