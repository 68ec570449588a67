"""Reporting rules (policy.outage_report): thresholds, deadlines and load-time checks, exact.

The rules and their sources are in docs/reporting.md; every number below is one of theirs.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from runbook.cli import main
from runbook.engine.reporting import add_month, in_force, obligation
from runbook.format.model import Policy
from runbook.i18n import using

ANNOUNCED = datetime(2026, 11, 24, 16, 30, tzinfo=UTC)  # 01:30 on 11-25 in Seoul
SEOUL = "Asia/Seoul"


def after(minutes: float) -> datetime:
    return ANNOUNCED + timedelta(minutes=minutes)


def ob(end_minutes: float, **policy):
    return obligation(Policy.model_validate(policy), ANNOUNCED, after(end_minutes), SEOUL)


# -- the policy's own rule: exactly as before the presets ------------------------------------

def test_default_rule_is_unchanged() -> None:
    assert ob(10).required is False  # more than 10 minutes, as always
    got = ob(10 + 1 / 60)
    assert got.required and got.rule == "policy" and not got.named
    assert got.due == after(10) + timedelta(hours=24)
    assert got.label == "outage report"
    custom = ob(31, outage_report_after="30m", report_due_within="2h")
    assert custom.due == after(30) + timedelta(hours=2)


# -- kr-fss -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("subscribers", "threshold"), [(9_999, 30), (10_000, 10),
                                                         (2_400_000, 10), (0, 30)])
def test_kr_fss_threshold_depends_on_subscribers(subscribers: int, threshold: int) -> None:
    policy = {"outage_report": "kr-fss", "subscribers": subscribers}
    assert ob(threshold - 1 / 60, **policy).required is False
    got = ob(threshold, **policy)  # "30분 이상": the threshold itself is reportable
    assert got.required and got.rule == "kr-fss" and got.label == "kr-fss report"
    assert got.crossed_at == after(threshold)
    (deadline,) = got.deadlines
    assert deadline.due == after(threshold) + timedelta(days=1)
    assert deadline.how == "at once, within a day"


# -- us-36h -------------------------------------------------------------------------------------

def test_us_36h_counts_from_the_determination() -> None:
    assert ob(10, outage_report="us-36h").required is False
    got = ob(11, outage_report="us-36h")
    assert got.required and got.due == after(10) + timedelta(hours=36)
    later = ob(61, outage_report="us-36h", outage_report_after="1h")
    assert later.due == after(60) + timedelta(hours=36)
    assert "the bank determines it" in later.threshold_text


# -- eu-dora ------------------------------------------------------------------------------------

DORA = {"outage_report": "eu-dora", "critical_service": True, "subscribers": 200_000}


def test_dora_major_once_downtime_passes_two_hours() -> None:
    assert ob(119, **DORA).required is False  # clients only: one threshold
    got = ob(121, **DORA)
    assert got.required and got.crossed_at == after(120)
    initial, intermediate, final = got.deadlines
    assert initial.name == "initial notification" and initial.due == after(120 + 4 * 60)
    assert intermediate.due == initial.due + timedelta(hours=72)
    # one calendar month later in Seoul: 11-28 10:30 local -> 12-28 10:30 local
    assert final.due == intermediate.due + timedelta(days=30)
    assert "clients" in got.basis and "downtime longer than 2 hours" in got.basis


def test_dora_initial_notification_at_most_24_hours_after_awareness() -> None:
    no_clients = {**DORA, "subscribers": None}
    assert ob(23 * 60, **no_clients).required is False  # downtime only
    got = ob(24 * 60 + 1, **no_clients)  # duration over 24 h is the second threshold
    assert got.crossed_at == after(24 * 60)
    assert got.deadlines[0].due == after(24 * 60)  # min(classified + 4 h, aware + 24 h)


def test_dora_not_major_without_critical_services() -> None:
    got = ob(48 * 60, **{**DORA, "critical_service": False})
    assert got.required is False and got.due is None
    assert "critical_service: false" in got.basis


def test_dora_thresholds_the_team_declared() -> None:
    declared = {**DORA, "subscribers": None, "dora_thresholds_met": ["reputational", "economic"]}
    got = ob(1, **declared)
    assert got.required and got.crossed_at == ANNOUNCED
    assert got.deadlines[0].due == after(4 * 60)
    malicious = ob(1, **{**DORA, "subscribers": None, "dora_thresholds_met": ["malicious_access"]})
    assert malicious.required


@pytest.mark.parametrize("policy", [{}, {"outage_report": "kr-fss", "subscribers": 50_000},
                                    {"outage_report": "us-36h"},
                                    {**DORA, "dora_thresholds_met": ["malicious_access"]}])
def test_a_planned_window_is_not_an_incident(policy: dict) -> None:
    """Service back by the announced resume: nothing to report under any rule."""
    for end in (-30, 0):
        assert ob(end, **policy).required is False


def test_add_month_keeps_to_the_calendar() -> None:
    jan31 = datetime(2027, 1, 31, 3, 0, tzinfo=UTC)  # 12:00 in Seoul
    assert add_month(jan31, SEOUL) == datetime(2027, 2, 28, 3, 0, tzinfo=UTC)
    dec = datetime(2026, 12, 15, 3, 0, tzinfo=UTC)
    assert add_month(dec, SEOUL) == datetime(2027, 1, 15, 3, 0, tzinfo=UTC)


def test_in_force_says_the_rule() -> None:
    assert "10m or more" in in_force(Policy(outage_report="kr-fss", subscribers=10_000))
    assert "30m or more" in in_force(Policy(outage_report="kr-fss", subscribers=10))
    assert in_force(Policy()).startswith("outage report if more than 10m")
    assert "36h" in in_force(Policy(outage_report="us-36h"))
    assert "initial notification within 4h" in in_force(Policy.model_validate(DORA))


# -- bad input: one message with the file and line, exit 2 ---------------------------------------

BASE = """runbook: 1
title: T
timezone: Asia/Seoul
window: {start: 2026-11-25T00:00, announced_resume: 2026-11-25T00:30}
policy:
  POLICY
steps:
  - {id: a, title: A, estimate: 5m}
"""


@pytest.mark.parametrize(("policy", "line", "words"), [
    ("outage_report: kr-fs", 6, "did you mean 'kr-fss'?"),
    ("outage_report: kr-fss", 6, "kr-fss needs the service's subscribers"),
    ("outage_report: eu-dora", 6, "eu-dora needs `critical_service: true` or `false`"),
    ("outage_report: us-36h\n  report_due_within: 2h", 7, "sets its own deadlines"),
    ("outage_report: kr-fss\n  subscribers: 5\n  outage_report_after: 5m", 8,
     "sets its own threshold"),
    ("critical_service: true", 6, "read only by `outage_report: eu-dora`"),
    ("subscribers: -1", 6, "must be at least 0"),
])
def test_bad_rule_input_names_the_line(tmp_path: Path, capsys, policy: str, line: int,
                                       words: str) -> None:
    path = tmp_path / "rb.yaml"
    path.write_text(BASE.replace("POLICY", policy), encoding="utf-8")
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"rb.yaml:{line}:" in err and words in err, err
    assert "Traceback" not in err


def test_check_names_the_rule_in_force(capsys) -> None:
    root = Path(__file__).resolve().parent.parent
    main(["check", str(root / "runbooks" / "san-port-swap.yaml"), "--samples", "500"])
    out = capsys.readouterr().out
    assert ("  Reporting  kr-fss: a stoppage or delay of 10m or more past the announced resume "
            "(2,400,000 subscribers) is reported to the FSS at once, within a day") in out
    assert "  Notices    at_risk, late, resumed in ko, en" in out


# -- the report names the rule that applied and its deadlines, in every format ------------------

def story_with(tmp_path: Path, policy: str) -> dict:
    from test_report_support import DATA

    from runbook.report import build, render
    from runbook.report.json_out import as_json
    from runbook.store import Store

    text = (DATA / "story.yaml").read_text(encoding="utf-8")
    text = text.replace("  outage_report_after: 10m\n  report_due_within: 24h\n", policy)
    (tmp_path / "story.yaml").write_text(text, encoding="utf-8")
    db = tmp_path / "runs.db"
    assert main(["simulate", str(tmp_path / "story.yaml"), "--events",
                 str(DATA / "story.events.yaml"), "--db", str(db), "--samples", "500"]) == 0
    with Store(db, readonly=True) as s:
        info = s.resolve(None)
        report = build(info, s.events(info.id))
    return {"json": as_json(report), **{f: render(report, f) for f in ("md", "csv", "html")}}


def test_report_under_kr_fss(tmp_path: Path) -> None:
    got = story_with(tmp_path, "  outage_report: kr-fss\n  subscribers: 50000\n")
    sm = got["json"]["summary"]
    assert sm["outage_report_required"] is True
    assert sm["report_due_by"] == "2026-11-26T00:40:00+09:00"  # crossed 10 min at 00:40
    assert sm["reporting_rule"] == "kr-fss"
    assert (sm["outage_report_after_s"], sm["report_due_within_s"]) == (600, 86400)
    assert sm["report_deadlines"] == [{"name": "report to the FSS",
                                       "due": "2026-11-26T00:40:00+09:00",
                                       "rule": "at once, within a day"}]
    assert "REQUIRED under kr-fss" in got["md"] and "report to the FSS by 2026-11-26 00:40" \
        in got["md"]
    assert "Outage report (kr-fss)" in got["html"] and "report to the FSS by" in got["html"]
    rows = got["csv"].splitlines()
    assert rows[0].split(",")[-4:] == ["reporting_rule", "report_due_by", "run_id", "run_status"]
    assert ",kr-fss,2026-11-26T00:40:00+09:00," in rows[1]


def test_report_under_eu_dora_not_major(tmp_path: Path) -> None:
    got = story_with(tmp_path, "  outage_report: eu-dora\n  critical_service: true\n"
                               "  subscribers: 50000\n")
    sm = got["json"]["summary"]
    assert sm["outage_report_required"] is False and sm["report_due_by"] is None
    assert sm["reporting_rule"] == "eu-dora" and sm["report_deadlines"] == []
    assert sm["outage_report_after_s"] is None  # no single threshold: two criteria
    assert "clients: all 50,000 clients" in sm["reporting_basis"]
    assert "not required under eu-dora" in got["md"]


def test_report_default_rule_keeps_its_words(tmp_path: Path) -> None:
    got = story_with(tmp_path, "  outage_report_after: 10m\n  report_due_within: 24h\n")
    sm = got["json"]["summary"]
    assert sm["reporting_rule"] == "policy" and sm["report_due_by"] == "2026-11-26T00:40:00+09:00"
    assert "REQUIRED: the overrun (1h) is more than 10m past the announced resume" in got["md"]


def test_workbook_names_the_rule_and_its_deadline(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    import io

    from test_report_support import DATA

    from runbook.report import build, render_bytes
    from runbook.store import Store

    text = (DATA / "story.yaml").read_text(encoding="utf-8").replace(
        "  outage_report_after: 10m\n  report_due_within: 24h\n",
        "  outage_report: kr-fss\n  subscribers: 50000\n")
    (tmp_path / "story.yaml").write_text(text, encoding="utf-8")
    db = tmp_path / "runs.db"
    assert main(["simulate", str(tmp_path / "story.yaml"), "--events",
                 str(DATA / "story.events.yaml"), "--db", str(db), "--samples", "500"]) == 0
    with Store(db, readonly=True) as s:
        info = s.resolve(None)
        report = build(info, s.events(info.id))
    ws = openpyxl.load_workbook(io.BytesIO(render_bytes(report, "xlsx")))["Summary"]
    rows = {r[0].value: r[1].value for r in ws.iter_rows(min_col=1, max_col=2) if r[0].value}
    assert rows["Reporting rule"].startswith("kr-fss: Korea FSS electronic financial incident")
    assert rows["Outage report required"] == "YES"
    due = rows["Report to the FSS due by"]
    assert (due.year, due.month, due.day, due.hour, due.minute) == (2026, 11, 26, 0, 40)


# -- in Korean: every word of the presets, none of the rule's numbers lost ---------------------

ALLOWED_ENGLISH = {"policy", "outage_report_after", "critical_service", "false", "runbook"}


def english_words(text: str) -> set[str]:
    """Latin-letter words left in a text, less the keys and names that stay as written."""
    return set(re.findall(r"[A-Za-z_]{2,}", text.replace("policy.", "policy "))) - ALLOWED_ENGLISH


def test_eu_dora_and_us_36h_read_in_korean() -> None:
    declared = {**DORA, "subscribers": 50_000, "dora_thresholds_met": ["reputational", "economic"]}
    with using("ko"):
        dora = ob(3 * 60, **declared)
        lone = ob(3 * 60, **{**DORA, "subscribers": None, "dora_thresholds_met": []})
        not_critical = ob(48 * 60, **{**DORA, "critical_service": False})
        malicious = ob(1, **{**DORA, "dora_thresholds_met": ["malicious_access"]})
        us = ob(31, outage_report="us-36h", outage_report_after="30m")
    assert dora.required and [d.name for d in dora.deadlines] == [
        "initial notification", "intermediate report", "final report"]  # ids, said by the screens
    assert dora.basis == ("고객: 서비스 중단 중 해당 서비스 고객 50,000명 전원 영향 (10% 초과); "
                          "경제적 영향 (팀 판단); 평판 영향 (팀 판단); 서비스 중단 2시간 초과")
    assert dora.threshold_text == "중대 사고: 핵심 서비스에 영향이 있고 중요도 기준 2개 충족"
    assert [d.how for d in dora.deadlines] == [
        "중대 사고로 분류한 후 4시간 이내, 인지 후 최대 24시간 이내",
        "최초 통지 후 72시간 이내 (여기서는 최초 통지를 기한에 제출한 경우)",
        "마지막 중간 보고 후 1개월 이내 (여기서는 중간 보고를 기한에 제출한 경우)"]
    assert lone.basis == "서비스 중단 2시간 초과" and not lone.required
    assert not_critical.basis.startswith("중대 사고 아님: 핵심 또는 중요 기능")
    assert malicious.basis.startswith("악의적 무단 접근 (팀 판단)")
    assert us.required and "30분" in us.threshold_text and "36시간" in us.deadlines[0].how
    for o in (dora, lone, not_critical, malicious, us):
        for text in (o.threshold_text, o.basis, *(d.how for d in o.deadlines)):
            assert not english_words(text), text
    # the same obligation in English, unchanged in its figures and wording
    en = ob(3 * 60, **declared)
    assert [(d.name, d.due) for d in en.deadlines] == [(d.name, d.due) for d in dora.deadlines]
    assert "reputational impact (judged by the team)" in en.basis
    assert ob(31, outage_report="us-36h", outage_report_after="30m").threshold_text.startswith(
        "a notification incident, taken as determined when the overrun passes 30m ")
