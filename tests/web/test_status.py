"""The /status.json object and the page built from it: contents, contract, escaping. Pure."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import datetime, timedelta

import pytest

from runbook.engine.clock import ManualClock
from runbook.engine.run import Actor, new_run
from runbook.store import Store
from runbook.web.page import render, view
from runbook.web.status import announce_resume, status
from tests.conftest import START, make_runbook, three

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+09:00$")
SECRETS = ("secret-cmd-7f3a", "secret-check-55aa", "secret-note-91c2", "secret-plan-note",
           "kim", "ops-host")


def runbook(title: str = "Swap the port"):
    return make_runbook(
        [{"id": "prep", "title": "Prepare", "estimate": three(2, 3, 6),
          "command": "run secret-cmd-7f3a", "check": "secret-check-55aa",
          "notes": "secret-plan-note"},
         {"id": "swap", "title": "Swap the cable", "estimate": three(5, 8, 15)},
         {"id": "start-db", "title": "Start the DB", "estimate": three(3, 5, 9),
          "resumes_service": True},
         {"id": "verify", "title": "Verify", "estimate": "5m"}],
        announced="2026-11-25T00:40", title=title,
        contingencies=[{"id": "rollback", "title": "Roll back to the old port", "steps": [
            {"id": "rb-restore", "estimate": three(4, 6, 10)},
            {"id": "rb-start", "estimate": "5m", "resumes_service": True}]}])


@pytest.fixture
def engine(tmp_path):
    clock = ManualClock(START)
    store = Store(tmp_path / "runs.db")
    eng = new_run(store, runbook(), clock, Actor("kim", "ops-host"), samples=2_000)
    yield eng
    store.close()


def snapshot(engine):
    return status(engine, engine.tick())


def test_announce_rounds_the_confidence_quantile_up_to_the_minute(engine):
    fc = engine.tick().forecast
    exact = datetime(2026, 11, 24, 15, 52, tzinfo=START.tzinfo)
    assert announce_resume(dataclasses.replace(fc, recommended=exact)) == exact
    for late in (timedelta(microseconds=1), timedelta(seconds=1), timedelta(seconds=59.9)):
        assert announce_resume(dataclasses.replace(fc, recommended=exact + late)) == \
            exact + timedelta(minutes=1)


def test_tell_customers_is_the_rounded_quantile_with_its_confidence(engine):
    st = snapshot(engine)
    fc = engine.tick().forecast
    tell = st["tell_customers"]
    assert ISO.match(tell["resume"])
    when = datetime.fromisoformat(tell["resume"])
    assert when >= fc.recommended and when - fc.recommended < timedelta(minutes=1)
    assert when.second == 0 and tell["confidence"] == 0.8
    assert tell["keep_announced"] == (when <= engine.plan.announced)


def test_the_announced_time_no_longer_holds_when_the_work_runs_long(engine):
    engine.start("prep")
    engine.clock.advance(25 * 60)  # prep planned 3m likely, 6m at worst
    st = snapshot(engine)
    assert st["level"] in ("at_risk", "decide_now", "late")
    assert st["tell_customers"]["keep_announced"] is False
    v = view(st)
    assert v["tell-note"].startswith("The announced 00:40 is no longer likely")
    assert f"announce {v['tell-time']} instead" in v["tell-note"]


def test_progress_counts_the_steps_that_count_now(engine):
    assert snapshot(engine)["progress"] == {"done": 0, "total": 4, "path": "main", "running": []}
    engine.start("prep")
    engine.clock.advance(120)
    engine.complete("prep")
    engine.start("swap")
    st = snapshot(engine)
    assert st["progress"] == {"done": 1, "total": 4, "path": "main", "running": ["Swap the cable"]}
    assert view(st)["progress"] == "1/4 steps"
    assert [c["id"] for c in st["contingencies"]] == ["rollback"]
    option = st["contingencies"][0]
    assert option["title"] == "Roll back to the old port" and isinstance(option["need_s"], int)
    engine.trigger("rollback")  # swap, start-db and verify are abandoned: prep + 2 rollback steps
    st = snapshot(engine)
    assert st["progress"] == {"done": 1, "total": 3, "path": "rollback", "running": []}
    assert st["contingencies"] == []
    assert st["contingency_running"]["id"] == "rollback"
    assert st["decision_deadline"] is None


def test_the_contract_keys_types_and_times(engine):
    engine.start("prep")
    st = json.loads(json.dumps(snapshot(engine)))  # what /status.json carries
    for key in ("generated_at", "window_start", "announced_resume", "p50", "p90",
                "recommended_resume", "decision_deadline"):
        assert ISO.match(st[key]), (key, st[key])
    assert st["run"]["started_at"] and ISO.match(st["run"]["started_at"])
    assert st["version"] == 1 and st["seq"] == 2
    assert st["level"] == "on_track" and st["level_word"] == "ON TRACK"
    assert 0 <= st["p_on_time"] <= 1 and isinstance(st["confidence"], float)
    assert isinstance(st["contingency_need_s"], int)
    assert st["store"] == {"reachable": True, "unreachable_since": None}
    assert st["resumed_at"] is None and st["hard_deadline"] is None


def test_no_command_check_note_or_operator_reaches_json_or_page(engine):
    engine.start("prep")
    engine.note("secret-note-91c2", step="prep")
    engine.complete("prep", note="secret-note-91c2")
    st = snapshot(engine)
    page = render(st)
    for secret in SECRETS:
        assert secret not in json.dumps(st) and secret not in page, secret


def test_runbook_text_is_escaped_on_the_page(tmp_path):
    hostile = runbook(title='<script>alert("x")</script> & <img src=x onerror=alert(1)>')
    with Store(tmp_path / "runs.db") as store:
        eng = new_run(store, hostile, ManualClock(START), Actor("kim", "h"), samples=1_000)
        page = render(status(eng, eng.tick()))
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img" in page
    assert page.count("<script") == 1  # only the page's own script file
    assert 'src="/static/status.js"' in page


def test_service_back_reads_as_such(engine):
    for step in ("prep", "swap", "start-db"):
        engine.start(step)
        engine.clock.advance(300)
        engine.complete(step)
    st = snapshot(engine)
    assert st["level"] == "resumed" and st["resumed_at"] == "2026-11-25T00:15:00+09:00"
    assert st["tell_customers"] == {"resume": "2026-11-25T00:15:00+09:00", "confidence": 1.0,
                                    "keep_announced": True, "service_back": True}
    v = view(st)
    assert v["tell-note"] == "Service resumed at 00:15, 25m before the announced 00:40."
    assert v["deadline"] == "none: service is back"
