"""The fold and the forecast applied event by event equal the same done from scratch.

Issue #11 makes the per-event work proportional to what the event touched: the fold refreshes
only the successors of the steps an event changed and keeps indexes of the statuses, the
forecaster updates its caches from the steps that changed. These property tests feed arbitrary
event sequences (valid or not: a log is folded as it is, whatever wrote it), including undo,
skip, trigger, abort and finish, one event or a few at a time, and compare with a fold of the
whole log at once, with what the rules say each status must be, and with a fresh forecaster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from unittest.mock import patch

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from runbook.engine import replay
from runbook.engine.state import (
    ALERT,
    CONTINGENCY_TRIGGERED,
    DONE,
    NOTE,
    PENDING,
    READY,
    RUN_ABORTED,
    RUN_FINISHED,
    RUN_STARTED,
    STEP_COMPLETED,
    STEP_FAILED,
    STEP_SKIPPED,
    STEP_STARTED,
    UNDONE,
    RunState,
    fold,
)
from runbook.forecast.core import Forecaster
from tests.conftest import START, make_runbook, three

STATUSES = ("pending", "ready", "running", "completed", "failed", "skipped", "abandoned")


@dataclass
class Ev:
    seq: int
    at: datetime
    type: str
    step: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    actor: str = "kim"
    host: str = "ops"


def plan():
    return make_runbook(
        [
            {"id": "a", "estimate": three(3, 5, 8)},
            {"id": "b", "estimate": three(5, 8, 15)},
            {"id": "c", "after": [], "estimate": "2m"},
            {"id": "d", "after": ["b", "c"], "estimate": three(3, 5, 9)},
            {"id": "e", "after": ["a"], "estimate": "4m"},
            {"id": "f", "after": ["d", "e"], "estimate": three(1, 2, 6), "resumes_service": True},
            {"id": "g", "estimate": "5m"},
        ],
        announced="2026-11-25T00:40",
        contingencies=[{"id": "rollback", "title": "Roll back", "steps": [
            {"id": "r1", "estimate": three(5, 7, 10)},
            {"id": "r2", "after": [], "estimate": "3m"},
            {"id": "r3", "after": ["r1", "r2"], "estimate": three(3, 5, 9)}]}],
    )


PLAN = plan()
STEP_IDS = [s.id for s in PLAN.plan.steps]
STEP_TYPES = (STEP_STARTED, STEP_COMPLETED, STEP_FAILED, STEP_SKIPPED)


@st.composite
def logs(draw) -> list[Ev]:
    """A log: mostly step events on known steps, some notes, alerts, undos, a trigger, an end."""
    n = draw(st.integers(1, 40))
    out: list[Ev] = [Ev(1, START, RUN_STARTED, payload={"operator": "kim"})]
    t = START
    for _ in range(n):
        t += timedelta(seconds=draw(st.integers(0, 400)))
        seq = len(out) + 1
        kind = draw(st.sampled_from(
            [*STEP_TYPES * 4, STEP_STARTED, STEP_COMPLETED, NOTE, ALERT, UNDONE, UNDONE,
             CONTINGENCY_TRIGGERED, RUN_FINISHED, RUN_ABORTED]))
        if kind in STEP_TYPES:
            out.append(Ev(seq, t, kind, draw(st.sampled_from([*STEP_IDS, "nope"]))))
        elif kind == NOTE:
            out.append(Ev(seq, t, NOTE, draw(st.sampled_from([None, *STEP_IDS])),
                          {"text": "a note"}))
        elif kind == ALERT:
            out.append(Ev(seq, t, ALERT, payload={"level": "at_risk", "message": "m"}))
        elif kind == UNDONE:  # mostly the last few events; now and then any, or one to come
            named = draw(st.lists(st.integers(max(1, seq - 4), seq - 1) | st.integers(1, seq + 3),
                                  min_size=1, max_size=3))
            out.append(Ev(seq, t, UNDONE, payload={"undoes": named}))
        elif kind == CONTINGENCY_TRIGGERED:
            out.append(Ev(seq, t, kind, payload={"contingency": "rollback"}))
        elif kind == RUN_ABORTED:
            out.append(Ev(seq, t, kind, payload={"reason": "no go"}))
        else:
            out.append(Ev(seq, t, kind))
    return out


def ready_by_the_rules(state: RunState) -> dict[str, str]:
    """What pending/ready must be, from the definition (not from any index)."""
    want = {}
    for s in state.plan.steps:
        cur = state.steps[s.id].status
        if cur in (PENDING, READY):
            ok = (not state.finished and s.path == state.path
                  and all(state.steps[state.plan.steps[p].id].status in DONE for p in s.preds))
            want[s.id] = READY if ok else PENDING
    return want


def same_state(got: RunState, want: RunState) -> None:
    assert got.steps == want.steps
    for name in ("path", "started_at", "triggered_at", "triggered_by", "resumed_at",
                 "finished_at", "aborted", "abort_reason", "operators", "alerts", "notes",
                 "last_seq", "last_at", "undone"):
        assert getattr(got, name) == getattr(want, name), name
    assert [e.seq for e in got.log] == [e.seq for e in want.log]
    for status in STATUSES:
        scan = [s.id for s in got.plan.steps if got.steps[s.id].status == status]
        assert got.ids(status) == scan, status
        for path in got.plan.paths:
            assert got.ids(status, path=path) == [
                i for i in scan if got.plan.by_id[i].path == path]
    assert got.ids(*STATUSES) == STEP_IDS
    active = [got.plan.steps[i].id for i in got.plan.paths[got.path]]
    assert got.active_ids() == active
    assert got.all_done() == all(got.steps[i].status in DONE for i in active)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(log=logs(), cuts=st.lists(st.integers(0, 41), max_size=8))
@example(log=[Ev(1, START, RUN_STARTED), Ev(2, START, STEP_STARTED, "d"),
              Ev(3, START, STEP_COMPLETED, "f")], cuts=[])  # g waits for f, f follows d
@example(log=[Ev(1, START, RUN_STARTED), Ev(2, START, STEP_STARTED, "a"),
              Ev(3, START, UNDONE, payload={"undoes": [4]}),  # named before it comes ...
              Ev(4, START, STEP_COMPLETED, "a"),  # ... so applied, though undone
              Ev(5, START, NOTE, payload={"text": "x"}), Ev(6, START, NOTE, payload={"text": "y"}),
              Ev(7, START, STEP_STARTED, "c"), Ev(8, START, UNDONE, payload={"undoes": [7]})],
         cuts=[1, 2, 3, 4, 5, 6, 7])  # a snapshot after 6 events must not serve the last undo
def test_folding_event_by_event_equals_folding_the_whole_log(log, cuts):
    with patch.object(replay, "SNAPSHOT_EVERY", 3):  # undo replays from snapshots, often
        state = fold(PLAN.plan, [])
        bounds = sorted({0, len(log), *(c for c in cuts if c < len(log))})
        for lo, hi in zip(bounds, bounds[1:], strict=False):
            fold(PLAN.plan, log[lo:hi], state)  # a few events at a time, as sync() folds them
            assert {s: state.steps[s].status for s in ready_by_the_rules(state)} == \
                ready_by_the_rules(state)
    whole = fold(PLAN.plan, log)
    assert {s: whole.steps[s].status for s in ready_by_the_rules(whole)} == \
        ready_by_the_rules(whole)
    same_state(state, whole)
    # and, where each undo names events before it, both equal the log without what was undone
    # folded from scratch (an event named before it comes is applied when it comes, as ever)
    if all(seq < by.seq for seq, by in whole.undone.items()):
        plain = fold(PLAN.plan, [e for e in log if e.type != UNDONE and e.seq not in whole.undone])
        assert plain.steps == whole.steps and plain.path == whole.path


def figures(fc) -> tuple:
    return (fc.p50, fc.p80, fc.p90, fc.p_on_time, fc.p_hard_deadline, fc.decision_deadline,
            fc.contingency_need_s, fc.bias, fc.learned_from, fc.options)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(log=logs(), every=st.integers(1, 3))
def test_a_forecaster_kept_through_the_events_answers_as_a_fresh_one(log, every):
    """No stale cache: after every event, the long-lived forecaster (caches per revision, per
    running step, per skipped set) equals a fresh forecaster on a fold of the log so far."""
    kept = Forecaster(PLAN.plan, samples=200, seed=5)
    state = fold(PLAN.plan, [])
    with patch.object(replay, "SNAPSHOT_EVERY", 2):  # undo replays from snapshots, often
        for k, ev in enumerate(log):
            fold(PLAN.plan, [ev], state)
            if state.resumed or k % every:
                continue  # (the next forecast sees several events at once)
            now = ev.at + timedelta(seconds=30)
            fresh = Forecaster(PLAN.plan, samples=200, seed=5)
            whole = fold(PLAN.plan, log[:k + 1])
            assert figures(kept.forecast(state, now)) == figures(fresh.forecast(whole, now)), k
