"""Whole scenarios through the real engine on a simulated clock (DESIGN §3)."""

from __future__ import annotations

import yaml

from runbook.engine.simulate import as_json, simulate
from runbook.format.loader import load_runbook
from tests.conftest import RUNBOOKS, make_runbook, three


def run(loaded, events, tmp_path, **kw):
    script = tmp_path / "events.yaml"
    script.write_text(yaml.safe_dump({"events": events}, sort_keys=False))
    return as_json(simulate(loaded, script, samples=4_000, **kw))


def levels(data):
    return [a["level"] for a in data["alerts"]]


def first(data, level):
    return next((a["at"][11:16] for a in data["alerts"] if a["level"] == level), None)


def sequential(ids, minutes):
    """Start each step when the previous completes; ``minutes`` = each step's duration."""
    events, t = [], 0.0
    for sid, d in zip(ids, minutes, strict=True):
        events.append({"at": f"{t}m", "start": sid})
        t += d
        events.append({"at": f"{t}m", "complete": sid})
    return events


CHAIN = make_runbook(
    [{"id": f"s{i}", "estimate": three(4, 5, 8)} for i in range(6)],
    announced="2026-11-25T00:45",
    contingencies=[{"id": "rollback", "title": "Roll back", "steps": [
        {"id": "rb1", "estimate": three(3, 4, 6)}, {"id": "rb2", "estimate": three(2, 3, 5)}]}],
)
IDS = [f"s{i}" for i in range(6)]


def test_an_on_time_run_never_leaves_on_track(tmp_path):
    data = run(CHAIN, sequential(IDS, [5, 5, 4.5, 5, 5, 4.5]), tmp_path)
    assert levels(data) == ["resumed"]
    assert {e["level"] for e in data["timeline"]} <= {"on_track", "resumed"}
    assert data["resumed_at"] == "2026-11-25T00:29:00+09:00"
    assert data["finished_at"] == data["resumed_at"]  # default: when the last step completes


def test_an_overrun_on_the_critical_path_warns_early_then_decide_now_then_late(tmp_path):
    events = sequential(IDS[:2], [9, 9]) + [{"at": "18m", "start": "s2"}]
    events += [{"at": "60m", "complete": "s2"}]
    data = run(CHAIN, events, tmp_path)
    assert levels(data)[:3] == ["at_risk", "decide_now", "late"]
    at_risk, decide = first(data, "at_risk"), first(data, "decide_now")
    assert at_risk <= "00:15"  # long before the announced 00:45
    deadline = next(e for e in data["timeline"] if e["level"] == "decide_now")["decision_deadline"]
    assert decide < deadline[11:16]  # raised before the rollback deadline, in time to act
    late = next(e for e in data["timeline"] if e["level"] == "late")
    assert late["at"] > deadline


def test_an_overrun_on_a_branch_with_slack_raises_no_alarm(tmp_path):
    loaded = make_runbook([
        {"id": "main1", "estimate": three(8, 10, 12)},
        {"id": "main2", "estimate": three(8, 10, 12)},
        {"id": "side", "after": [], "estimate": three(2, 3, 5)},
        {"id": "join", "after": ["main2", "side"], "estimate": three(1, 2, 3)},
    ], announced="2026-11-25T00:35")
    events = [{"at": "0m", "start": "main1"}, {"at": "0m", "start": "side"},
              {"at": "10m", "complete": "main1"}, {"at": "10m", "start": "main2"},
              {"at": "15m", "complete": "side"},  # 3x its likely estimate, still within slack
              {"at": "20m", "complete": "main2"}, {"at": "20m", "start": "join"},
              {"at": "22m", "complete": "join"}]
    data = run(loaded, events, tmp_path)
    assert levels(data) == ["resumed"]


def test_triggering_the_contingency_after_at_risk_follows_its_path_and_recovers(tmp_path):
    events = sequential(IDS[:2], [9, 9]) + [
        {"at": "18m", "start": "s2"},
        {"at": "20m", "trigger": "rollback"},
        {"at": "20m", "start": "rb1"}, {"at": "24m", "complete": "rb1"},
        {"at": "24m", "start": "rb2"}, {"at": "27m", "complete": "rb2"},
    ]
    data = run(CHAIN, events, tmp_path)
    assert levels(data)[0] == "at_risk"
    after = [e for e in data["timeline"] if e["at"] >= "2026-11-25T00:20:00+09:00"]
    assert all(e["path"] == "rollback" for e in after)
    assert "on_track" in levels(data)[1:]  # recovers: the rollback fits
    assert levels(data)[-1] == "resumed"
    assert data["resumed_at"] == "2026-11-25T00:27:00+09:00"
    statuses = {s["id"]: s["status"] for s in data["steps"]}
    assert statuses["s2"] == "abandoned" and statuses["s5"] == "abandoned"


def test_after_service_resumes_the_remaining_checks_are_still_tracked(tmp_path):
    loaded = make_runbook([
        {"id": "work", "estimate": three(4, 5, 8)},
        {"id": "reopen", "estimate": "1m", "resumes_service": True},
        {"id": "verify-batch", "estimate": three(5, 10, 20)},
    ], announced="2026-11-25T00:20")
    events = sequential(["work", "reopen"], [5, 1]) + [{"at": "6m", "start": "verify-batch"}]
    data = run(loaded, events, tmp_path)
    assert levels(data) == ["resumed"] and data["resumed_at"] == "2026-11-25T00:06:00+09:00"
    assert data["finished_at"] is None
    assert {s["id"]: s["status"] for s in data["steps"]}["verify-batch"] == "running"
    assert data["timeline"][-1]["level"] == "resumed"


def test_the_story_night_warns_while_the_rollback_still_fits(tmp_path):
    loaded = load_runbook(RUNBOOKS / "san-port-swap.yaml")
    data = as_json(simulate(loaded, RUNBOOKS / "san-port-swap.overrun.events.yaml"))
    alerts = data["alerts"]
    assert [a["level"] for a in alerts][:2] == ["at_risk", "decide_now"]
    trigger = next(e for e in data["timeline"] if e.get("event", "").startswith("trigger"))
    decide = alerts[1]
    deadline = next(e["decision_deadline"] for e in data["timeline"] if e["at"] == decide["at"])
    assert alerts[0]["at"] < decide["at"] < trigger["at"] < deadline
    assert "Rollback needs" in alerts[0]["message"] and "decide by" in alerts[0]["message"]
    assert data["resumed_at"] < data["announced_resume"]
    assert data["outage_report_required"] is False and data["path"] == "rollback"


def test_same_seed_same_output(tmp_path):
    events = sequential(IDS[:3], [7, 7, 7])
    assert run(CHAIN, events, tmp_path, seed=5) == run(CHAIN, events, tmp_path, seed=5)
