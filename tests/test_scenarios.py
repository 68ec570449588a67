"""Whole scenarios through the real engine on a simulated clock (DESIGN §3)."""

from __future__ import annotations

from datetime import datetime

import pytest
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
    # P(on time) leaves the margin (below 60%, policy 80%) at 00:17 and holds there a minute:
    # 27 minutes before the announced 00:45 (version 1 warned at 00:15, at 79%)
    assert at_risk <= "00:18"
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
    # No AT RISK for the early minutes of a run that is still inside its margin; the first call
    # is to decide, before the rollback deadline and 20+ minutes before the announced 01:20.
    decide = alerts[0]
    assert decide["level"] == "decide_now"
    deadline = next(e["decision_deadline"] for e in data["timeline"] if e["at"] == decide["at"])
    assert decide["at"] < deadline
    assert decide["at"] <= "2026-11-25T01:00:00+09:00"
    assert "Rollback needs" in decide["message"] and "decide by" in decide["message"]
    trigger = next(e for e in data["timeline"] if e.get("event", "").startswith("trigger"))
    before = [e for e in data["timeline"] if e["at"] < trigger["at"]]
    assert before[-1]["level"] == "decide_now"  # past the deadline the rollback still beats waiting
    assert trigger["level"] != "decide_now"  # the trigger is acknowledged on this refresh
    assert data["resumed_at"] < data["announced_resume"]
    assert data["outage_report_required"] is False and data["path"] == "rollback"


def reversals(data) -> list[tuple[str, str, str]]:
    """Level changes that undo the previous one within two minutes (the operator's acts aside)."""
    rank = {"on_track": 0, "at_risk": 1, "decide_now": 2, "late": 3, "resumed": 4}
    acts = [e["at"] for e in data["timeline"] if e.get("event", "").startswith(("trigger",))]
    out, prev = [], None
    last = "on_track"
    for a in data["alerts"]:
        t = datetime.fromisoformat(a["at"])
        d = 1 if rank[a["level"]] > rank[last] else -1
        if prev and d != prev[1] and (t - prev[0]).total_seconds() < 120 and a["at"] not in acts:
            out.append((a["at"], last, a["level"]))
        prev, last = (t, d), a["level"]
    return out


@pytest.mark.parametrize("runbook,events", [
    ("san-port-swap.yaml", "san-port-swap.overrun.events.yaml"),
    ("san-port-swap.yaml", "san-port-swap.ontime.events.yaml"),
    ("san-port-swap.yaml", "san-port-swap.demo.events.yaml"),
    ("db-failover-drill.yaml", "db-failover-drill.events.yaml"),
])
def test_no_level_reverses_within_two_minutes_in_the_example_scenarios(runbook, events):
    data = as_json(simulate(load_runbook(RUNBOOKS / runbook), RUNBOOKS / events, samples=4_000))
    assert reversals(data) == []
    assert all("p80" in e and e["p50"] <= e["p80"] <= e["p90"] for e in data["timeline"])


def test_an_on_time_run_with_a_slow_start_stays_on_track_inside_the_margin(tmp_path):
    # the first two steps take their pessimistic-ish 7m of (4, 5, 8); the rest make up for it
    data = run(CHAIN, sequential(IDS, [7, 7, 4, 4.5, 4.5, 4]), tmp_path)
    assert levels(data) == ["resumed"]
    assert data["resumed_at"] <= "2026-11-25T00:45:00+09:00"


def test_triggering_is_acknowledged_on_the_next_refresh(tmp_path):
    events = sequential(IDS[:2], [9, 9]) + [{"at": "18m", "start": "s2"},
                                            {"at": "30m", "trigger": "rollback"},
                                            {"at": "30m", "start": "rb1"}]
    data = run(CHAIN, events, tmp_path)
    assert "decide_now" in levels(data)
    at_trigger = next(e for e in data["timeline"] if e.get("event") == "trigger rollback")
    assert at_trigger["level"] != "decide_now" and at_trigger["path"] == "rollback"
    assert data["alerts"][-1]["at"] == at_trigger["at"]


def test_same_seed_same_output(tmp_path):
    events = sequential(IDS[:3], [7, 7, 7])
    assert run(CHAIN, events, tmp_path, seed=5) == run(CHAIN, events, tmp_path, seed=5)
