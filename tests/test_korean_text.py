"""`runbook check`, `simulate` and `runs` in Korean: the same figures, Korean words, English ids.

Tables are aligned in terminal cells (Hangul takes two), JSON keys and codes stay English, and an
alert says the same numbers in both languages.
"""

from __future__ import annotations

import json
import re

import pytest

from runbook import i18n
from runbook.cli import main
from runbook.format.cells import width
from tests.conftest import RUNBOOKS

STORY = RUNBOOKS / "san-port-swap.yaml"
OVERRUN = RUNBOOKS / "san-port-swap.overrun.events.yaml"
HANGUL = re.compile("[\uac00-\ud7a3]")


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def short_window(tmp_path):
    text = STORY.read_text().replace("announced_resume: 2026-11-25T01:20",
                                     "announced_resume: 2026-11-25T00:30")
    path = tmp_path / "san-port-swap-30m.yaml"
    path.write_text(text)
    return path


def test_check_in_korean_says_the_same_review(capsys, tmp_path):
    path = short_window(tmp_path)
    args = (path, "--samples", "4000", "--start", "2026-11-25T00:00")
    code_en, en, _ = run(capsys, "check", *args)
    code_ko, ko, _ = run(capsys, "--lang", "ko", "check", *args)
    assert code_ko == code_en == 1  # the verdict does not depend on the language
    assert "작업 시간대" in ko and "공지 권장" in ko and "결정 기한" in ko and "검토 결과" in ko
    assert "[시간 부족: 정책 기준 80%]" in ko and "TOO SHORT" not in ko
    # the same figures: every time and percentage of the English review is in the Korean one
    for figure in set(re.findall(r"(?<!\d)\d\d:\d\d(?!\d)|\d+%", en)):
        assert figure in ko, figure
    # codes are ids: English in both
    assert "window_too_short" in ko and "contingency_too_long" in ko
    assert "오류 1건, 경고 1건" in ko


def test_the_korean_check_is_aligned_in_cells(capsys, tmp_path):
    code, out, _ = run(capsys, "check", short_window(tmp_path), "--samples", "2000", "--lang",
                       "ko", "--verbose", "--start", "2026-11-25T00:00")
    lines = out.splitlines()
    summary = lines[2:2 + next(i for i, x in enumerate(lines[2:]) if not x)]
    assert len(summary) >= 7
    # each line is "  LABEL<pad>VALUE": the value starts in the same cell on every line
    starts = set()
    for line in summary:
        label = re.match(r"  (\S+(?: \S+)?)\s+", line)
        assert label, line
        starts.add(width(line[:label.end()]))
    assert len(starts) == 1, summary
    findings = lines[lines.index("검토 결과") + 1:-1]
    codes = {width(x[:x.index(code)]) for x in findings
             for code in re.findall(r"[a-z]+(?:_[a-z]+)+", x)[:1]}
    assert len(codes) == 1, findings  # the code column starts in one cell on every finding


def test_check_json_keeps_its_keys_and_codes_and_says_the_findings_in_korean(capsys, tmp_path):
    _, out, _ = run(capsys, "--lang", "ko", "check", short_window(tmp_path), "--json",
                    "--samples", "2000", "--start", "2026-11-25T00:00")
    data = json.loads(out)
    for key in ("runbook", "steps", "announced_resume", "p50", "p80", "p90", "p_on_time",
                "recommended_resume", "critical_path", "findings"):
        assert key in data
    finding = next(f for f in data["findings"] if f["code"] == "window_too_short")
    assert finding["severity"] == "error" and HANGUL.search(finding["message"])
    assert data["recommended_resume"][11:16] in finding["message"]


def _alerts(capsys, lang):
    _, out, _ = run(capsys, "--lang", lang, "simulate", STORY, "--events", OVERRUN, "--json",
                    "--samples", "2000")
    return json.loads(out)


def test_simulated_alerts_keep_their_numbers_in_korean(capsys):
    en, ko = _alerts(capsys, "en"), _alerts(capsys, "ko")
    assert [a["level"] for a in ko["alerts"]] == [a["level"] for a in en["alerts"]]
    assert {a["level"] for a in ko["alerts"]} >= {"decide_now", "resumed"}
    assert ko["timeline"] == en["timeline"]  # levels stay codes; events stay the script's words
    for a_en, a_ko in zip(en["alerts"], ko["alerts"], strict=True):
        assert HANGUL.search(a_ko["message"])
        figures = r"\d+%|(?<!\d)\d\d:\d\d(?!\d)"  # percentages and times (Korean may reorder)
        assert sorted(re.findall(figures, a_ko["message"])) == \
            sorted(re.findall(figures, a_en["message"])), (a_en["message"], a_ko["message"])


def test_simulate_text_in_korean(capsys):
    code, out, _ = run(capsys, "simulate", STORY, "--events", OVERRUN, "--samples", "2000",
                       "--lang", "ko")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "san-port-swap: 모의 실행, 공지 재개 시각 01:20"
    decide = next(x for x in lines if "즉시 결정" in x)
    # the level column is as wide as the widest word (서비스 재개, 11 cells): messages line up
    assert decide.startswith("  00:31  즉시 결정   즉시 결정:")
    resumed = next(x for x in lines if x.startswith("  01:04  서비스 재개 "))
    assert width(resumed[:resumed.index("서비스 재개 01:04")]) == 2 + 5 + 2 + 11 + 1
    assert width(decide[:decide.index("즉시 결정:")]) == 2 + 5 + 2 + 11 + 1
    assert lines[-2] == "재개 01:04 (정시), 경로 rollback."


def test_the_runs_listing_in_korean_is_aligned_in_cells(tmp_path, capsys):
    db = tmp_path / "runs.db"
    assert main(["simulate", str(STORY), "--events", str(OVERRUN), "--db", str(db),
                 "--samples", "500", "--operator", "김운영"]) == 0
    capsys.readouterr()
    assert main(["--lang", "ko", "runs", "--db", str(db)]) == 0
    lines = capsys.readouterr().out.splitlines()
    header, row = lines[0], lines[1]
    assert header.split()[:3] == ["실행", "런북", "구분"]
    assert "리허설" in row and "김운영" in row and "16분 빠름" in row
    # every column starts in the same cell in the heading and in the row
    for heading in ("런북", "구분", "작업자", "시작", "재개"):
        start = width(header[:header.index(heading)])
        assert row[:len(row)] and width(row[:_at_cell(row, start)]) == start
        assert row[_at_cell(row, start) - 1] == " " and row[_at_cell(row, start)] != " ", heading
    assert lines[-1].startswith(f"{db}에 실행 1건")


def _at_cell(text: str, cells: int) -> int:
    """The index of the character that starts at terminal cell ``cells``."""
    used = 0
    for i, ch in enumerate(text):
        if used >= cells:
            return i
        used += width(ch)
    return len(text)


@pytest.fixture(autouse=True)
def _english_after():
    yield
    assert i18n.current() == "en"
