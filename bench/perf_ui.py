"""Sections 2 and 3 of bench/perf.py: event-loop stalls in the real app, first frames.

Stalls: the real RunbookApp under Textual's ``run_test`` (headless, 120x40, the timeline ``l``
shown) with its real 1 Hz refresh timer, built as the commands build it (``freeze_gc``), on a run
in progress "now" (the run and its plan anchored to the wall clock). A
probe task in the same event loop sleeps 5 ms at a time; a wake-up later than asked is a stall
of the UI thread. Start-up: until the first snapshot with a forecast is drawn. Steady: the
seconds after it, while an operator works: for `watch` a separate process appends the run's
next events (complete, start, a note) every second; for `run` the bench selects a running step
and presses d, then a ready one and presses s, every second. Reference: the same probe in a bare
Textual app over a window as long, just before each run; medians of the repeats.

First frames: whole processes through the real command (`runbook run|watch`, patched only to
run headless, to take the process for one at a terminal (as an operator's is; the bench reads
its output through a pipe) and to print when a frame goes to the terminal: the first of the main
screen, the first with the steps, the first with a forecast), from before the process starts;
the reference is a bare Textual app (a Static and a Footer) after importing numpy, timed the same way.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import generate
from bench.measure import PYTHON, ROOT, Figure, Proc, run

SIZE = (120, 40)
PERIOD = 0.005

OPERATOR = r"""
import json, sys, time
from datetime import UTC, datetime
sys.path.insert(0, sys.argv[1])
from bench.generate import open_store
store = open_store(sys.argv[2])
for batch in json.load(open(sys.argv[4])):
    time.sleep(1.0)
    for kind, step, payload in batch:
        store.append(sys.argv[3], at=datetime.now(UTC), actor="operator", host="elsewhere",
                     type=kind, step=step, payload=payload)
"""


class Probe:
    """Event-loop lag: (start, lag in ms) of every 5 ms sleep."""

    def __init__(self) -> None:
        self.gaps: list[tuple[float, float]] = []
        self._task: asyncio.Task | None = None

    async def _loop(self) -> None:
        while True:
            t = time.perf_counter()
            await asyncio.sleep(PERIOD)
            self.gaps.append((t, (time.perf_counter() - t - PERIOD) * 1000))

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def longest(self, since: float = 0.0, until: float = float("inf")) -> float:
        return max((g for t, g in self.gaps if since <= t < until), default=0.0)


def _bare_app():
    from textual.app import App
    from textual.widgets import DataTable, Footer, Static

    class Bare(App):
        def compose(self):
            yield Static("hello")
            yield DataTable()
            yield Footer()

    return Bare()


async def _bare(seconds: float) -> float:
    probe = Probe()
    probe.start()
    async with _bare_app().run_test(size=SIZE) as pilot:
        await pilot.pause(0.5)
        t0 = time.perf_counter()
        await asyncio.sleep(seconds)
        probe.stop()
    return probe.longest(t0)


async def _app_stalls(app, seconds: float, every_second=None) -> tuple[float, float, float]:
    """(start-up stall, steady stall, seconds to the first forecast frame) of ``app``."""
    shown = asyncio.Event()
    original = app.show

    def show(snapshot):
        original(snapshot)
        if snapshot.forecast is not None:
            shown.set()

    app.show = show
    probe = Probe()
    probe.start()
    t0 = time.perf_counter()
    async with app.run_test(size=SIZE) as pilot:
        app.main.toggle_log()  # the timeline (l) on screen: every event, 1,000 notes among them
        await asyncio.wait_for(shown.wait(), timeout=300)
        await pilot.pause()
        ready = time.perf_counter()
        end = ready + seconds
        while time.perf_counter() < end:
            if every_second is not None:
                await every_second(app, pilot)
            await asyncio.sleep(max(0.0, min(1.0, end - time.perf_counter())))
        probe.stop()
    return probe.longest(0, ready), probe.longest(ready), ready - t0


def _live_run(tmp: Path, steps: int, notes: int, name: str, ready: int):
    """A store with a run of a ``steps``-step layered plan in progress now, ``notes`` notes;
    returns (store path, run id, the events still to come)."""
    from runbook.format.loader import load_text

    loaded = load_text(generate.layered(steps), f"{name}.yaml")
    full = generate.schedule(loaded)
    events = generate.schedule(loaded, upto=0.5, notes=notes, ready=ready)
    cut = events[-1].offset
    start = (datetime.now(UTC) - timedelta(seconds=cut + 2)).replace(microsecond=0)
    anchored = dataclasses.replace(loaded, text=generate.layered(steps, start=start))
    db = tmp / f"{name}.db"
    with generate.open_store(db) as store:
        run_id = generate.record(store, anchored, events, start=start)
    to_come = [e for e in full if e.offset > cut and e.type != "run_finished"]
    return db, run_id, to_come


def _copy(db: Path, to: Path) -> Path:
    """A fresh copy of a generated store (each repeat starts from the same run)."""
    import shutil

    for suffix in ("", "-wal", "-shm"):
        src = db.with_name(db.name + suffix)
        if src.exists():
            shutil.copyfile(src, to.with_name(to.name + suffix))
    return to


def _watch(db: Path, run_id: str, script: Path, seconds: float) -> tuple[float, float, float, int]:
    """(start-up stall, steady stall, seconds to the forecast, events followed) of `watch`."""
    import subprocess

    from runbook.engine.clock import SystemClock
    from runbook.engine.run import Session
    from runbook.tui.launch import watch_app

    store = generate.open_store(db, readonly=True)
    app = watch_app(Session(store, store.run(run_id), SystemClock()), freeze_gc=True)
    operator = subprocess.Popen([PYTHON, "-c", OPERATOR, str(ROOT), str(db), run_id, str(script)])
    seq = app.desk.session.state.last_seq
    try:
        start, steady, first = asyncio.run(_app_stalls(app, seconds))
    finally:
        operator.kill()
        operator.wait()
        store.close()
    return start, steady, first, app.desk.session.state.last_seq - seq


def _run(db: Path, run_id: str, seconds: float) -> tuple[float, float, float, int]:
    """(start-up stall, steady stall, seconds to the forecast, events recorded) of `run`, the
    bench pressing d then s every second."""
    from runbook.engine.clock import SystemClock
    from runbook.engine.run import Actor, Engine
    from runbook.engine.state import READY, RUNNING
    from runbook.tui.launch import operator_app

    store = generate.open_store(db)
    engine = Engine(store, store.run(run_id), SystemClock(), Actor("bench", "bench"))
    app = operator_app(engine, True, freeze_gc=True)

    async def operate(app, pilot):
        state = app.desk.session.state
        running, waiting = state.ids(RUNNING), state.ids(READY)
        if running:
            app.main.table.select(running[0])
            await pilot.press("d")
        if waiting:
            app.main.table.select(waiting[0])
            await pilot.press("s")

    seq = engine.state.last_seq
    try:
        start, steady, first = asyncio.run(_app_stalls(app, seconds, operate))
    finally:
        store.close()
    return start, steady, first, engine.state.last_seq - seq


def stalls(tmp: Path, steps: int, notes: int, seconds: float, repeat: int = 3) -> list[Figure]:
    """Longest event-loop stalls of `watch` and `run`, medians of ``repeat`` runs, each run
    beside a bare app's over a window as long, measured just before it."""
    w_db, w_id, to_come = _live_run(tmp, steps, notes, f"watch-{steps}", 0)
    batches, k = [], 0
    for n in range(int(seconds) + 300):  # watch: another process records the run's next events
        batch = [(e.type, e.step, e.payload) for e in to_come[k:k + 2]]
        batch.append(("note", batch[0][1] if batch else None, {"text": f"operator note {n}"}))
        batches.append(batch)
        k += 2
    script = tmp / "operator.json"
    script.write_text(json.dumps(batches))
    r_db, r_id, _ = _live_run(tmp, steps, notes, f"run-{steps}", int(seconds) + 5)
    got: dict[str, list[float]] = {}
    for k in range(repeat):
        for name, measure in (
                ("watch", lambda k=k: _watch(_copy(w_db, tmp / f"w{k}.db"), w_id, script,
                                             seconds)),
                ("run", lambda k=k: _run(_copy(r_db, tmp / f"r{k}.db"), r_id, seconds))):
            got.setdefault(f"{name} bare", []).append(asyncio.run(_bare(seconds)))
            for key, value in zip(("start", "steady", "first", "events"), measure(), strict=True):
                got.setdefault(f"{name} {key}", []).append(value)
    med = {key: statistics.median(v) for key, v in got.items()}
    what = f"{steps:,} steps, {notes:,} notes"
    out = []
    for name, note in (("watch", "another process records 2 events + a note every second "
                                 f"({min(got['watch events']):.0f}+ followed per run)"),
                       ("run", "the bench presses d and s (complete, start) every second "
                               f"({min(got['run events']):.0f}+ events recorded per run)")):
        out.append(Figure("2 UI thread", f"{name}: longest stall, steady {seconds:.0f} s, {what}",
                          med[f"{name} steady"], med[f"{name} bare"], "bare app, as long",
                          "ms", limit=50.0, n=repeat, note=note))
        out.append(Figure("2 UI thread", f"{name}: longest stall at start-up "
                          f"({med[f'{name} first']:.1f} s), {what}", med[f"{name} start"],
                          med[f"{name} bare"], "bare app, as long", "ms", limit=50.0,
                          n=repeat))
    return out


# -- first frames (whole processes) -----------------------------------------------------------------

FRAME_CHILD = r"""
import sys, time
t0 = float(sys.argv[1])
argv = sys.argv[2:]
def say(what):
    print(what, time.time() - t0, flush=True)
from textual.app import App
display = App._display
def _display(self, screen, renderable):  # a frame goes to the terminal (headless: would go)
    display(self, screen, renderable)
    want = getattr(self, "_bench_want", None)
    if renderable is not None and want and screen is getattr(self, "main", screen):
        self._bench_want = None
        for what in want:
            say(what)
        if "full" in want:
            self.exit()
App._display = _display
if argv[0] == "bare":
    import numpy
    from textual.widgets import Footer, Static
    class Bare(App):
        _bench_want = ("frame", "steps", "full")
        def compose(self):
            yield Static("hello")
            yield Footer()
    Bare().run(headless=True, size=(120, 40))
    raise SystemExit(0)
from runbook.tui.app import RunbookApp
RunbookApp._bench_want = ("frame",)
show, run = RunbookApp.show, RunbookApp.run
def _show(self, snapshot):
    show(self, snapshot)
    want = () if getattr(self, "_bench_steps", False) else ("steps",)
    self._bench_steps = True
    if snapshot.forecast is not None and not getattr(self, "_bench_full", False):
        self._bench_full = True
        want += ("full",)
    if want:
        self._bench_want = (self._bench_want or ()) + want
        self.screen.refresh()
RunbookApp.show = _show
RunbookApp.run = lambda self, *a, **k: run(self, headless=True, size=(120, 40))
import runbook.commands
runbook.commands._terminal = lambda: True  # as at an operator's terminal (this stdout is a pipe)
from runbook.cli import main
raise SystemExit(main(argv))
"""


def frame(*argv: str) -> Proc:
    """A first-frame child: ``bare`` or runbook's command line (``run PLAN --db DB ...``)."""
    return run([PYTHON, "-c", FRAME_CHILD, repr(time.time()), *argv])


def first_frames(tmp: Path, steps: int, n: int) -> list[Figure]:
    """First frame of `run` (new store each time) and `watch` vs a bare Textual app + numpy."""
    from runbook.format.loader import load_text

    plan = tmp / f"frame-{steps}.yaml"
    plan.write_text(generate.layered(steps))
    loaded = load_text(plan.read_text(), plan.name)
    watch_db = tmp / f"frame-watch-{steps}.db"
    with generate.open_store(watch_db) as store:
        generate.record(store, loaded, generate.schedule(loaded, upto=0.5))
    rows: dict[str, list[float]] = {}
    for k in range(n):
        for name, argv in (("bare", ["bare"]),
                           ("run", ["run", str(plan), "--db", str(tmp / f"frame-{k}.db"),
                                    "--operator", "bench", "--start", "now"]),
                           ("watch", ["watch", "--db", str(watch_db)])):
            proc = frame(*argv)
            for what in ("frame", "steps", "full"):
                rows.setdefault(f"{name} {what}", []).append(proc.lines[what])
    med = {k: statistics.median(v) for k, v in rows.items()}
    out = []
    ref = med["bare frame"]
    for cmd in ("run", "watch"):
        out.append(Figure("3 start-up", f"{cmd}: first frame (screen drawn), {steps:,} steps",
                          med[f"{cmd} frame"], ref, "bare Textual + numpy", "s",
                          ratio_limit=1.5, n=n, note="new process; from before it starts"))
        out.append(Figure("3 start-up", f"{cmd}:   steps shown (forecast computing…)",
                          med[f"{cmd} steps"], ref, "bare Textual + numpy", "s", n=n,
                          note=STEPS_NOTE))
        out.append(Figure("3 start-up", f"{cmd}:   forecast shown, {steps:,} steps",
                          med[f"{cmd} full"], ref, "bare Textual + numpy", "s", n=n,
                          note=FORECAST_NOTE))
    return out


STEPS_NOTE = ("context, no target: the run is loaded behind the first frame (watch: the runbook "
              "read and its events folded; run: the runbook read, the run opened)")
FORECAST_NOTE = "context, no target: 10,000 samples drawn and the first forecast, behind the screen"


def main(argv: list[str] | None = None) -> int:
    """Section 2 and the first frames of section 3 alone, in bench/perf.py's table."""
    import argparse
    import tempfile

    from bench.measure import load_note
    from bench.perf import table

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--quick", action="store_true", help="1,000 steps, 100 notes, 3 s, 1 repeat")
    ap.add_argument("--ui-steps", type=int, help="plan size for the stalls (10000)")
    ap.add_argument("--notes", type=int, help="notes in the run (1000)")
    ap.add_argument("--ui-seconds", type=float, help="steady window (10)")
    ap.add_argument("--frame-steps", type=int, help="plan size for the first frames (1000)")
    ap.add_argument("--repeat", type=int, help="first-frame repeats (3)")
    ap.add_argument("--only", default="2,3", help="2 stalls, 3 first frames")
    args = ap.parse_args(argv)
    sizes = ({"ui_steps": 1000, "notes": 100, "ui_seconds": 3.0, "frame_steps": 1000,
              "repeat": 1} if args.quick else
             {"ui_steps": 10_000, "notes": 1000, "ui_seconds": 10.0, "frame_steps": 1000,
              "repeat": 3})
    for key in sizes:
        if getattr(args, key, None) is not None:
            sizes[key] = getattr(args, key)
    print(f"runbook perf_ui: {sizes}\n{load_note()} at the start", flush=True)
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="runbook-perf-ui-") as d:
        if "2" in args.only:
            figures += stalls(Path(d), sizes["ui_steps"], sizes["notes"], sizes["ui_seconds"],
                              sizes["repeat"])
        if "3" in args.only:
            figures += first_frames(Path(d), sizes["frame_steps"], sizes["repeat"])
    print()
    print(table(figures))
    print(f"\n{load_note()} at the end")
    return 1 if any(f.passed is False for f in figures) else 0


if __name__ == "__main__":  # python -m bench.perf_ui [--quick]
    raise SystemExit(main())
