"""The run engine: one code path for actions, refusals that record nothing, alerts as events."""

from __future__ import annotations

from datetime import timedelta

import pytest

from runbook.engine.clock import ManualClock
from runbook.engine.run import ActionRefused, Actor, Engine, Session, new_run, open_run
from runbook.engine.state import (
    ABANDONED,
    ALERT,
    COMPLETED,
    FAILED,
    PENDING,
    READY,
    RUNNING,
    SKIPPED,
)
from runbook.store import Store
from tests.conftest import START, at, make_runbook, three

OPS = Actor("kim", "ops-host")


def runbook():
    return make_runbook(
        [
            {"id": "stop", "estimate": three(3, 5, 8)},
            {"id": "swap", "estimate": three(5, 8, 15)},
            {"id": "notify", "after": [], "estimate": "2m"},
            {"id": "start", "after": ["swap", "notify"], "estimate": three(3, 5, 9),
             "resumes_service": True},
            {"id": "verify", "estimate": "5m"},
        ],
        announced="2026-11-25T00:40",
        contingencies=[{"id": "rollback", "title": "Roll back", "steps": [
            {"id": "rb-restore", "estimate": three(5, 7, 10)},
            {"id": "rb-start", "estimate": three(3, 5, 9)}]}],
    )


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "runs.db") as s:
        yield s


@pytest.fixture
def engine(store):
    return new_run(store, runbook(), ManualClock(START), OPS, samples=2_000)


def stored(store, engine):
    return [(e.type, e.step) for e in store.events(engine.run_id)]


def test_a_new_run_records_who_and_the_runbook_as_loaded(store, engine):
    info = store.run(engine.run_id)
    assert info.source_text == runbook().text and info.label == "live"
    (ev,) = store.events(engine.run_id)
    assert (ev.type, ev.actor, ev.host) == ("run_started", "kim", "ops-host")
    assert engine.state.status("stop") == READY and engine.state.status("notify") == READY
    assert engine.state.status("swap") == PENDING


def test_actions_fold_into_state_with_their_times(store, engine):
    clock = engine.clock
    engine.start("stop")
    clock.advance(300)
    engine.complete("stop")
    s = engine.state.steps["stop"]
    assert s.status == COMPLETED and s.actual_s == 300 and s.finished_by == "kim"
    assert engine.state.status("swap") == READY
    assert stored(store, engine)[1:] == [("step_started", "stop"), ("step_completed", "stop")]


@pytest.mark.parametrize(
    "action,arg,reason",
    [
        ("complete", "stop", "stop is ready, not running; start it first"),
        ("start", "swap", "swap waits for stop"),
        ("start", "rb-start", "belongs to contingency 'rollback', which is not running"),
        ("start", "nope", "unknown step 'nope'"),
        ("trigger", "nope", "unknown contingency 'nope' (known: rollback)"),
    ],
)
def test_actions_that_do_not_fit_are_refused_and_nothing_is_recorded(store, engine, action, arg,
                                                                      reason):
    before = store.last_seq(engine.run_id)
    with pytest.raises(ActionRefused, match=reason.replace("(", r"\(").replace(")", r"\)")):
        getattr(engine, action)(arg)
    assert store.last_seq(engine.run_id) == before


def test_a_failed_step_can_be_retried_and_its_time_counts(engine):
    engine.start("stop")
    engine.clock.advance(120)
    engine.fail("stop", note="WAS node hung")
    assert engine.state.status("stop") == FAILED
    assert engine.state.steps["stop"].notes[0].text == "WAS node hung"
    engine.clock.advance(60)
    engine.start("stop")
    engine.clock.advance(180)
    engine.complete("stop")
    s = engine.state.steps["stop"]
    assert s.attempts == 2 and s.failures == 1 and s.actual_s == 360


def test_skip_unblocks_what_waits_for_it(engine):
    engine.skip("notify", reason="channels already closed")
    assert engine.state.status("notify") == SKIPPED
    with pytest.raises(ActionRefused, match="already skipped"):
        engine.skip("notify")


def test_trigger_abandons_the_remaining_main_steps_and_runs_the_contingency(engine):
    engine.start("stop")
    engine.clock.advance(300)
    engine.complete("stop")
    engine.start("swap")
    engine.clock.advance(600)
    engine.trigger("rollback", note="new SFP dead")
    st = engine.state
    assert st.path == "rollback" and st.triggered_at == at(15) and st.triggered_by == "kim"
    assert st.status("stop") == COMPLETED
    assert st.status("swap") == ABANDONED and st.steps["swap"].finished_at == at(15)
    assert st.status("start") == ABANDONED and st.status("verify") == ABANDONED
    assert st.status("rb-restore") == READY
    with pytest.raises(ActionRefused, match="already running"):
        engine.trigger("rollback")
    with pytest.raises(ActionRefused, match="abandoned"):
        engine.start("notify")


def test_the_run_finishes_when_the_last_step_completes_and_then_refuses_actions(store, engine):
    for step in ("stop", "notify", "swap", "start", "verify"):
        assert not engine.state.finished
        engine.start(step)
        engine.clock.advance(60)
        engine.complete(step)
    assert engine.state.resumed_at is not None and engine.state.finished
    assert stored(store, engine)[-1] == ("run_finished", None)
    with pytest.raises(ActionRefused, match="finished"):
        engine.note("late note")


def test_two_operators_cannot_both_complete_the_same_step(store, engine):
    other = Engine(store, store.run(engine.run_id), engine.clock, Actor("lee", "laptop"))
    engine.start("stop")
    engine.clock.advance(60)
    other.complete("stop")  # lee sees kim's start inside the write transaction
    with pytest.raises(ActionRefused, match="^stop was completed by lee just now; nothing recorded$"):
        engine.complete("stop")  # not "start it first": kim's screen still showed it running
    assert [e.type for e in store.events(engine.run_id)].count("step_completed") == 1
    assert engine.state.steps["stop"].finished_by == "lee"


def test_open_run_resumes_the_unfinished_run(store, engine):
    engine.start("stop")
    again, resumed = open_run(store, runbook(), ManualClock(at(3)), Actor("lee", "laptop"))
    assert resumed and again.run_id == engine.run_id
    assert again.state.status("stop") == RUNNING and again.state.operators == ["kim", "lee"]


def test_the_clock_going_backwards_never_makes_a_negative_duration(engine):
    engine.clock.set(at(10))
    engine.start("stop")
    engine.clock.set(at(4))  # NTP stepped the clock back six minutes
    engine.complete("stop")
    assert engine.state.steps["stop"].actual_s == 0


def test_alerts_are_recorded_once_as_events(store, engine):
    engine.start("stop")
    engine.clock.advance(25 * 60)  # a 5-minute step running for 25 minutes
    tick = engine.tick()
    assert tick.alert is not None and tick.level != "on_track"
    assert tick.alert["message"].startswith("Resume 00:40")
    assert engine.tick().alert is None  # no change, no new alert
    alerts = [e for e in store.events(engine.run_id) if e.type == ALERT]
    assert len(alerts) == 1 and alerts[0].payload["level"] == tick.level


def test_a_watcher_session_follows_but_cannot_record(store, engine, tmp_path):
    with Store(store.path, readonly=True) as ro:
        watcher = Session(ro, ro.run(engine.run_id), engine.clock)
        engine.start("stop")
        assert [e.step for e in watcher.sync()] == ["stop"]
        assert watcher.state.status("stop") == RUNNING
        assert not hasattr(watcher, "start")


def test_time_since_start_is_measured_from_event_instants(engine):
    engine.clock.set(START + timedelta(seconds=5))
    engine.start("notify")
    engine.clock.set(START + timedelta(seconds=125))
    engine.complete("notify")
    assert engine.state.steps["notify"].actual_s == 120


def test_a_full_disk_refuses_the_action_and_the_state_does_not_pretend(tmp_path):
    from runbook.store import StoreError

    path = tmp_path / "full.db"
    with Store(path) as s:
        engine = new_run(s, runbook(), ManualClock(START), OPS, samples=500)
        run_id = engine.run_id
    with Store(path, _max_pages=1) as full:  # nothing more fits in the file
        engine = Engine(full, full.run(run_id), ManualClock(at(1)), OPS)
        with pytest.raises(StoreError, match="full"):
            engine.note("x" * 100_000)
        assert engine.state.notes == [] and engine.state.last_seq == 1
    with Store(path, readonly=True) as s:
        assert [e.type for e in s.events(run_id)] == ["run_started"]


# -- undo, abort, failures ------------------------------------------------------------------


def test_undo_reverts_a_mis_pressed_completion_and_nothing_is_deleted(store, engine):
    engine.start("stop")
    engine.clock.advance(60)
    done = engine.complete("stop")
    assert engine.state.steps["swap"].status == READY
    engine.clock.advance(5)
    undo = engine.undo()
    assert undo.type == "action_undone" and undo.payload["undoes"] == [done.seq]
    assert undo.payload["what"] == "complete stop" and undo.step == "stop"
    assert engine.state.steps["stop"].status == RUNNING  # as before the mis-press
    assert engine.state.steps["swap"].status == "pending"
    assert done.seq in engine.state.undone
    assert stored(store, engine)[-2:] == [("step_completed", "stop"), ("action_undone", "stop")]
    # a fresh fold (a restart, a watcher, a report) reads the same
    again = Session(store, store.run(engine.run_id), engine.clock)
    assert again.state.steps["stop"].status == RUNNING and done.seq in again.state.undone


def test_one_undo_reverts_what_one_key_press_recorded(store, engine):
    engine.start("stop")
    engine.clock.advance(60)
    first = engine.complete("stop")
    engine.start("swap", chain=first.seq)  # space: complete one, start the next
    undo = engine.undo()
    assert len(undo.payload["undoes"]) == 2
    assert engine.state.steps["stop"].status == RUNNING
    assert engine.state.steps["swap"].status == "pending"


def test_undo_of_the_last_completion_reopens_the_finished_run(store, engine):
    for step in ("stop", "notify", "swap", "start", "verify"):
        engine.start(step)
        engine.clock.advance(60)
        engine.complete(step)
    assert engine.state.finished and engine.state.resumed
    engine.undo()
    assert not engine.state.finished and engine.state.steps["verify"].status == RUNNING
    assert engine.state.resumed  # start was not undone
    engine.complete("verify")
    assert engine.state.finished


@pytest.mark.parametrize("case, match", [
    ("nothing", "nothing to undo"),
    ("late", "undo works for 60s"),
    ("other", "was lee's; only lee can undo it"),
    ("trigger", "cannot be undone"),
])
def test_undo_refuses_and_records_nothing(store, engine, case, match):
    if case == "late":
        engine.start("stop")
        engine.clock.advance(61)
    elif case == "other":
        Engine(store, store.run(engine.run_id), engine.clock, Actor("lee", "laptop")).start("stop")
    elif case == "trigger":
        engine.trigger("rollback")
    before = stored(store, engine)
    with pytest.raises(ActionRefused, match=match):
        engine.undo()
    assert stored(store, engine) == before


def test_an_undone_action_stays_undone_and_the_one_before_can_be_undone_next(store, engine):
    engine.start("stop")
    engine.note("first", "stop")
    engine.note("second", "stop")
    engine.undo()
    assert [n.text for n in engine.state.notes] == ["first"]
    engine.undo()
    assert engine.state.notes == []
    assert engine.state.steps["stop"].status == RUNNING  # the start stays: two undos, two notes


def test_abort_ends_the_run_with_its_reason_and_cannot_be_undone(store, engine):
    engine.start("stop")
    engine.abort("NO-GO: storage vendor not on the bridge")
    state = engine.state
    assert state.finished and state.aborted
    assert state.abort_reason == "NO-GO: storage vendor not on the bridge"
    assert state.steps["stop"].status == ABANDONED
    with pytest.raises(ActionRefused, match="aborted"):
        engine.undo()
    with pytest.raises(ActionRefused, match="the run was aborted"):
        engine.note("after")


def test_a_failed_step_keeps_its_reason_and_its_time_stops(store, engine):
    engine.start("stop")
    engine.clock.advance(120)
    engine.fail("stop", "multipath sees no LUN")
    st = engine.state.steps["stop"]
    assert st.status == FAILED and st.notes[-1].text == "multipath sees no LUN"
    assert st.elapsed_s(engine.clock.now() + timedelta(minutes=10)) == 120
    engine.clock.advance(60)
    engine.start("stop")  # retry: the time runs again from the first start
    assert engine.state.steps["stop"].elapsed_s(engine.clock.now()) == 180
