"""What the forecast says, pinned: one model and seed on a 1,000-step plan through a realistic run.

Issue #11 makes the fold and the forecast incremental (caches per event, per running step, after
skips). None of that may change a single figure: this test plays one night through the real
engine (steps started as soon as they may, up to a dozen running at once, completions, a failure
and its retry, a skip of a ready step and of a step further down, a note, a mis-press undone, then
the rollback triggered and worked) and compares the forecast at instants between and at events
with figures recorded before the optimisations. A figure that moves by a microsecond fails.

If a change to the model itself is intended, re-record with ``RECORD=1 pytest -s`` on this file
and say so in the commit.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from datetime import timedelta
from pathlib import Path

import yaml

from runbook.engine.clock import ManualClock
from runbook.engine.run import Actor, new_run
from runbook.engine.state import READY, RUNNING
from runbook.forecast.core import Forecaster
from runbook.format.loader import load_text
from runbook.store import Store
from tests.conftest import START

STEPS = 1000
WIDTH = 8


def plan_text() -> str:
    """A layered DAG 8 wide (each step after 1-3 steps of the two layers before), every 7th step
    a single estimate (log-logistic), a hard deadline, a two-step rollback."""
    rnd = random.Random(11)
    steps = []
    for i in range(STEPS - 1):
        layer = i // WIDTH
        after = []
        if layer:
            pool = range(max(0, (layer - 2) * WIDTH), layer * WIDTH)
            after = sorted(rnd.sample(pool, k=min(len(pool), rnd.randint(1, 3))))
        m = rnd.randint(1, 6)
        est = f"{m}m" if i % 7 == 3 else {
            "optimistic": f"{max(0.5, m * 0.7) * 60:.0f}s", "likely": f"{m}m",
            "pessimistic": f"{m * rnd.choice([1.5, 2.0, 3.0]) * 60:.0f}s"}
        steps.append({"id": f"s{i:04d}", "title": f"Step {i}", "estimate": est,
                      "after": [f"s{j:04d}" for j in after]})
    waited = {a for s in steps for a in s["after"]}
    steps.append({"id": "reopen", "title": "Reopen", "estimate": "2m", "resumes_service": True,
                  "after": [s["id"] for s in steps if s["id"] not in waited]})
    data = {"runbook": 1, "id": "pinned", "title": "Pinned forecast", "timezone": "Asia/Seoul",
            "window": {"start": "2026-11-25T00:00", "announced_resume": "2026-11-25T14:00",
                       "hard_deadline": "2026-11-25T15:00"},
            "steps": steps,
            "contingencies": [{"id": "rollback", "title": "Roll back", "steps": [
                {"id": "rb-restore", "title": "Restore", "estimate": {
                    "optimistic": "10m", "likely": "20m", "pessimistic": "40m"}},
                {"id": "rb-reopen", "title": "Reopen old", "estimate": "5m"}]}]}
    return yaml.safe_dump(data, sort_keys=False)


def figures(fc) -> list:
    return [fc.p50.isoformat(), fc.p80.isoformat(), fc.p90.isoformat(), fc.recommended.isoformat(),
            fc.p_on_time, fc.p_hard_deadline,
            fc.decision_deadline.isoformat() if fc.decision_deadline else None,
            fc.contingency_need_s, fc.p_on_time_if_triggered, fc.bias, fc.learned_from,
            [[o.contingency, o.need_s, o.need_p50_s] for o in fc.options]]


def play(tmp_path) -> tuple[list[tuple[str, list]], str]:
    """The night: (label, figures) at each pinned instant, and a digest of the criticality."""
    loaded = load_text(plan_text(), "pinned.yaml")
    plan = loaded.plan
    clock = ManualClock(START)
    store = Store(tmp_path / "pinned.db")
    engine = new_run(store, loaded, clock, Actor("kim", "ops"), samples=10_000, seed=7)
    crit = engine.forecaster.criticality()
    crit_digest = hashlib.sha256(repr((crit.path, sorted(crit.share.items()),
                                       crit.mean_s)).encode()).hexdigest()
    rnd = random.Random(3)
    ends: dict[str, float] = {}  # running step -> when it completes (seconds from START)
    out: list[tuple[str, list]] = []
    t = 0.0
    events = 0

    def pin(label: str) -> None:
        out.append((label, figures(engine.tick().forecast)))

    def start_ready() -> None:
        nonlocal events
        for sid in engine.state.ids(READY):
            s = plan.by_id[sid]
            engine.start(sid)
            events += 1
            ends[sid] = t + max(1.0, rnd.triangular(s.optimistic, s.pessimistic, s.likely) * 1.2)

    pin("start")
    start_ready()
    pin("first starts")
    special = {100: "fail", 150: "skip", 250: "undo"}
    while events < 420:
        sid = min(ends, key=lambda k: (ends[k], k))
        half = (t + ends[sid]) / 2  # an instant between events: running steps' elapsed counts
        if events % 60 < 2:
            clock.set(START + timedelta(seconds=half))
            pin(f"between, {events} events")
        t = ends.pop(sid)
        clock.set(START + timedelta(seconds=t))
        due = next((k for k in special if events >= k), None)
        what = special.pop(due) if due is not None else None
        if what == "fail":  # a failure, then its retry a minute later
            engine.fail(sid, note="timeout")
            t += 60
            clock.set(START + timedelta(seconds=t))
            pin("failed")
            engine.start(sid)
            ends[sid] = t + 90
            events += 2
            continue
        engine.complete(sid)
        events += 1
        if what == "skip":
            pin("before the skips")
            engine.skip(engine.state.ids(READY)[-1], reason="not needed tonight")
            pin("after skipping a ready step")
            pending = [s.id for s in plan.steps if engine.state.status(s.id) == "pending"
                       and s.path == "main"]
            engine.skip(pending[40], reason="done last week")
            pin("after skipping a step further down")
            events += 2
        if what == "undo":
            engine.note("halfway: counters saved", step=next(iter(ends), None))
            engine.complete(min(ends, key=lambda k: (ends[k], k)))  # a mis-press ...
            pin("after a mis-press")
            engine.undo()  # ... undone within the grace period
            pin("after the undo")
        start_ready()
        if events % 50 < 3:
            pin(f"at {events} events ({len(engine.state.ids(RUNNING))} running)")
    clock.set(START + timedelta(seconds=t + 600))
    pin("ten minutes on")
    engine.trigger("rollback", note="too slow")
    pin("rollback triggered")
    engine.start("rb-restore")
    clock.set(START + timedelta(seconds=t + 900))
    pin("rollback running")
    clock.set(START + timedelta(seconds=t + 2400))
    pin("rollback past its likely")
    engine.complete("rb-restore")
    engine.start("rb-reopen")
    pin("rollback reopening")
    # the same state forecast by a fresh forecaster: nothing cached may differ
    fresh = Forecaster(plan, samples=10_000, seed=7, prior=engine.forecaster.prior)
    out.append(("fresh forecaster", figures(fresh.forecast(engine.state, clock.now()))))
    store.close()
    return out, crit_digest


def tracks_text(tracks: int = 130, per_track: int = 6) -> str:
    """A kick-off, ``tracks`` parallel chains (every third of single estimates), a join."""
    est = {"optimistic": "1m", "likely": "90s", "pessimistic": "4m"}
    steps = [{"id": "kickoff", "title": "Kick-off", "estimate": est}]
    for t in range(tracks):
        for i in range(per_track):
            steps.append({"id": f"t{t}-s{i}", "title": f"Track {t} step {i}",
                          "estimate": "90s" if t % 3 == 2 else est,
                          "after": ["kickoff" if i == 0 else f"t{t}-s{i - 1}"]})
    steps.append({"id": "reopen", "title": "Reopen", "estimate": "2m", "resumes_service": True,
                  "after": [f"t{t}-s{per_track - 1}" for t in range(tracks)]})
    data = {"runbook": 1, "id": "tracks", "title": "Pinned tracks", "timezone": "Asia/Seoul",
            "window": {"start": "2026-11-25T00:00", "announced_resume": "2026-11-25T01:10"},
            "steps": steps,
            "contingencies": [{"id": "rollback", "title": "Roll back", "steps": [
                {"id": "rb-restore", "title": "Restore", "estimate": "10m"}]}]}
    return yaml.safe_dump(data, sort_keys=False)


def play_tracks(tmp_path) -> list[tuple[str, list]]:
    """130 steps running at once (started over 8 minutes), ticks every 23 s while some finish."""
    loaded = load_text(tracks_text(), "tracks.yaml")
    clock = ManualClock(START)
    store = Store(tmp_path / "tracks.db")
    engine = new_run(store, loaded, clock, Actor("kim", "ops"), samples=10_000, seed=3)
    engine.start("kickoff")
    clock.set(START + timedelta(seconds=60))
    engine.complete("kickoff")
    for t in range(130):
        clock.set(START + timedelta(seconds=60 + 480 * t / 130))
        engine.start(f"t{t}-s0")
    out = []
    for k in range(16):
        clock.set(START + timedelta(seconds=545 + 23 * k))
        if k % 4 == 3:  # a few tracks move on
            for t in range(k, 130, 17):
                engine.complete(f"t{t}-s0")
                engine.start(f"t{t}-s1")
        out.append((f"tick {k}", figures(engine.tick().forecast)))
    store.close()
    return out


PINNED = Path(__file__).parent / "data" / "forecast_pinned.json"


def test_the_forecast_says_exactly_what_it_said_before_the_optimisations(tmp_path):
    night, crit = play(tmp_path)
    tracks = play_tracks(tmp_path)
    got = json.loads(json.dumps({"criticality": crit, "night": night, "tracks": tracks}))
    if os.environ.get("RECORD"):
        PINNED.write_text(json.dumps(got, indent=1) + "\n")
    want = json.loads(PINNED.read_text())
    assert got["criticality"] == want["criticality"]
    for name in ("night", "tracks"):
        assert [label for label, _ in got[name]] == [label for label, _ in want[name]]
        for (label, figs), (_, pinned) in zip(got[name], want[name], strict=True):
            assert figs == pinned, f"{name}: {label}"
