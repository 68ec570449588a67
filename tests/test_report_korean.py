"""`runbook --lang ko report`: the timing log in Korean, for the change record and the supervisor.

The story night (the overrun script, recorded in English by default) reported in md, html and
xlsx: Korean headings and sentences, the same figures as the English report, alert messages in
Korean from the numbers recorded with each alert, English ids and JSON keys.
"""

from __future__ import annotations

import json
import re

import pytest

from runbook.cli import main
from tests.conftest import RUNBOOKS

STORY = RUNBOOKS / "san-port-swap.yaml"
OVERRUN = RUNBOOKS / "san-port-swap.overrun.events.yaml"
HANGUL = re.compile("[\uac00-\ud7a3]")


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("ko") / "runs.db"
    assert main(["simulate", str(STORY), "--events", str(OVERRUN), "--db", str(path),
                 "--samples", "1000"]) == 0  # recorded in English
    return path


def report(capsys, db, fmt, lang, tmp_path=None):
    args = ["report", "--db", str(db), "--format", fmt, "--lang", lang]
    if tmp_path is not None:
        out = tmp_path / f"report-{lang}.{fmt}"
        assert main([*args, "-o", str(out)]) == 0
        capsys.readouterr()
        return out
    assert main(args) == 0
    return capsys.readouterr().out


def test_the_markdown_report_in_korean(db, capsys):
    ko, en = report(capsys, db, "md", "ko"), report(capsys, db, "md", "en")
    assert ko.startswith("# 작업 시간 기록: ")
    for heading in ("## 요약", "## 경보", "## 예측 추이", "## 단계"):
        assert heading in ko
    assert "| 공지 재개 시각 |" in ko and "| 서비스 재개 |" in ko and "| 장애 보고 |" in ko
    # the reporting rule the story runbook names (kr-fss), said in Korean
    assert "| 보고 규칙 | kr-fss: 금융감독원 전자금융사고 보고 (2025년 개정)" in ko
    assert "Timing log" not in ko and "## Summary" in en
    # the alerts table: Korean level words and messages, from an English-recorded run
    alerts = ko[ko.index("## 경보"):ko.index("## 예측 추이")]
    assert "즉시 결정" in alerts and "서비스 재개" in alerts and "Decide now" not in alerts
    # same figures: every time and duration in seconds of the English report is in the Korean
    for figure in set(re.findall(r"(?<!\d)\d\d:\d\d(?!\d)|\d+%", en)):
        assert figure in ko, figure
    # ids stay: step ids and the contingency
    assert "`rb-start-db`" in ko and "rollback" in ko


def test_the_html_report_in_korean(db, capsys):
    page = report(capsys, db, "html", "ko")
    assert '<html lang="ko">' in page
    assert "<title>작업 시간 기록: " in page
    assert "<h2>단계</h2>" in page and "<h2>경보</h2>" in page
    assert "정시 가능성" in page  # the chart's axis
    assert "즉시 결정" in page and "Decide now" not in page
    assert "<script" not in page


def test_the_xlsx_report_in_korean(db, capsys, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.load_workbook(report(capsys, db, "xlsx", "ko", tmp_path))
    assert wb.sheetnames == ["단계", "요약", "경보", "비고", "고객 공지"]
    steps = wb["단계"]
    headings = [c.value for c in steps[4]]
    assert headings[:3] == ["#", "단계 id", "작업 내용"] and "편차 (분, 실제 - 예상)" in headings
    statuses = {row[6].value for row in steps.iter_rows(min_row=5)}
    assert "완료" in statuses and "미수행" in statuses
    summary = {row[0].value: row[1].value for row in wb["요약"].iter_rows(min_row=5)}
    assert summary["상태"] == "작업 종료"
    alerts = [row[5].value for row in wb["경보"].iter_rows(min_row=5)]
    assert alerts and all(HANGUL.search(a) for a in alerts)
    # numbers stay numbers, formulas stay out: the overrun rule compares with the Korean "예"
    rules = [r.formula for rng in steps.conditional_formatting for r in rng.rules]
    assert ['$P5="예"'] in rules


def test_json_report_keeps_its_contract_in_korean(db, capsys):
    data = json.loads(report(capsys, db, "json", "ko"))
    assert {"run", "steps", "alerts", "summary"} <= set(data)
    assert {s["status"] for s in data["steps"]} <= {"pending", "ready", "running", "completed",
                                                     "failed", "skipped", "abandoned"}
    assert {a["level"] for a in data["alerts"]} >= {"decide_now", "resumed"}
    assert all(HANGUL.search(a["message"]) for a in data["alerts"])


def test_an_alert_recorded_before_translation_keeps_its_text():
    """An alert without messages in every language (recorded by an older runbook) keeps the
    text it was recorded with in any report language: nothing is made up. One with them shows
    the report's language."""
    from datetime import UTC, datetime

    from runbook import i18n
    from runbook.engine.state import Alert

    at = datetime(2026, 11, 24, 15, 31, tzinfo=UTC)
    old = Alert(at, "decide_now", "Decide now: resume 01:20 has 65% on time.",
                {"level": "decide_now", "message": "Decide now: resume 01:20 has 65% on time."})
    new = Alert(at, "decide_now", "Decide now: resume 01:20 has 65% on time.",
                {"messages": {"en": "Decide now: resume 01:20 has 65% on time.",
                              "ko": "즉시 결정: 01:20 재개, 정시 가능성 65%."}})
    with i18n.using("ko"):
        assert old.text == "Decide now: resume 01:20 has 65% on time."
        assert new.text == "즉시 결정: 01:20 재개, 정시 가능성 65%."
    assert new.text == "Decide now: resume 01:20 has 65% on time."
