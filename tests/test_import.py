"""`runbook import` from CSV: the Korean example sheet, headings, window, durations, every error."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from runbook.cli import main
from runbook.format.loader import load_runbook
from runbook.sheets import values as v
from runbook.sheets.columns import field_of, normalise, parse_map
from tests.conftest import RUNBOOKS

EXAMPLE = RUNBOOKS / "san-port-swap.ko.csv"
HEAD = ["번호", "작업내용", "담당자", "소요시간(분)", "선행작업", "명령어", "확인사항"]
WINDOW = [["시간대", "Asia/Seoul"], ["작업일시", "2026-11-25 00:00 ~ 00:30"], []]


def write_csv(path: Path, rows: list[list[object]], encoding: str = "utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def run(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(["import", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_korean_example_is_the_english_runbook(tmp_path, capsys) -> None:
    """The example sheet holds the switch-port plan: imported, it has the same step graph and the
    same three-point estimates as runbooks/san-port-swap.yaml (ids are the sheet's numbers)."""
    out = tmp_path / "ko.yaml"
    code, stdout, err = run([str(EXAMPLE), "-o", str(out)], capsys)
    assert code == 0, err
    assert stdout == ""
    ko = load_runbook(out).plan
    en = load_runbook(RUNBOOKS / "san-port-swap.yaml").plan
    assert [s.path for s in ko.steps] == ["main"] * 16 + ["rollback"] * 6
    assert [(s.optimistic, s.likely, s.pessimistic) for s in ko.steps] == [
        (s.optimistic, s.likely, s.pessimistic) for s in en.steps]
    assert [s.preds for s in ko.steps] == [s.preds for s in en.steps]
    assert [s.kind for s in ko.steps] == [s.kind for s in en.steps]
    assert [s.resumes_service for s in ko.steps] == [s.resumes_service for s in en.steps]
    assert ko.id == "CHG-2026-11-0417" and ko.timezone == "Asia/Seoul"
    assert ko.title.startswith("SAN 스위치 포트 교체 작업계획서")
    assert ko.by_id["3"].command.startswith("ansible-playbook")
    assert ko.by_id["rollback-1"].title.startswith("Fabric A 포트 차단")
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=")
    assert "  # row 7\n  - id: '1'" in text  # each step names its row
    # which column became which field, and what was left out, is reported
    assert "A '번호' -> number" in err and "C '작업내용' -> title" in err
    assert "E '최소(분)' -> optimistic, plain numbers in minutes" in err
    assert "B '구분' -> kind" in err
    assert "not imported: M '실적 시작', N '실적 종료'" in err
    assert "rows skipped: 6 ('사전 작업'), 9 ('본 작업'), 22 ('사후 작업')" in err
    assert "start: 2026-11-25T00:00 (from row 3)" in err
    assert f"wrote {out}: 16 steps, 1 contingency" in err


def test_stdout_without_o_and_schema_path_inside_a_checkout(tmp_path, capsys) -> None:
    code, stdout, _ = run([str(EXAMPLE)], capsys)
    assert code == 0 and stdout.startswith("# yaml-language-server: $schema=https://")
    out = RUNBOOKS.parent / "runbooks" / f".import-test-{os.getpid()}.yaml"
    try:
        assert run([str(EXAMPLE), "-o", str(out)], capsys)[0] == 0
        assert out.read_text().startswith("# yaml-language-server: $schema=../runbook.schema.json\n")
    finally:
        out.unlink(missing_ok=True)


def test_cp949_csv_and_english_headings(tmp_path, capsys) -> None:
    rows = [["Title", "Owner", "Duration", "Depends on", "Command"],
            ["Stop app", "app-ops", "5m", "", "systemctl stop app"],
            ["Swap disk", "storage", "1h30m", "1", ""],
            ["Start app", "app-ops", "PT10M", "", ""]]
    src = write_csv(tmp_path / "plan.csv", [["작업명", "디스크 교체"], *rows], encoding="cp949")
    code, stdout, err = run([str(src), "--timezone", "Asia/Seoul", "--start", "2026-11-25T00:00",
                             "--announced-resume", "2026-11-25T02:30"], capsys)
    assert code == 0, err
    assert "title: 디스크 교체" in stdout
    assert "estimate: 1h30m" in stdout
    assert "after: ['1']" in stdout  # no number column: steps are numbered by their order
    assert "timezone: Asia/Seoul (from --timezone)" in err


@pytest.mark.parametrize(("cell", "unit", "seconds"), [
    ("5m", None, 300), ("1h30m", None, 5400), ("PT5M", None, 300), ("90s", None, 90),
    ("5분", None, 300), ("1시간 30분", None, 5400), ("30초", None, 30), ("1:30", None, 5400),
    ("0:05:30", None, 330), ("10", "m", 600), ("1.5", "h", 5400), (10, "m", 600), ("", None, None),
])
def test_durations(cell, unit, seconds) -> None:
    assert v.duration(cell, unit) == seconds


@pytest.mark.parametrize(("cell", "words"), [
    ("10", "has no unit"), ("5 minutes", "did you mean '5m'"), ("soon", "is not a duration"),
    (-3, "zero or more"), (True, "yes/no"),
])
def test_bad_durations_say_what_to_write(cell, words) -> None:
    with pytest.raises(ValueError, match=words):
        v.duration(cell, None)


@pytest.mark.parametrize(("heading", "field", "unit"), [
    ("번호", "number", None), ("No.", "number", None), ("#", "number", None),
    ("작업명", "title", None), ("작업 내용", "title", None), ("담당", "owner", None),
    ("담당자(정/부)", "owner", None), ("예상시간", "estimate", None), ("소요시간(분)", "estimate", "m"),
    ("계획(분)", "estimate", "m"), ("Estimate (min)", "estimate", "m"),
    ("Duration in minutes", "estimate", "m"), ("선행작업", "after", None),
    ("Depends on", "after", None), ("명령어", "command", None), ("확인사항", "check", None),
    ("비고", "notes", None), ("최대(시간)", "pessimistic", "h"), ("실적 소요", None, None),
])
def test_headings(heading, field, unit) -> None:
    assert field_of(heading) == field
    assert normalise(heading)[1] == unit


def test_references_and_ids() -> None:
    assert v.references("3, 4") == ["3", "4"]
    assert v.references("2~4") == ["2", "3", "4"]
    assert v.references(3.0) == ["3"]
    assert v.references("-") == [] and v.references("없음") == []
    assert v.references(None) is None
    assert v.step_id(3.0) == "3" and v.step_id("3.1") == "3.1" and v.step_id("3.") == "3"
    with pytest.raises(ValueError, match="cannot be a step id"):
        v.step_id("단계 3")


def test_window_times_as_korean_sheets_write_them(tmp_path, capsys) -> None:
    rows = [["작업일자", "2026. 11. 24."], ["시작", "오후 11:00"], ["서비스 재개", "01:00"],
            ["시간대", "Asia/Seoul"], HEAD, ["1", "작업", "운영", "30", "", "", ""]]
    code, stdout, err = run([str(write_csv(tmp_path / "p.csv", rows))], capsys)
    assert code == 0, err
    assert "start: 2026-11-24T23:00" in stdout
    assert "announced_resume: 2026-11-25T01:00" in stdout  # past midnight: the next day


def test_map_by_heading_and_letter(tmp_path, capsys) -> None:
    rows = [*WINDOW, ["단계", "무엇을", "누가", "얼마나"], ["1", "작업 A", "운영", "5"],
            ["2", "작업 B", "운영", "10"]]
    src = write_csv(tmp_path / "p.csv", rows)
    code, stdout, err = run([str(src), "--map", "title=무엇을,owner=C,estimate=얼마나",
                             "--unit", "min"], capsys)
    assert code == 0, err
    assert "B '무엇을' -> title (--map)" in err and "C '누가' -> owner (--map)" in err
    assert "estimate: 10m" in stdout
    code, _, err = run([str(src), "--map", "title=제목"], capsys)
    assert code == 2 and "--map title=제목: no cell in the first 30 rows reads '제목'" in err
    code, _, err = run([str(src), "--map", "titel=무엇을"], capsys)
    assert code == 2 and "unknown field 'titel'" in err


def test_every_problem_named_by_row_and_column_and_nothing_written(tmp_path, capsys) -> None:
    rows = [*WINDOW, HEAD,
            ["1", "공지", "서비스데스크", "5", "", "", ""],
            ["2", "", "운영", "5 minutes", "", "", ""],
            ["3", "DB 종료", "DBA", "", "9", "", ""],
            ["4", "DB 기동", "DBA", "10", "1, 7", "", ""]]
    src = write_csv(tmp_path / "bad.csv", rows)
    out = tmp_path / "out.yaml"
    out.write_text("keep me\n")
    code, stdout, err = run([str(src), "-o", str(out)], capsys)
    assert code == 2 and stdout == ""
    lines = err.splitlines()
    assert f"{src}: row 6, column B (작업내용): error: no title: every step needs one" in lines
    assert any(line.startswith(f"{src}: row 6, column D (소요시간(분)): error: '5 minutes' is not a "
                               "duration; did you mean '5m'") for line in lines)
    assert any(line.startswith(f"{src}: row 7, column D (소요시간(분)): error: no estimate")
               for line in lines)
    assert any(line.startswith(f"{src}: row 7, column E (선행작업): error: waits for '9'")
               for line in lines)
    assert any(line.startswith(f"{src}: row 8, column E (선행작업): error: waits for '7'")
               for line in lines)
    assert lines[-1] == f"{src}: 5 problems; nothing was written"
    assert "Traceback" not in err
    assert out.read_text() == "keep me\n"


def test_loader_findings_point_at_the_row(tmp_path, capsys) -> None:
    """What only the runbook loader sees (a cycle, estimates out of order) names the row too."""
    rows = [*WINDOW, ["번호", "작업명", "최소(분)", "예상(분)", "최대(분)", "선행작업"],
            ["1", "A", "5", "3", "10", "2"], ["2", "B", "1", "2", "3", "1"]]
    code, _, err = run([str(write_csv(tmp_path / "p.csv", rows))], capsys)
    assert code == 2
    assert "row 5, column D (예상(분)): error: needs optimistic <= likely <= pessimistic" in err


def test_missing_window_says_how_to_give_it(tmp_path, capsys) -> None:
    rows = [HEAD, ["1", "작업", "운영", "5", "", "", ""]]
    code, _, err = run([str(write_csv(tmp_path / "p.csv", rows))], capsys)
    assert code == 2
    assert "no time zone: add a row '시간대 | Asia/Seoul'" in err
    assert "no window start" in err and "--start 2026-11-25T00:00" in err
    assert "no announced resume" in err
    code, _, err = run([str(write_csv(tmp_path / "q.csv", [["시간대", "Asia/Seol"], ["작업일시",
                        "2026-11-25 00:00 ~ 00:30"], *[HEAD, ["1", "a", "b", "5", "", "", ""]]]))],
                       capsys)
    assert code == 2 and "did you mean 'Asia/Seoul'" in err


def test_no_header_row(tmp_path, capsys) -> None:
    code, _, err = run([str(write_csv(tmp_path / "p.csv", [["a", "b"], ["1", "2"]]))], capsys)
    assert code == 2 and "has no header row naming a title column" in err and "--map" in err


def test_o_refuses_to_overwrite_the_input(tmp_path, capsys) -> None:
    src = write_csv(tmp_path / "p.csv", [*WINDOW, HEAD, ["1", "a", "b", "5", "", "", ""]])
    before = src.read_bytes()
    code, _, err = run([str(src), "-o", str(src)], capsys)
    assert code == 2 and "is the spreadsheet being imported" in err
    assert src.read_bytes() == before


def test_refuses_what_is_not_a_regular_file(tmp_path, capsys) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    code, _, err = run([str(fifo)], capsys)  # would block forever if it were opened
    assert code == 2 and "not a regular file" in err
    code, _, err = run([str(tmp_path)], capsys)
    assert code == 2 and "is a directory" in err
    code, _, err = run([str(tmp_path / "nope.csv")], capsys)
    assert code == 2 and "no such file" in err


def test_refuses_huge_and_binary_files(tmp_path, capsys) -> None:
    big = tmp_path / "big.csv"
    with open(big, "wb") as f:
        f.truncate(21 * 1024 * 1024)
    code, _, err = run([str(big)], capsys)
    assert code == 2 and "more than the 20 MB" in err
    xls = tmp_path / "old.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    code, _, err = run([str(xls)], capsys)
    assert code == 2 and "save it as .xlsx" in err


def test_parse_map_words() -> None:
    assert parse_map("title=작업명, estimate=소요; depends-on=선행") == {
        "title": "작업명", "estimate": "소요", "after": "선행"}
    with pytest.raises(ValueError, match="needs FIELD=HEADING"):
        parse_map("title")


def test_csv_import_needs_neither_textual_nor_openpyxl(tmp_path) -> None:
    import subprocess
    import sys

    code = ("import sys; from runbook.cli import main; "
            f"rc = main(['import', {str(EXAMPLE)!r}, '-o', {str(tmp_path / 'x.yaml')!r}]); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'textual', 'openpyxl'})); "
            "sys.exit(rc)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_semicolons_totals_and_a_window_over_midnight(tmp_path, capsys) -> None:
    src = tmp_path / "p.csv"
    src.write_text("시간대;Asia/Seoul\n작업일시;2026-11-25 23:00 ~ 01:00\n"
                   "번호;작업명;소요시간(분);선행작업\n1;A;5;\n2;B, 그리고 C;10;1\n합계;;15;\n",
                   encoding="utf-8")
    code, stdout, err = run([str(src)], capsys)
    assert code == 0, err
    assert "title: B, 그리고 C" in stdout
    assert "announced_resume: 2026-11-26T01:00" in stdout
    assert "rows skipped: 6 (totals)" in err


def test_a_number_used_twice(tmp_path, capsys) -> None:
    rows = [*WINDOW, HEAD, ["1", "a", "x", "5", "", "", ""], ["1", "b", "x", "5", "", "", ""]]
    code, _, err = run([str(write_csv(tmp_path / "p.csv", rows))], capsys)
    assert code == 2
    assert "row 6, column A (번호): error: step '1' appears twice (first in row 5)" in err
