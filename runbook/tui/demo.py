"""`runbook demo`: the switch-port night replayed in the real TUI on a simulated clock.

A temporary store (deleted on exit), the bundled runbook and its demo script, the real engine on
a :class:`~runbook.clock.ManualClock` that a :class:`ScriptDirector` moves along a
:class:`~runbook.clock.ScaledClock`. Nothing to set up, nothing left behind.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from runbook.engine.clock import Clock, ManualClock, ScaledClock
from runbook.engine.run import Actor, new_run
from runbook.engine.simulate import load_script
from runbook.format.loader import Loaded, load_runbook
from runbook.format.times import hhmm
from runbook.i18n import _
from runbook.store import Store
from runbook.tui.app import RunbookApp
from runbook.tui.desk import Desk
from runbook.tui.director import Cue, ScriptDirector
from runbook.tui.view import Snapshot

RUNBOOK = "san-port-swap.yaml"
SCRIPT = "san-port-swap.demo.events.yaml"
DEMO_SECONDS = 110.0  # real seconds the script should take at the default speed
FRAME_S = 0.25  # the demo refreshes 4 times a second so the clock runs smoothly


def find(name: str) -> Path:
    """A bundled example: ``runbook/data/`` in an installed package, ``runbooks/`` in a checkout."""
    here = Path(__file__).resolve().parent.parent
    for folder in (here / "data", here.parent / "runbooks"):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"the demo needs {name}, which is not installed with this copy of "
                            "runbook (looked in runbook/data and runbooks/)")


def load_cues(loaded: Loaded, path: Path) -> list[Cue]:
    script, times, _lines = load_script(path, loaded)
    return [Cue(at, *ev.action, note=ev.abort or ev.note)
            for ev, at in zip(script.events, times, strict=True)]


def default_speed(cues: list[Cue], start) -> float:
    span = (cues[-1].at - start).total_seconds() if cues else 3600.0
    return max(1.0, round(span / DEMO_SECONDS, 1))


@dataclass
class Demo:
    app: RunbookApp
    desk: Desk
    director: ScriptDirector
    store: Store
    speed: float


def mode_text(speed: float, caption: str, paused: bool = False, snap: Snapshot | None = None) -> str:
    """The demo's line: what this is, how to quit, and the script's last action."""
    if snap is not None and snap.state.finished:
        state, tz = snap.state, snap.tz
        how = ""
        if state.resumed_at is not None:
            early = (snap.plan.announced - state.resumed_at).total_seconds() / 60
            how = _("service resumed {time}, {minutes} min before the announced {announced}"
                    ).format(time=hhmm(state.resumed_at, tz), minutes=f"{early:.0f}",
                             announced=hhmm(snap.plan.announced, tz))
            if state.path != "main" and state.triggered_at is not None:
                how += _(", because {contingency} was triggered at {time}").format(
                    contingency=state.path, time=hhmm(state.triggered_at, tz))
        return _("DEMO finished: {how}. l shows the alert history · q quits").format(how=how)
    state = _("PAUSED (p resumes)") if paused else _("{speed}× speed").format(speed=f"{speed:g}")
    return _("DEMO · {state} · a replay of the switch-port night: a script presses the keys, "
             "you watch the level · p pause · q quit · last: {caption}").format(
        state=state, caption=caption)


@contextmanager
def demo(speed: float | None = None, *, source: Clock | None = None, interval: float | None = FRAME_S,
         samples: int = 10_000, folder: str | Path | None = None) -> Iterator[Demo]:
    """The demo app with its temporary store; ``source`` replaces the scaled clock in tests."""
    loaded = load_runbook(find(RUNBOOK))
    cues = load_cues(loaded, find(SCRIPT))
    start = loaded.plan.start
    speed = speed or default_speed(cues, start)
    with tempfile.TemporaryDirectory(prefix="runbook-demo-", dir=folder) as tmp:
        store = Store(Path(tmp) / "demo.db")
        try:
            clock = ManualClock(start)
            engine = new_run(store, loaded, clock, Actor("demo-operator", "demo"),
                             label="rehearsal", samples=samples)
            holder: dict[str, ScaledClock] = {}

            class Source:
                """The scaled clock starts when the screen is up, so the demo starts at 00:00."""

                def now(self):
                    if source is not None:
                        return source.now()
                    if "clock" not in holder:
                        holder["clock"] = ScaledClock(start, speed)
                    return holder["clock"].now()

            director = ScriptDirector(cues, clock, Source())
            desk = Desk(engine, mode="demo", director=director)
            tz = loaded.plan.timezone
            app = RunbookApp(desk, interval=interval,
                             mode_text=lambda snap: mode_text(speed, director.caption(tz),
                                                              director.paused, snap),
                             welcome=_("Demo: the night a faulty SAN port was swapped. Watch the "
                                       "level (top right) go from ON TRACK to DECIDE NOW, and "
                                       "the rollback save the announced time. q quits."))
            yield Demo(app, desk, director, store, speed)
        finally:
            store.close()
