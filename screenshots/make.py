"""Generate the README screenshots from the real app, playing the demo script.

    .venv/bin/python screenshots/make.py [--out screenshots]

The switch-port runbook and its demo script (runbooks/san-port-swap*.yaml) are played by the
real engine on a simulated clock up to each key moment, then drawn by the operator's screen (and,
for watch.svg, by a read-only watcher on the same store). Nothing here is drawn by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runbook.engine.clock import ManualClock  # noqa: E402
from runbook.engine.run import Actor, Session, new_run  # noqa: E402
from runbook.format.loader import load_runbook  # noqa: E402
from runbook.store import Store  # noqa: E402
from runbook.store import sqlite as store_module  # noqa: E402
from runbook.tui import demo  # noqa: E402
from runbook.tui.director import ScriptDirector  # noqa: E402
from runbook.tui.launch import operator_app, watch_app  # noqa: E402

SIZE = (120, 36)
# name, minutes into the window, what it shows
MOMENTS = [
    ("on-track", 12, "00:12, ON TRACK: the database is slow to stop, the forecast still fits"),
    ("at-risk", 29, "00:29, AT RISK: the overrun has eaten the margin; prepare the rollback"),
    ("decide-now", 35.5, "00:35, DECIDE NOW with the banner: the rollback must start by 00:38"),
    ("contingency", 47, "00:47, the rollback running; the main steps abandoned"),
]
WATCH = ("watch", 36.5, "00:36, a team lead's read-only watch of the same run")


async def draw(app, path: Path) -> None:
    app.animation_level = "none"
    async with app.run_test(size=SIZE) as pilot:
        app.refresh_now()
        await pilot.pause()
        app.say("")
        await pilot.pause()
        path.write_text(app.export_screenshot(title=f"runbook — {path.stem}"))


async def make(out: Path) -> list[Path]:
    store_module.secrets.token_hex = lambda n: "0417"  # a stable run id, so the SVGs only change with the app
    loaded = load_runbook(demo.find(demo.RUNBOOK))
    cues = demo.load_cues(loaded, demo.find(demo.SCRIPT))
    start = loaded.plan.start
    written = []
    with tempfile.TemporaryDirectory(prefix="runbook-shots-") as tmp:
        for name, minutes, _ in [*MOMENTS, WATCH]:
            db = Path(tmp) / f"{name}.db"
            with Store(db) as store:
                clock, source = ManualClock(start), ManualClock(start)
                engine = new_run(store, loaded, clock, Actor("kim", "ops-01"))
                source.set(start + timedelta(minutes=minutes))
                ScriptDirector(cues, clock, source).step(engine)  # ticks every 10 s on the way
                path = out / f"{name}.svg"
                if name == WATCH[0]:
                    with Store(db, readonly=True) as ro:
                        await draw(watch_app(Session(ro, ro.resolve(None), clock), interval=None),
                                   path)
                else:
                    await draw(operator_app(engine, False, interval=None), path)
                written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "screenshots"), help="folder for the SVGs")
    out = Path(parser.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    for path in asyncio.run(make(out)):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    for name, _, what in [*MOMENTS, WATCH]:
        print(f"  {name}.svg: {what}")


if __name__ == "__main__":
    main()
