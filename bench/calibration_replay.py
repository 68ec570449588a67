"""bench/calibration.py, during the run: each window's actual durations replayed through the real
engine (runbook.engine.run.Engine, a ManualClock, a SQLite store in a temporary directory)."""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import numpy as np
from calibration_windows import Window, model_plan, q_index, tri_samples

from runbook.engine.clock import ManualClock
from runbook.engine.risk import RANK, V1, LevelTracker, Rules
from runbook.engine.run import Actor, new_run
from runbook.engine.state import RunState, fold
from runbook.forecast.core import Forecaster, Prior
from runbook.format.model import Level
from runbook.store import Store

CHECKPOINTS = (25, 50, 75)
QS = (0.1, 0.5, 0.8, 0.9)
V1_PRIOR = Prior(tau0=0.25, sigma=0.6)
FLAP_S = 120.0

# The level rules tried (docs/forecast.md): name -> rules. "v1 rules" runs on this version's
# forecast; "v1 (model and rules)" is version 1 whole.
LEVEL_VARIANTS: dict[str, Rules] = {
    "v1 rules": V1,
    "margin .1": Rules(0.1, 0.5, hold_worse_s=0, dwell_s=0),
    "margin .2": Rules(0.2, 0.5, hold_worse_s=0, dwell_s=0),
    "margin .2, late <.2": Rules(0.2, 0.2, hold_worse_s=0, dwell_s=0),
    "margin .2, late <.2, hold 60s": Rules(0.2, 0.2, hold_worse_s=60, dwell_s=0),
    "  + dwell 120s": Rules(0.2, 0.2, hold_worse_s=60, dwell_s=120),
    "  + dwell 120s, hold 120s": Rules(0.2, 0.2, hold_worse_s=120, dwell_s=120),
    "  + dwell 120s, late <.1": Rules(0.2, 0.1, hold_worse_s=60, dwell_s=120),
    "  + dwell 120s, margin .25": Rules(0.25, 0.2, hold_worse_s=60, dwell_s=120),
    "  + dwell 120s, margin .3": Rules(0.3, 0.2, hold_worse_s=60, dwell_s=120),
    "  + dwell 120s, margin .3, hold 120s": Rules(0.3, 0.2, hold_worse_s=120, dwell_s=120),
    "  + dwell 120s, decide below .6 too": Rules(0.2, 0.2, hold_worse_s=60, dwell_s=120,
                                                 decide_margin=0.2),
}
DEFAULT_NAME = "this version (default rules)"


@dataclass
class Levels:
    """Level changes of one rules variant in one window: (seconds from start, level)."""

    tracker: LevelTracker
    changes: list[tuple[float, Level]] = field(default_factory=list)

    def see(self, t: float, level: Level | None) -> None:
        if level is not None and level != Level.resumed:
            self.changes.append((t, level))


def reversals(changes: list[tuple[float, Level]]) -> int:
    """Changes that undo the direction of the one before within FLAP_S seconds."""
    count, prev_t, prev_dir, prev_level = 0, None, 0, Level.on_track
    for t, level in changes:
        d = 1 if RANK[level] > RANK[prev_level] else -1
        if prev_t is not None and d != prev_dir and t - prev_t < FLAP_S:
            count += 1
        prev_t, prev_dir, prev_level = t, d, level
    return count


def _point(w: Window, done: int, elapsed: float) -> float:
    """The plain-sum baseline during the run: estimates left, the running one less its elapsed."""
    if done >= w.k:
        return 0.0
    return max(w.est[done] - elapsed, 0.0) + sum(w.est[done + 1:])


def replay(windows: list[Window], args) -> dict:
    models = ("runbook", "runbook v1", "plain sum", "independent triangular")
    cps = {m: {c: {"cov": [], "ann": [], "sum": []} for c in CHECKPOINTS} for m in models}
    rel_ann, rel_sum = [], []
    names = [DEFAULT_NAME, *LEVEL_VARIANTS, "v1 (model and rules)"]
    stats = {n: {"left": [], "late": [], "warned": [], "lead": [], "late_before": [],
                 "reversals": 0} for n in names}
    outcomes = []
    rng = np.random.default_rng(args.seed + 1)
    with tempfile.TemporaryDirectory(prefix="runbook-cal-") as tmp:
        store = Store(Path(tmp) / "cal.db")
        for n, w in enumerate(windows):
            out = _one(w, args, store, rng, cps, rel_ann, rel_sum)
            on_time = out["on_time"]
            outcomes.append(on_time)
            for name, levels in out["levels"].items():
                s = stats[name]
                ch = [(t, lv) for t, lv in levels.changes if t <= out["end"]]
                s["reversals"] += reversals(ch) > 0
                if on_time:
                    s["left"].append(bool(ch))
                    s["late"].append(any(lv == Level.late for _, lv in ch))
                else:
                    first = next((t for t, lv in ch if lv != Level.on_track), None)
                    before = first is not None and first < out["announced"]
                    s["warned"].append(before)
                    s["lead"].append((out["announced"] - first) / out["announced"]
                                     if before else 0.0)
                    s["late_before"].append(any(lv == Level.late and t < out["announced"]
                                                for t, lv in ch))
            if args.progress and n % 50 == 49:
                print(f"  replay {n + 1}/{len(windows)}", file=sys.stderr)
        store.close()
    res = {"checkpoints": {}, "levels": {}, "on_time": sum(outcomes),
           "overrun": len(outcomes) - sum(outcomes)}
    for m in models:
        res["checkpoints"][m] = {c: {"cov": np.mean(v["cov"], axis=0),
                                     "brier_ann": float(np.mean(v["ann"])),
                                     "brier_sum": float(np.mean(v["sum"]))}
                                 for c, v in cps[m].items()}
    res["rel_ann"], res["rel_sum"] = _table(rel_ann), _table(rel_sum)
    for name, s in stats.items():
        lead = np.array(s["lead"]) if s["lead"] else np.zeros(1)
        res["levels"][name] = {
            "left": np.mean(s["left"]) if s["left"] else 0.0,
            "late": np.mean(s["late"]) if s["late"] else 0.0,
            "warned": np.mean(s["warned"]) if s["warned"] else 1.0,
            "lead": f"{100 * np.quantile(lead, 0.25):.0f}%/{100 * np.quantile(lead, 0.5):.0f}%",
            "late_before": np.mean(s["late_before"]) if s["late_before"] else 0.0,
            "reversals": s["reversals"]}
    return res


def _table(pairs: list[tuple[float, bool]]) -> list[tuple[int, int, float, float]]:
    p = np.array([x for x, _ in pairs])
    o = np.array([y for _, y in pairs], dtype=float)
    rows = []
    for lo in range(0, 100, 10):
        sel = (p >= lo / 100) & ((p < (lo + 10) / 100) if lo < 90 else (p <= 1.0))
        n = int(sel.sum())
        rows.append((lo, n, float(p[sel].mean()) if n else 0.0, float(o[sel].mean()) if n else 0.0))
    return rows


def _one(w: Window, args, store: Store, rng, cps, rel_ann, rel_sum) -> dict:
    base = model_plan(w, w.planned, spread=args.spread)
    pre = Forecaster(base.plan, samples=args.samples, seed=args.seed, prior=args.prior)
    rem = np.sort(pre.remaining(RunState.initial(base.plan), base.plan.start))
    announced = float(rem[q_index(base.plan.policy.confidence, len(rem))]) / 60.0
    loaded = model_plan(w, announced, spread=args.spread, rollback=args.rollback)
    plan = loaded.plan
    clock = ManualClock(plan.start)
    engine = new_run(store, loaded, clock, Actor("bench", "bench"), label="rehearsal",
                     samples=args.samples, seed=args.seed, prior=args.prior)
    v1 = model_plan(w, announced, three_point=True, rollback=args.rollback).plan
    v1_fc = Forecaster(v1, samples=args.samples, seed=args.seed, prior=V1_PRIOR)
    v1_state = RunState.initial(v1)
    levels = {name: Levels(LevelTracker(rules=r)) for name, r in LEVEL_VARIANTS.items()}
    levels[DEFAULT_NAME] = Levels(engine.tracker)
    levels["v1 (model and rules)"] = Levels(LevelTracker(rules=V1))
    starts = np.concatenate([[0.0], np.cumsum(w.act)]) * 60.0  # seconds
    end = starts[-1]
    checks = [end * c / 100 for c in CHECKPOINTS]
    made_ann, made_sum = w.actual <= announced, w.actual <= w.planned
    t, step, nxt, ci = 0.0, args.tick, 0, 0

    def at(s: float):
        return plan.start + timedelta(seconds=s)

    def act(kind: str, sid: str, s: float) -> None:
        nonlocal v1_state
        clock.set(at(s))
        ev = engine.start(sid) if kind == "start" else engine.complete(sid)
        v1_state = fold(v1, [ev], v1_state)

    done = 0  # steps completed
    engine.start("s01")
    v1_state = fold(v1, engine.store.events(engine.run_id), v1_state)
    while True:
        # events due before the next refresh or checkpoint
        upcoming = min(t, checks[ci] if ci < len(checks) else np.inf)
        while done < w.k and starts[done + 1] <= upcoming:
            act("complete", f"s{done + 1:02d}", starts[done + 1])
            done += 1
            if done < w.k:
                act("start", f"s{done + 1:02d}", starts[done])
        if engine.state.resumed:
            break
        if ci < len(checks) and checks[ci] <= t:
            _checkpoint(CHECKPOINTS[ci], checks[ci], w, engine, v1_fc, v1_state, done, starts,
                        announced, made_ann, made_sum, rng, args, cps, rel_ann, rel_sum, at)
            ci += 1
            continue
        now = at(t)
        clock.set(now)
        tick = engine.tick()
        levels[DEFAULT_NAME].see(t, tick.alert and tick.level)
        for name, lv in levels.items():
            if name in (DEFAULT_NAME, "v1 (model and rules)"):
                continue
            lv.see(t, lv.tracker.observe(plan, engine.state, tick.forecast, now)[1])
        fc1 = v1_fc.forecast(v1_state, now)
        lv = levels["v1 (model and rules)"]
        lv.see(t, lv.tracker.observe(v1, v1_state, fc1, now)[1])
        nxt += 1
        t = nxt * step
    return {"on_time": made_ann, "levels": levels, "end": end, "announced": announced * 60.0}


def _checkpoint(c, s, w, engine, v1_fc, v1_state, done, starts, announced, made_ann, made_sum,
                rng, args, cps, rel_ann, rel_sum, at) -> None:
    now = at(s)
    left = (starts[-1] - s) / 60.0  # actual minutes still to go
    ann_left, sum_left = announced - s / 60.0, w.planned - s / 60.0
    elapsed = (s - starts[done]) / 60.0
    samples = {
        "runbook": engine.forecaster.remaining(engine.state, now) / 60.0,
        "runbook v1": v1_fc.remaining(v1_state, now) / 60.0,
        "independent triangular": tri_samples(w, args.samples, rng, done, elapsed),
    }
    for name, x in samples.items():
        x = np.sort(x)
        qs = [x[q_index(q, len(x))] for q in QS]
        cps[name][c]["cov"].append([left <= q for q in qs])
        p_ann, p_sum = float(np.mean(x <= ann_left)), float(np.mean(x <= sum_left))
        cps[name][c]["ann"].append((p_ann - made_ann) ** 2)
        cps[name][c]["sum"].append((p_sum - made_sum) ** 2)
        if name == "runbook":
            rel_ann.append((p_ann, made_ann))
            rel_sum.append((p_sum, made_sum))
    point = _point(w, done, elapsed)
    cps["plain sum"][c]["cov"].append([left <= point] * 4)
    cps["plain sum"][c]["ann"].append(float((point <= ann_left) != made_ann))
    cps["plain sum"][c]["sum"].append(float((point <= sum_left) != made_sum))
