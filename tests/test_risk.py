"""Risk levels per DESIGN §3 and the no-flapping rule."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from runbook.engine.risk import LevelTracker, level_for, message
from runbook.engine.state import RunState
from runbook.forecast.core import Forecast
from runbook.format.model import Level
from tests.conftest import at, make_runbook

PLAN = make_runbook([{"id": "a"}], contingencies=[{"id": "rollback", "title": "RB",
                                                    "steps": [{"id": "r"}]}])


def fc(p: float, deadline_min: float | None = 20.0, **kw) -> Forecast:
    return Forecast(at=at(0), path="main", resumed_at=None, p50=at(25), p80=at(28), p90=at(31),
                    recommended=at(28), p_on_time=p, p_hard_deadline=None,
                    decision_deadline=None if deadline_min is None else at(deadline_min),
                    contingency=None if deadline_min is None else "rollback",
                    contingency_need_s=600.0, p_on_time_if_triggered=0.9, bias=1.0,
                    learned_from=0, **kw)


STATE = RunState.initial(PLAN.plan)


@pytest.mark.parametrize(
    "p,deadline,now,expected",
    [
        (0.85, 20, 5, Level.on_track),  # P >= confidence
        (0.80, 20, 5, Level.on_track),  # exactly the confidence is on track
        (0.70, 20, 5, Level.at_risk),  # D 15 minutes away, lead 5m
        (0.30, 20, 5, Level.at_risk),  # low P, but the contingency can still make it
        (0.70, None, 5, Level.at_risk),  # no contingency, P >= 0.5
        (0.70, 20, 15, Level.decide_now),  # exactly decision_lead before D
        (0.70, 20, 19, Level.decide_now),
        (0.70, 20, 20, Level.decide_now),  # at D
        (0.40, None, 5, Level.late),  # P < 0.5 and no contingency
        (0.40, 20, 21, Level.late),  # P < 0.5 and D passed
        (0.60, 20, 21, Level.at_risk),  # D passed but P >= 0.5
        (0.90, 20, 31, Level.late),  # past announced_resume with service down
    ],
)
def test_level_table(p, deadline, now, expected):
    assert level_for(PLAN.plan, STATE, fc(p, deadline), at(now)) == expected


def test_resumed_wins():
    state = replace(STATE, resumed_at=at(25))
    assert level_for(PLAN.plan, state, fc(0.1), at(40)) == Level.resumed


def test_worse_levels_at_once_better_after_holding_a_minute():
    t = LevelTracker()
    assert t.update(Level.at_risk, at(0)) == Level.at_risk
    assert t.update(Level.late, at(0.1)) == Level.late
    assert t.update(Level.on_track, at(1)) is None
    assert t.update(Level.on_track, at(1.9)) is None  # 54s: not yet
    assert t.update(Level.on_track, at(2)) == Level.on_track
    assert t.current == Level.on_track


def test_flapping_is_not_announced():
    t = LevelTracker(Level.at_risk)
    for i in range(10):  # on_track / at_risk every 30 s: never holds a minute
        raw = Level.on_track if i % 2 == 0 else Level.at_risk
        assert t.update(raw, at(i * 0.5)) is None
    assert t.current == Level.at_risk


def test_improvement_announces_the_worst_level_seen_while_holding():
    t = LevelTracker(Level.late)
    assert t.update(Level.on_track, at(0)) is None
    assert t.update(Level.at_risk, at(0.5)) is None
    assert t.update(Level.on_track, at(1)) == Level.at_risk


def test_resumed_is_final():
    t = LevelTracker(Level.late)
    assert t.update(Level.resumed, at(0)) == Level.resumed
    assert t.update(Level.late, at(1)) is None


def test_messages_carry_numbers_and_the_action():
    plan = PLAN.plan
    text = message(Level.at_risk, plan, STATE, fc(0.42), at(5))
    assert text.startswith("Resume 00:30 at risk: 42% on time, P90 00:31.")
    assert "Rollback needs 10m: decide by 00:20 (in 15m)." in text
    assert "Prepare the contingency and brief customer service." in text
    text = message(Level.decide_now, plan, STATE, fc(0.42), at(16))
    assert "decide by 00:20 (in 4m)" in text and "Trigger rollback or accept the overrun" in text
    text = message(Level.late, plan, STATE, fc(0.2, None), at(35))
    assert "missed by 5m" in text and "Announce a new resume time: 00:31" in text
    resumed = replace(STATE, resumed_at=at(45))
    text = message(Level.resumed, plan, resumed, replace(fc(1), resumed_at=at(45)), at(45))
    assert text.startswith("Service resumed at 00:45 (15m past the announced 00:30).")
    assert "Outage report to the supervisor required by 2026-11-26 00:40." in text


def test_no_outage_report_within_the_threshold():
    resumed = replace(STATE, resumed_at=at(39))
    text = message(Level.resumed, PLAN.plan, resumed, replace(fc(1), resumed_at=at(39)),
                   at(39) + timedelta(seconds=1))
    assert "Outage report" not in text
