"""TUI bench: start-up to the first frame, CPU of the 1 Hz refresh, memory of a 12-hour watch.

    .venv/bin/python bench/tui_bench.py [--quick]

Every figure for `runbook` is measured beside a bare Textual app in the same run, on a generated
1,000-step runbook (bench/generate.py's layered DAG: 8 wide, each step after 1-3 steps of the two
layers before, a rollback contingency) with the default 10,000 samples. Start-up is
measured in fresh processes of the real command (imports included) from process start to the
first frame, the first with the steps and the first with a forecast, the median of three. CPU is the whole process (all threads) over a wall-clock window with the real
1 Hz timer, one step running; the longest event-loop stall over that window is measured by a task
that sleeps 5 ms at a time (bench/perf.py measures it at 10,000 steps with an operator at work). The watch runs a read-only follower on a simulated clock for 12
hours while an operator records a step about every 40 simulated seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import START, layered, open_store  # noqa: E402
from bench.perf_ui import Probe  # noqa: E402

STEPS = 1_000


def big_runbook(n: int = STEPS) -> str:
    """bench/generate.py's layered DAG: 8 wide, each step after 1-3 of the two layers before."""
    return layered(n)


# -- start-up: whole processes, the real command (bench/perf_ui.py's first-frame child) ----------


def startup(kind: str, runbook: Path, db: Path) -> dict[str, float]:
    """Median seconds from before the process starts to the first frame, the first frame with
    the steps and the first with a forecast: ``bare`` (Textual + numpy) or ``runbook run``."""
    from bench.perf_ui import frame

    results: dict[str, list[float]] = {}
    for k in range(3):
        argv = ["bare"] if kind == "bare" else [
            "run", str(runbook), "--db", str(db.with_name(f"{db.stem}-{k}.db")), "--operator",
            "bench", "--start", "now"]
        for name, value in frame(*argv).lines.items():
            results.setdefault(name, []).append(value)
    return {k: statistics.median(v) for k, v in results.items()}


# -- CPU of the 1 Hz refresh ----------------------------------------------------------------------


async def cpu_window(app, seconds: float, before=None) -> tuple[float, float]:
    """(CPU %, longest event-loop stall in ms) over ``seconds`` of the running app."""
    probe = Probe()
    async with app.run_test(size=(120, 40)) as pilot:
        if before is not None:
            await before(app, pilot)
        await pilot.pause(1.5)  # let the first forecast settle
        probe.start()
        c0, w0 = time.process_time(), time.perf_counter()
        await asyncio.sleep(seconds)
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
        probe.stop()
    return cpu / wall * 100, probe.longest()


def cpu(runbook_text: str, tmp: Path, seconds: float) -> dict[str, float]:
    from textual.app import App
    from textual.widgets import Footer, Static

    from runbook.engine.clock import SystemClock
    from runbook.engine.run import Actor, new_run
    from runbook.format.loader import load_text
    from runbook.tui.launch import operator_app

    class Bare(App):
        def compose(self):
            yield Static("hello")
            yield Footer()

    bare, bare_stall = asyncio.run(cpu_window(Bare(), seconds))
    store = open_store(tmp / "cpu.db")
    engine = new_run(store, load_text(runbook_text, "big.yaml"), SystemClock(), Actor("bench", "h"))
    engine.start(engine.state.ids("ready")[0])
    app = operator_app(engine, False, interval=1.0, freeze_gc=True)
    refresh_ms: list[float] = []
    show_ms: list[float] = []
    desk_refresh, app_show = app.desk.refresh, app.show

    def timed_refresh(*args):
        t = time.perf_counter()
        try:
            return desk_refresh(*args)
        finally:
            refresh_ms.append((time.perf_counter() - t) * 1000)

    def timed_show(snapshot):
        t = time.perf_counter()
        app_show(snapshot)
        show_ms.append((time.perf_counter() - t) * 1000)

    app.desk.refresh, app.show = timed_refresh, timed_show
    ours, stall = asyncio.run(cpu_window(app, seconds))
    store.close()
    return {"bare": bare, "runbook": ours, "bare_stall": bare_stall, "stall": stall,
            "refresh_ms": statistics.median(refresh_ms[2:] or refresh_ms),
            "show_ms": statistics.median(show_ms[2:] or show_ms), "ticks": len(refresh_ms)}


# -- memory of a 12-hour watch --------------------------------------------------------------------


def rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def watch_12h(runbook_text: str, tmp: Path, every_s: int):
    from runbook.engine.clock import ManualClock
    from runbook.engine.run import Actor, Session, new_run
    from runbook.format.loader import load_text
    from runbook.tui.launch import watch_app

    clock = ManualClock(START)
    store = open_store(tmp / "watch.db")
    engine = new_run(store, load_text(runbook_text, "big.yaml"), clock, Actor("bench", "h"))
    ro = open_store(tmp / "watch.db", readonly=True)
    app = watch_app(Session(ro, ro.resolve(None), clock), interval=None)
    app.animation_level = "none"
    marks = []
    finished: tuple[float, float] | None = None  # (hours, heap MB) when the last step completed
    tracemalloc.start()
    async with app.run_test(size=(120, 40)) as pilot:
        app.refresh_now()
        await pilot.pause()
        gc.collect()
        base = tracemalloc.get_traced_memory()[0]
        marks.append((0.0, rss_mb(), 0.0, engine.state.last_seq))
        total = 12 * 3600
        next_action = 0
        for t in range(every_s, total + 1, every_s):
            clock.set(START + timedelta(seconds=t))
            if t >= next_action and not engine.state.finished:  # the operator, about every 40 s
                running = engine.state.ids("running")
                if running:
                    engine.complete(running[0])
                    if len(engine.state.notes) < 500 and t % 600 < every_s:
                        engine.note(f"status at {t // 60} min: all fine", running[0])
                ready = engine.state.ids("ready")
                if ready and not engine.state.finished:
                    engine.start(ready[0])
                next_action = t + 40
            app.refresh_now()
            if t % 600 == 0:
                await pilot.pause(0)
            if finished is None and engine.state.finished:
                await pilot.pause(0)
                gc.collect()
                finished = (t / 3600, (tracemalloc.get_traced_memory()[0] - base) / 2**20)
            if t % (3 * 3600) == 0:
                gc.collect()
                traced = (tracemalloc.get_traced_memory()[0] - base) / 2**20
                marks.append((t / 3600, rss_mb(), traced, engine.state.last_seq))
    tracemalloc.stop()
    ro.close()
    store.close()
    return marks, finished


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter CPU window, sparser watch")
    args = parser.parse_args()
    import textual

    seconds = 5.0 if args.quick else 10.0
    every = 30 if args.quick else 5
    text = big_runbook()
    with tempfile.TemporaryDirectory(prefix="runbook-bench-") as tmp_name:
        tmp = Path(tmp_name)
        rb = tmp / "big.yaml"
        rb.write_text(text)
        print(f"runbook TUI bench: {STEPS:,} steps, 10,000 samples, Python "
              f"{sys.version.split()[0]}, Textual {textual.__version__}, {os.cpu_count()} CPUs")
        bare = startup("bare", rb, tmp / "s.db")
        ours = startup("runbook", rb, tmp / "s.db")
        load = cpu(text, tmp, seconds)
        print()
        print(f"{'':44}{'bare Textual':>14}{'runbook run':>14}")
        print(f"{'start-up to first frame (new process)':44}{bare['frame']:>12.2f} s"
              f"{ours['frame']:>12.2f} s")
        print(f"{'  ... to the first frame with the steps':44}{'-':>14}{ours['steps']:>12.2f} s")
        print(f"{'  ... to the first frame with a forecast':44}{'-':>14}{ours['full']:>12.2f} s")
        print(f"{f'CPU, {seconds:.0f} s at the 1 Hz refresh':44}{load['bare']:>12.1f} %"
              f"{load['runbook']:>12.1f} %")
        print(f"{'  longest event-loop stall (UI thread)':44}{load['bare_stall']:>11.1f} ms"
              f"{load['stall']:>11.1f} ms")
        print(f"{'  refresh in the worker (sync+tick+view)':44}{'-':>14}{load['refresh_ms']:>11.1f} ms")
        print(f"{'  applying it on the UI thread':44}{'-':>14}{load['show_ms']:>11.1f} ms")
        marks, finished = asyncio.run(watch_12h(text, tmp, every))
        print()
        print(f"12-hour watch, simulated clock, refresh every {every} simulated s "
              f"({12 * 3600 // every:,} refreshes):")
        print(f"{'hours':>7}{'RSS MB':>10}{'Python heap +MB':>18}{'events':>9}")
        for hours, rss, traced, events in marks:
            print(f"{hours:>7.0f}{rss:>10.1f}{traced:>18.2f}{events:>9,}")
        if finished is not None:
            idle = int((12 - finished[0]) * 3600 / every)
            print(f"The operator finished the last step at {finished[0]:.1f} h; the heap then grew "
                  f"{marks[-1][2] - finished[1]:+.2f} MB over the {idle:,} idle refreshes after it "
                  "(growth before that follows the run's own state: 1,000 steps' rows and events).")


if __name__ == "__main__":
    main()
