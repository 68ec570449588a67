"""Section 1 of bench/perf.py: work per event, per action, per running step, and `simulate`.

In-process figures use the real Engine on a store in a temporary directory, a manual clock, and
a run half-way through a generated plan (recorded directly, then opened as the operator does).
"""

from __future__ import annotations

import statistics
import time
from datetime import timedelta
from pathlib import Path

import numpy as np

from bench import generate
from bench.measure import Figure, paired, repeat, runbook
from runbook.engine.clock import ManualClock
from runbook.engine.run import Actor, Engine, Session
from runbook.engine.state import NOTE, READY, RUNNING
from runbook.format.loader import Loaded, load_text

SECTION = "1 per event"
ACTOR = Actor("bench", "bench")


def _half_run(tmp: Path, loaded: Loaded, name: str, ready: int) -> tuple[Engine, ManualClock]:
    """An operator's engine on a run of ``loaded`` recorded half-way: steps running, ``ready``
    steps waiting to be started."""
    events = generate.schedule(loaded, upto=0.5, ready=ready)
    store = generate.open_store(tmp / f"{name}.db")
    run_id = generate.record(store, loaded, events)
    clock = ManualClock(generate.START + timedelta(seconds=events[-1].offset + 5))
    engine = Engine(store, store.run(run_id), clock, ACTOR, loaded=loaded)
    engine.tick()
    return engine, clock


def _ms(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def _ms_cpu(fn) -> tuple[float, float]:
    """(wall, CPU of this thread) in ms: the CPU leaves out the waits for the disk."""
    t0, c0 = time.perf_counter(), time.thread_time()
    fn()
    return (time.perf_counter() - t0) * 1000, (time.thread_time() - c0) * 1000


def per_event(tmp: Path, steps: int, n: int, *, skip: bool = False) -> list[Figure]:
    """First tick after complete+start (vs a steady tick), the action itself (CPU and wall, vs
    what the store's commits cost alone) and the refresh worker's work after an event (vs a
    steady refresh); after a skip: the tick."""
    loaded = load_text(generate.layered(steps), f"layered-{steps}.yaml")
    engine, clock = _half_run(tmp, loaded, f"event-{steps}{'-skip' if skip else ''}", 2 * n + 2)
    if skip:
        engine.skip(engine.state.ids(READY)[-1], reason="bench: a skip")
        engine.tick()
    firsts, steadies, actions, commits = [], [], [], []
    for _ in range(n):
        running, ready = engine.state.ids(RUNNING), engine.state.ids(READY)
        clock.advance(30)

        def act(running=running, ready=ready):
            engine.complete(running[0])
            engine.start(ready[0])

        actions.append(_ms_cpu(act))
        clock.advance(1)
        seq = engine.state.last_seq
        firsts.append(_ms(engine.tick))
        if engine.state.last_seq != seq:  # the tick recorded an alert: that is an event too
            clock.advance(1)
            engine.tick()
        clock.advance(1)
        steadies.append(_ms(engine.tick))

        def store_alone():  # the action's commits without the engine: 2 appends, a checkpoint
            for _ in range(2):
                engine.store.append(engine.run_id, at=clock.now(), actor="bench", host="bench",
                                    type=NOTE, payload={"text": "reference append"})
            engine.store.checkpoint()

        commits.append(_ms_cpu(store_alone))
        engine.sync()
        engine.tick()
    worker, steady_worker = [], []
    if not skip:  # the refresh worker's whole job after an event: sync, tick, snapshot
        from runbook.tui.desk import Desk

        desk = Desk(engine, mode="run")
        desk.refresh()
        for _ in range(n):
            running, ready = engine.state.ids(RUNNING), engine.state.ids(READY)
            clock.advance(30)
            engine.complete(running[0])
            engine.start(ready[0])
            clock.advance(1)
            worker.append(_ms(desk.refresh))
            clock.advance(1)
            desk.refresh()  # an alert recorded by the last tick is an event too
            clock.advance(1)
            steady_worker.append(_ms(desk.refresh))
    engine.store.close()
    what = "after a skip, " if skip else ""
    tick = Figure(SECTION, f"first tick after an event, {what}{steps:,} steps", statistics.median(firsts),
                  statistics.median(steadies), "steady tick", "ms",
                  limit=5.0 if steps <= 1000 else 20.0, n=n,
                  note="event = complete + start; the reference is the next tick, no event")
    if skip:
        return [tick]

    def med(pairs, k):
        return statistics.median(p[k] for p in pairs)

    action = Figure(SECTION, f"action CPU (complete + start), {steps:,} steps", med(actions, 1),
                    med(commits, 1), "CPU of its commits alone", "ms", limit=5.0, n=n,
                    note="CPU of the thread, all of it (the commits' own CPU included; the "
                    "reference is 2 bare appends and the checkpoint a completion makes, each "
                    "durable: fsync before it returns)")
    wall = Figure(SECTION, f"  action wall (complete + start), {steps:,} steps", med(actions, 0),
                  med(commits, 0), "its commits alone, wall", "ms", n=n,
                  note="context, no target: wall time waits for the disk (shared by the other "
                  "engineers' processes), the same for the commits alone")
    refresh = Figure(SECTION, f"  refresh worker after an event, {steps:,} steps",
                     statistics.median(worker), statistics.median(steady_worker),
                     "steady refresh", "ms", n=n,
                     note="context, no target: Desk.refresh (sync, tick, snapshot for the "
                     "screen) holds the lock that key presses need")
    return [tick, action, wall, refresh]


def _tracks_session(tmp: Path, tracks: int) -> tuple[Session, ManualClock]:
    """A watcher's session on the tracks plan with every track's first step running, started
    over the last 8 minutes (some past their pessimistic estimate, most inside it)."""
    loaded = load_text(generate.tracks(tracks, 4), f"tracks-{tracks}.yaml")
    events = [generate.Planned(0, "run_started", None, {"operator": "bench"}),
              generate.Planned(0, "step_started", "kickoff"),
              generate.Planned(60, "step_completed", "kickoff")]
    events += [generate.Planned(60 + 480 * t / tracks, "step_started", f"t{t}-s0")
               for t in range(tracks)]
    store = generate.open_store(tmp / f"tracks-{tracks}.db")
    run_id = generate.record(store, loaded, events)
    clock = ManualClock(generate.START + timedelta(seconds=60 + 480))
    session = Session(store, store.run(run_id), clock, loaded=loaded)
    session.tick()
    return session, clock


def steady_per_running(tmp: Path, tracks: int, n: int) -> Figure:
    """Steady refresh (Session.tick, no event) per running step, vs a numpy floor per step."""
    session, clock = _tracks_session(tmp, tracks)
    running = len(session.state.ids(RUNNING))
    samples = session.forecaster.samples
    rng = np.random.default_rng(0)
    k = rng.random(samples, dtype=np.float32) + 0.5
    d = rng.random((running, samples), dtype=np.float32) * 600

    def tick_us() -> float:
        clock.advance(1)
        return _ms(session.tick) * 1000 / running

    def floor_us() -> float:
        # per running step: remaining = k * drawn - elapsed, clipped, folded into a maximum
        out = np.zeros(samples, dtype=np.float32)

        def go():
            for i in range(running):
                rem = k * d[i]
                rem -= np.float32(30 + i)
                np.maximum(rem, 0, out=rem)
                np.maximum(out, rem, out=out)
        return _ms(go) * 1000 / running

    got, ref, reps = paired(tick_us, floor_us, n * 5)
    session.store.close()
    return Figure(SECTION, f"steady refresh per running step, {running} running", got, ref,
                  "numpy floor/step", "us", limit=60.0, n=reps,
                  note=f"tracks plan, {tracks} tracks; {samples:,} samples")


def simulate(tmp: Path, steps: int, events: tuple[int, ...], n: int) -> list[Figure]:
    """`simulate --json` CPU (whole process) at each event count; growth per added event.

    Scripts: a full run is 2 events per step; fewer stop part-way; more add notes spread over
    the same simulated hours (so the ticks stay the same and only the events grow). Each size
    is repeated up to ``n`` times (fewer past 30 s)."""
    plan = tmp / f"sim-{steps}.yaml"
    plan.write_text(generate.layered(steps))
    loaded = load_text(plan.read_text(), plan.name)
    main = len(loaded.plan.paths["main"])
    scripts, hours = {}, {}
    for count in events:
        path = tmp / f"sim-{steps}-{count}.events.yaml"
        how = generate.fill(main, count) if count <= 2 * main else {"notes": count - 2 * main}
        played = generate.schedule(loaded, **how)
        path.write_text(generate.script(loaded, played))
        scripts[count], hours[count] = path, played[-1].offset / 3600
    base = 2 * main if 2 * main in scripts else sorted(scripts)[len(scripts) // 2]
    ref, ref_n = repeat(lambda: runbook("check", str(plan), "--json").cpu, n)
    cpu: dict[int, float] = {}
    reps: dict[int, int] = {}
    for count, path in scripts.items():
        cpu[count], reps[count] = repeat(
            lambda path=path: runbook("simulate", str(plan), "--events", str(path), "--json").cpu,
            n, budget_s=30)
    out = [Figure(SECTION, f"simulate --json CPU, {steps:,} steps / {base:,} events",
                  cpu[base], ref, f"check --json CPU (n={ref_n})", "s", limit=3.0, n=reps[base],
                  note="whole process, user+sys")]
    counts = sorted(cpu)
    if len(counts) >= 3:
        a, b, c = counts[0], counts[1], counts[-1]
        first = (cpu[b] - cpu[a]) / (b - a) * 1000
        last = (cpu[c] - cpu[b]) / (c - b) * 1000
        spans = " / ".join(f"{hours[k]:.1f}" for k in counts)
        out.append(Figure(SECTION, f"simulate CPU per added event, {b:,}->{c:,} events",
                          last, first, f"same, {a:,}->{b:,}", "ms", ratio_limit=1.25,
                          n=min(reps.values()),
                          note=f"linear in events: the marginal cost does not grow. Scripts of "
                          f"{', '.join(f'{k:,}' for k in counts)} events over {spans} simulated "
                          f"hours (a tick every 10 s); beyond the {2 * main:,} of a whole run, "
                          "notes"))
    return out
