"""Customer notices (runbook comms:): checked at load, filled with the forecast's numbers rounded
up, handed to the hooks, recorded when copied or sent, and listed by the report."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from runbook.cli import main
from runbook.engine.clock import ManualClock
from runbook.engine.notices import language, minute_up, notice, pick, values
from runbook.engine.notify import Notifier, alert_argv, alert_env
from runbook.engine.run import Actor, new_run
from runbook.engine.state import NOTICE, RunState
from runbook.format.times import hhmm
from runbook.report import build, render, render_bytes
from runbook.report.json_out import as_json
from runbook.store import Store
from runbook.tui.journal import entries
from tests.conftest import START, at, make_runbook, three

OPS = Actor("kim", "ops-host")
COMMS = {
    "at_risk": {"en": "May run past {announced}: now {resume}."},
    "late": {"ko": "서비스 재개 시각이 {resume_p90}(으)로 변경되었습니다 <b>&", "en":
             "Service will now resume at {resume_p90} ({delay_min} min late, {p_on_time})."},
    "resumed": {"en": "Back since {resumed_at} on {date}."},
}


def runbook(**policy):
    return make_runbook([{"id": "work", "estimate": three(20, 25, 60)}], announced="2026-11-25T00:30",
                        policy=policy or None, comms=COMMS)


# -- the template language ------------------------------------------------------------------------

@pytest.mark.parametrize(("env", "lang"), [
    ({}, "en"), ({"LANG": "ko_KR.UTF-8"}, "ko"), ({"LANG": "C"}, "en"),
    ({"LC_ALL": "ja_JP.UTF-8", "LANG": "ko_KR.UTF-8"}, "ja"),
    ({"RUNBOOK_NOTICE_LANG": "ko", "LC_ALL": "en_US.UTF-8"}, "ko"),
])
def test_language_from_the_environment(env: dict, lang: str) -> None:
    assert language(env) == lang


def test_fallback_order_requested_then_english_then_first() -> None:
    both = {"ko": "가", "en": "a"}
    assert pick(both, "ko") == ("ko", "가")
    assert pick(both, "ja") == ("en", "a")
    assert pick({"ko": "가", "ja": "あ"}, "fr") == ("ko", "가")
    assert pick({"zh": "中"}, "zh-Hant") == ("zh", "中")


# -- filling --------------------------------------------------------------------------------------

def test_minute_up() -> None:
    t = datetime(2026, 11, 24, 16, 28, 0, tzinfo=START.tzinfo)
    assert minute_up(t) == t
    assert minute_up(t + timedelta(seconds=1)) == t + timedelta(minutes=1)
    assert minute_up(t + timedelta(microseconds=1)) == t + timedelta(minutes=1)


def test_values_round_resume_times_up() -> None:
    loaded = runbook()
    plan = loaded.plan
    fc = SimpleNamespace(p50=at(40) + timedelta(seconds=1), p80=at(50), p90=at(61, ) +
                         timedelta(seconds=59), recommended=at(51), p_on_time=0.429,
                         resumed_at=None)
    got = values(plan, RunState.initial(plan), fc)
    assert got == {"announced": "00:30", "resume": "00:51", "resume_p50": "00:41",
                   "resume_p80": "00:50", "resume_p90": "01:02", "resumed_at": "00:30",
                   "delay_min": "32", "p_on_time": "42%", "date": "2026-11-25"}
    late = notice(plan, "late", RunState.initial(plan), fc, "ko")
    assert late is not None and late.lang == "ko"
    assert late.text == "서비스 재개 시각이 01:02(으)로 변경되었습니다 <b>&"
    assert notice(plan, "decide_now", RunState.initial(plan), fc, "en") is None  # none given
    assert notice(plan, "on_track", RunState.initial(plan), fc, "en") is None


# -- the run: alert payload, hooks, records, report ------------------------------------------------

def test_late_notice_reaches_the_hooks_and_the_report(tmp_path: Path) -> None:
    out = tmp_path / "hook.json"
    script = ("import json, os, sys; json.dump({'argv': sys.argv[1:], 'env': "
              "os.environ['RUNBOOK_NOTICE'], 'lang': os.environ['RUNBOOK_NOTICE_LANG']}, "
              f"open({str(out)!r}, 'w'))")
    loaded = runbook(notify={"command": [sys.executable, "-c", script, "--text", "{notice}"]})
    with Store(tmp_path / "runs.db") as store:
        clock = ManualClock(START)
        engine = new_run(store, loaded, clock, OPS, samples=2_000,
                         notifier=Notifier(loaded.plan.policy.notify, hold_s=0))
        engine.notice_lang = "ko"
        engine.start("work")
        clock.set(at(31))  # the announced resume has passed, service still down: LATE at once
        tick = engine.tick()
        assert tick.alert is not None and tick.alert["level"] == "late"
        p90 = hhmm(minute_up(tick.forecast.p90), "Asia/Seoul")
        expected = f"서비스 재개 시각이 {p90}(으)로 변경되었습니다 <b>&"
        assert tick.alert["notice"] == {"level": "late", "lang": "ko", "text": expected}
        engine.close(wait_hooks=True)  # the hook ran; what it was handed is recorded
        hook = json.loads(out.read_text(encoding="utf-8"))
        assert hook == {"argv": ["--text", expected], "env": expected, "lang": "ko"}

        clock.set(at(33))
        engine.give_notice("late", "ko", expected)  # the operator copied it (t)
        clock.set(at(40))
        engine.complete("work")
        events = [e for e in store.events(engine.run_id) if e.type == NOTICE]
        assert [(e.actor, e.payload["via"], e.payload["text"]) for e in events] == [
            ("kim", "hooks", expected), ("kim", "copy", expected)]
        assert events[1].at == at(33)
        journal = [e.text for e in entries(engine.state, "Asia/Seoul", at(40))
                   if e.kind == NOTICE]
        assert journal[1] == f"customer notice (ko, LATE) copied: {expected}"

        info = store.resolve(engine.run_id)
        report = build(info, store.events(info.id))
    data = as_json(report)
    assert [(n["at"], n["actor"], n["via"], n["text"]) for n in data["notices"]] == [
        ("2026-11-25T00:31:00+09:00", "kim", "hooks", expected),
        ("2026-11-25T00:33:00+09:00", "kim", "copy", expected)]
    md = render(report, "md")
    assert "## Customer notices" in md and "copied by the operator" in md
    assert "서비스 재개 시각이" in md and "\\<b\\>&" in md  # markup shows as typed
    html = render(report, "html")
    assert "<h2>Customer notices</h2>" in html and "&lt;b&gt;&amp;" in html
    assert "<b>&" not in html


def test_notice_in_the_workbook(tmp_path: Path) -> None:
    pytest.importorskip("openpyxl")
    import io

    import openpyxl

    loaded = runbook()
    with Store(tmp_path / "runs.db") as store:
        clock = ManualClock(START)
        engine = new_run(store, loaded, clock, OPS, samples=500)
        engine.start("work")
        clock.set(at(5))
        engine.give_notice("at_risk", "en", "=HYPERLINK(\"x\") May run past 00:30")
        info = store.resolve(engine.run_id)
        report = build(info, store.events(info.id))
    wb = openpyxl.load_workbook(io.BytesIO(render_bytes(report, "xlsx")))
    ws = wb["Customer notices"]
    texts = [c.value for c in ws["F"] if c.value]
    assert "=HYPERLINK(\"x\") May run past 00:30" in texts  # a string cell, never a formula
    cell = next(c for c in ws["F"] if c.value and c.value.startswith("=HYPERLINK"))
    assert cell.data_type == "s"


def test_hook_arguments_are_replaced_not_shelled() -> None:
    alert = {"level": "late", "message": "m", "notice": {"text": "a; rm -rf / $(x)",
                                                         "lang": "en", "level": "late"}}
    assert alert_argv(["send", "--body={notice}", "{level}"], alert) == [
        "send", "--body=a; rm -rf / $(x)", "late"]
    assert alert_env(alert)["RUNBOOK_NOTICE"] == "a; rm -rf / $(x)"
    assert alert_env({"level": "late"})["RUNBOOK_NOTICE"] == ""


# -- bad templates: the file and the line, exit 2 --------------------------------------------------

BASE = """runbook: 1
title: T
timezone: Asia/Seoul
window: {start: 2026-11-25T00:00, announced_resume: 2026-11-25T00:30}
steps:
  - {id: a, title: A, estimate: 5m}
comms:
  late:
    TEXT
"""


@pytest.mark.parametrize(("text", "words"), [
    ('ko: "재개 시각 {resume_p9}"', "unknown placeholder {resume_p9} in the notice; did you mean "
                                 "{resume_p90}?"),
    ('en: "at {resume_p90:>5}"', "placeholder {resume_p90:>5} takes no format"),
    ('en: "at {resume_p90"', "write a literal brace as {{ or }}"),
    ('en: "x {}"', "an empty placeholder {}"),
    ('KO: "x"', "'KO' is not a language code"),
    ('en: ""', "the notice is empty"),
])
def test_bad_template_names_the_line(tmp_path: Path, capsys, text: str, words: str) -> None:
    path = tmp_path / "rb.yaml"
    path.write_text(BASE.replace("TEXT", text), encoding="utf-8")
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "rb.yaml:9:" in err and words in err, err


def test_unknown_level_suggests_the_nearest(tmp_path: Path, capsys) -> None:
    path = tmp_path / "rb.yaml"
    path.write_text(BASE.replace("  late:\n    TEXT", "  lat:\n    en: x"), encoding="utf-8")
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "rb.yaml:8:3: error: comms: unknown key 'lat'; did you mean 'late'?" in err


def test_literal_braces_are_allowed(tmp_path: Path) -> None:
    path = tmp_path / "rb.yaml"
    path.write_text(BASE.replace("TEXT", 'en: "{{ref}} {resume}"'), encoding="utf-8")
    assert main(["check", str(path), "--samples", "200"]) == 0
