"""Risk levels (DESIGN §3 as revised), the tracker that keeps them from crying wolf, the words."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from runbook.engine.risk import (
    RULES,
    V1,
    LevelTracker,
    do_now,
    fits,
    level_for,
    message,
    still_beats,
)
from runbook.engine.state import RunState
from runbook.forecast.core import Forecast, Option
from runbook.format.model import Level
from tests.conftest import at, make_runbook

PLAN = make_runbook([{"id": "a"}], contingencies=[{"id": "rollback", "title": "RB",
                                                    "steps": [{"id": "r"}]}])
STATE = RunState.initial(PLAN.plan)


def fc(p: float, deadline_min: float | None = 20.0, p_if: float = 0.9, **kw) -> Forecast:
    options = () if deadline_min is None else (
        Option("rollback", 600.0, at(deadline_min), p_if, 480.0),)
    base = dict(at=at(0), path="main", resumed_at=None, p50=at(25), p80=at(28), p90=at(31),
                recommended=at(29), p_on_time=p, p_hard_deadline=None,
                decision_deadline=None if deadline_min is None else at(deadline_min),
                contingency=None if deadline_min is None else "rollback",
                contingency_need_s=600.0, p_on_time_if_triggered=p_if, bias=1.0,
                learned_from=0, options=options)
    return Forecast(**{**base, **kw})


@pytest.mark.parametrize(
    "p,deadline,now,expected",
    [  # a contingency past its deadline here makes 10% if triggered: it beats nothing
        (0.85, 20, 5, Level.on_track),  # P >= confidence
        (0.70, 20, 5, Level.on_track),  # below the confidence, inside the margin (0.8 - 0.2)
        (0.60, 20, 5, Level.on_track),  # exactly the alarm line is on track
        (0.59, 20, 5, Level.at_risk),  # D 15 minutes away, lead 5m
        (0.10, 20, 5, Level.at_risk),  # low P, but the contingency can still make it
        (0.50, None, 5, Level.at_risk),  # no contingency, P >= late_below
        (0.79, 20, 15, Level.decide_now),  # within decision_lead of D: the policy's own line
        (0.79, 20, 20, Level.decide_now),  # at D
        (0.80, 20, 19, Level.on_track),  # at the confidence nothing needs deciding
        (0.19, None, 5, Level.late),  # P < late_below and no contingency
        (0.19, 20, 21, Level.late),  # P < late_below and D passed
        (0.40, 20, 21, Level.at_risk),  # D passed, P low but not hopeless
        (0.90, 20, 31, Level.late),  # past announced_resume with service down: a fact
    ],
)
def test_level_table(p, deadline, now, expected):
    assert level_for(PLAN.plan, STATE, fc(p, deadline, p_if=0.1), at(now)) == expected


@pytest.mark.parametrize("p,expected", [(0.19, Level.decide_now), (0.59, Level.decide_now),
                                        (0.60, Level.on_track)])
def test_past_its_deadline_a_contingency_that_still_beats_the_main_path_keeps_decide_now(
        p, expected):
    # rollback's deadline 00:20 has passed, but triggered now it makes 90%: a decision is due
    assert level_for(PLAN.plan, STATE, fc(p, 20, p_if=0.9), at(21)) == expected
    # once shown, it stays while the main path is below the confidence (no flapping at 60%)
    shown = level_for(PLAN.plan, STATE, fc(0.79, 20, p_if=0.9), at(21), current=Level.decide_now)
    assert shown == Level.decide_now


@pytest.mark.parametrize("p,now,expected", [(0.79, 5, Level.at_risk), (0.49, 21, Level.late),
                                            (0.79, 15, Level.decide_now)])
def test_version_1_rules_are_kept_for_comparison(p, now, expected):
    assert level_for(PLAN.plan, STATE, fc(p), at(now), V1) == expected  # p_if 0.9: no matter


def test_resumed_wins():
    state = replace(STATE, resumed_at=at(25))
    assert level_for(PLAN.plan, state, fc(0.1), at(40)) == Level.resumed


def primed(level: Level = Level.on_track, at_min: float = -0.1) -> LevelTracker:
    """A tracker that has been refreshing (every second in a live run)."""
    t = LevelTracker(level)
    t.update(level, at(at_min), left_s=3600)
    return t


def test_a_worse_level_is_raised_once_it_has_held_a_minute():
    t = primed()
    assert t.update(Level.at_risk, at(0), left_s=1800) is None
    assert t.update(Level.at_risk, at(0.9), left_s=1800) is None  # 54 s: not yet
    assert t.update(Level.at_risk, at(1), left_s=1800) == Level.at_risk


def test_a_dip_shorter_than_the_hold_is_not_announced():
    t = primed()
    assert t.update(Level.at_risk, at(0), left_s=1800) is None
    assert t.update(Level.on_track, at(0.5), left_s=1800) is None
    assert t.update(Level.at_risk, at(0.7), left_s=1800) is None  # the hold starts again
    assert t.update(Level.at_risk, at(1.5), left_s=1800) is None
    assert t.current == Level.on_track


def test_near_the_announced_time_the_hold_shrinks_to_a_quarter_of_the_time_left():
    t = primed()
    assert t.update(Level.at_risk, at(0), left_s=100) is None
    assert t.update(Level.at_risk, at(0.5), left_s=70) == Level.at_risk  # 30 s >= 70 s / 4


def test_facts_are_raised_at_once():
    t = primed()
    assert t.update(Level.late, at(0), at_once=True) == Level.late


def test_decide_now_holds_at_most_a_quarter_of_the_time_left_to_its_deadline():
    plan = PLAN.plan
    t = LevelTracker()
    t.observe(plan, STATE, fc(0.85), at(16.9))
    assert t.observe(plan, STATE, fc(0.79), at(17))[1] is None  # deadline in 3m: hold 45 s
    assert t.observe(plan, STATE, fc(0.79), at(17.5))[1] is None
    assert t.observe(plan, STATE, fc(0.79), at(17.8))[1] == Level.decide_now


def test_a_better_level_holds_a_minute_and_announces_the_worst_seen():
    t = LevelTracker(Level.late)
    assert t.update(Level.on_track, at(0)) is None
    assert t.update(Level.at_risk, at(0.5)) is None
    assert t.update(Level.on_track, at(1)) == Level.at_risk


def test_a_level_that_no_longer_fits_the_numbers_gives_way_at_once():
    plan = PLAN.plan
    assert fits(Level.at_risk, plan, fc(0.84), at(5)) and not fits(Level.at_risk, plan, fc(0.85), at(5))
    assert not fits(Level.decide_now, plan, fc(0.99), at(15))
    # its deadline passing is the clock, not the numbers: DECIDE NOW leaves by the holds
    assert fits(Level.decide_now, plan, fc(0.5, p_if=0.4), at(21))
    assert not fits(Level.late, plan, fc(0.6), at(25)) and fits(Level.late, plan, fc(0.6), at(31))
    t = LevelTracker(Level.at_risk)
    assert t.update(Level.on_track, at(0), shown_fits=False) == Level.on_track


def test_after_a_gap_longer_than_the_hold_a_worse_level_is_raised_at_once():
    assert LevelTracker().update(Level.at_risk, at(0), left_s=1800) == Level.at_risk  # first
    t = primed()
    assert t.update(Level.at_risk, at(16), left_s=1800) == Level.at_risk  # 16 minutes unseen


def test_no_reversal_within_two_minutes_of_a_change():
    t = primed()
    assert t.update(Level.at_risk, at(0), left_s=3600) is None
    assert t.update(Level.at_risk, at(1), left_s=3600) == Level.at_risk
    for s in range(1, 8):  # better for 70 s, but the last change was under 2 minutes ago
        assert t.update(Level.on_track, at(1 + s / 6), left_s=3600) is None
    assert t.update(Level.on_track, at(3), left_s=3600) == Level.on_track  # 2 minutes: settled
    for s in range(3, 12):  # worse from 3:30 on: held a minute at 4:30, but not settled
        assert t.update(Level.at_risk, at(3 + s / 6), left_s=3600) is None
    assert t.update(Level.at_risk, at(5), left_s=3600) == Level.at_risk  # 2 minutes after 3:00


def test_flapping_is_not_announced():
    t = primed(Level.at_risk)
    for i in range(10):  # on_track / at_risk every 30 s: never holds a minute
        raw = Level.on_track if i % 2 == 0 else Level.at_risk
        assert t.update(raw, at(i * 0.5), left_s=3600) is None
    assert t.current == Level.at_risk


def test_an_act_is_acknowledged_at_once_in_either_direction():
    t = LevelTracker()
    assert t.update(Level.decide_now, at(0)) == Level.decide_now
    assert t.acknowledge(Level.on_track) == Level.on_track  # triggered: no minute of DECIDE NOW
    assert t.acknowledge(Level.on_track) is None


def test_observe_acknowledges_a_trigger_on_the_next_refresh():
    plan = PLAN.plan
    t = LevelTracker()
    raw, changed = t.observe(plan, STATE, fc(0.7), at(16))  # the first refresh: nothing to hold
    assert raw == changed == Level.decide_now
    triggered = replace(STATE, path="rollback")
    raw, changed = t.observe(plan, triggered, fc(0.99, None, path="rollback"), at(16.1))
    assert changed == Level.on_track


def test_resumed_is_final():
    t = LevelTracker(Level.late)
    assert t.update(Level.resumed, at(0)) == Level.resumed
    assert t.update(Level.late, at(1)) is None


def test_default_rules_are_the_documented_ones():
    assert (RULES.margin, RULES.late_below, RULES.hold_worse_s, RULES.hold_better_s,
            RULES.dwell_s) == (0.2, 0.2, 60.0, 60.0, 120.0)


# -- words ----------------------------------------------------------------------------------------

def test_messages_carry_numbers_and_the_action():
    plan = PLAN.plan
    text = message(Level.at_risk, plan, STATE, fc(0.42), at(5))
    assert text.startswith("Resume 00:30 at risk: 42% on time, P90 00:31.")
    assert "Rollback needs 10m: decide by 00:20 (in 15m)." in text
    assert text.endswith("Prepare rollback and brief customer service.")  # deadline said once
    text = message(Level.decide_now, plan, STATE, fc(0.42), at(16))
    assert "decide by 00:20 (in 4m)" in text
    assert text.endswith("Trigger rollback or accept the overrun.")  # the deadline said once
    resumed = replace(STATE, resumed_at=at(45))
    text = message(Level.resumed, plan, resumed, replace(fc(1), resumed_at=at(45)), at(45))
    assert text.startswith("Service resumed at 00:45 (15m past the announced 00:30).")
    assert "Outage report to the supervisor required by 2026-11-26 00:40." in text


def test_under_two_minutes_the_time_left_is_in_seconds():
    text = message(Level.decide_now, PLAN.plan, STATE, fc(0.42), at(19) + timedelta(seconds=3))
    assert "(in 57s)" in text and "in 0m" not in text


def test_late_names_the_rounded_up_confidence_quantile_with_its_day():
    plan = PLAN.plan
    text = message(Level.late, plan, STATE, fc(0.1, None, recommended=at(29)), at(25))
    assert "Announce a new resume time: 00:29." in text
    tomorrow = at(24 * 60 + 90)
    text = message(Level.late, plan, STATE, fc(0.1, None, recommended=tomorrow), at(35))
    assert "missed by 5m" in text and "Announce a new resume time: 01:30 +1d." in text


def test_past_the_deadline_a_contingency_that_still_beats_the_main_path_is_named():
    plan = PLAN.plan
    late_fc = fc(0.05, 20, options=(Option("rollback", 600.0, at(20), 0.73, 480.0),),
                 p50=at(50))
    assert still_beats(late_fc, at(22)) is not None
    text = do_now(Level.late, plan, STATE, late_fc, at(22))
    assert text.startswith("Trigger rollback now to resume earlier: 73% on time against 5%")
    assert "announce a new resume time: 00:29" in text
    assert "Trigger rollback now" in message(Level.late, plan, STATE, late_fc, at(22))
    # while the deadline is open the deadline rules apply; no trigger advice
    assert still_beats(late_fc, at(19)) is None
    # a contingency that does no better than staying is not advertised
    worse = replace(late_fc, options=(Option("rollback", 600.0, at(20), 0.05, 3000.0),))
    assert still_beats(worse, at(22)) is None


@pytest.mark.parametrize("level,expected", [
    (Level.on_track, "Carry on."),
    (Level.at_risk, "Prepare rollback (decide by 00:20) and brief customer service."),
    (Level.decide_now, "Trigger rollback by 00:20 (in 10m) or accept the overrun."),
    (Level.late, "Announce a new resume time: 00:29."),
    (Level.resumed, "Finish the remaining checks."),
])
def test_do_now_gives_one_line_per_level(level, expected):
    assert do_now(level, PLAN.plan, STATE, fc(0.5), at(10)) == expected


def test_no_outage_report_within_the_threshold():
    resumed = replace(STATE, resumed_at=at(39))
    text = message(Level.resumed, PLAN.plan, resumed, replace(fc(1), resumed_at=at(39)),
                   at(39) + timedelta(seconds=1))
    assert "Outage report" not in text
