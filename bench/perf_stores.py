"""Section 4 of bench/perf.py: big stores, and the report of a big run.

Two stores of finished runs of the same generated runbook (a layered plan of 99 steps, so each
run is about 200 events: run_started, a start and a completion per step, run_finished): one with
``runs`` runs, one with a single run. Each run ends with its summary stored, as the engine stores
it; each store is then opened once by a writer, as the next `runbook run` would (a writer checks
the rows added since the last one did). Each figure is the big store against the one-run store,
measured alternately. `run` start-up gets a fresh copy of its store every time (a run adds a run).
The report figure: one run of ``events`` events (a 1,000-step plan, every step failed once and
retried, the rest notes), read+build+render md in process vs reading and decoding its events.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from bench import generate
from bench.measure import Figure, paired, runbook
from bench.perf_ui import frame
from runbook.format.loader import load_text

SECTION = "4 big stores"


def stores(tmp: Path, runs: int, n: int) -> list[Figure]:
    plan = tmp / "past.yaml"
    plan.write_text(generate.layered(99))
    loaded = load_text(plan.read_text(), plan.name)
    one, many = tmp / "one.db", tmp / f"many-{runs}.db"
    t0 = time.perf_counter()
    for db, k in ((one, 1), (many, runs)):
        with generate.open_store(db) as store:
            generate.past_runs(store, loaded, k)
        generate.open_store(db).close()  # as the next `runbook run` leaves it: rows checked once
    setup = time.perf_counter() - t0
    with generate.open_store(many, readonly=True) as store:
        events = sum(len(store.events(info.id)) for info in store.runs()[:5]) / 5
    sizes = f"{runs:,} runs vs 1 run"
    note = (f"{events:.0f} events per run, its summary stored as it ended; stores written in "
            f"{setup:.0f} s, then opened once by a writer")
    out = []

    got, ref, reps = paired(lambda: runbook("runs", "--db", str(many)).wall,
                            lambda: runbook("runs", "--db", str(one)).wall, n)
    out.append(Figure(SECTION, f"runs, {sizes}", got, ref, "runs, 1 run", "s",
                      ratio_limit=1.3, n=reps, note=note + "; whole processes"))

    got, ref, reps = paired(
        lambda: runbook("check", str(plan), "--json", "--db", str(many)).wall,
        lambda: runbook("check", str(plan), "--json", "--db", str(one)).wall, n, budget_s=30)
    out.append(Figure(SECTION, f"check --db, {sizes}", got, ref, "check --db, 1 run", "s",
                      ratio_limit=1.3, n=reps, note="whole processes"))

    count = iter(range(10**6))

    def start_up(db: Path) -> float:
        fresh = tmp / f"fresh-{next(count)}.db"
        shutil.copyfile(db, fresh)
        proc = frame("run", str(plan), "--db", str(fresh), "--operator", "bench", "--start", "now")
        fresh.unlink()
        return proc.lines["full"]

    got, ref, reps = paired(lambda: start_up(many), lambda: start_up(one), n, budget_s=30)
    out.append(Figure(SECTION, f"run start-up (first full frame), {sizes}", got, ref,
                      "run, 1 run", "s", ratio_limit=1.3, n=reps,
                      note="whole processes; a fresh copy of the store each time"))

    from runbook.engine.run import unfinished_run

    def lookup(db: Path) -> float:
        with generate.open_store(db, readonly=True) as store:
            t = time.perf_counter()
            unfinished_run(store, loaded.plan.id)
            return (time.perf_counter() - t) * 1000

    # tens of microseconds, one call on a store just opened: more repeats than the whole processes
    got, ref, reps = paired(lambda: lookup(many), lambda: lookup(one), max(15, n))
    out.append(Figure(SECTION, f"unfinished-run lookup, {sizes}", got, ref, "lookup, 1 run",
                      "ms", ratio_limit=1.3, n=reps,
                      note="in process, store already open (its first query)"))
    return out


def big_report(tmp: Path, events: int, steps: int, n: int) -> Figure:
    from runbook.report import build, render

    loaded = load_text(generate.layered(steps), f"report-{steps}.yaml")
    how = generate.fill(len(loaded.plan.paths["main"]), events)
    db = tmp / f"report-{events}.db"
    with generate.open_store(db) as store:
        run_id = generate.record(store, loaded, generate.schedule(loaded, **how))
    with generate.open_store(db, readonly=True) as store:
        count = len(store.events(run_id))

        def report() -> float:
            t = time.perf_counter()
            info = store.resolve(run_id)
            render(build(info, store.events(run_id)), "md")
            return time.perf_counter() - t

        def read() -> float:
            t = time.perf_counter()
            store.resolve(run_id)
            store.events(run_id)
            return time.perf_counter() - t

        got, ref, reps = paired(report, read, n)
    return Figure(SECTION, f"report (md) of a {count:,}-event run", got, ref,
                  "read + decode events", "s", ratio_limit=3.0, n=reps,
                  note=f"in process; {steps:,} steps, {how['retries']:,} retries, "
                  f"{how['notes']:,} notes")
