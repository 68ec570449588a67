"""Generate the README screenshots from the real app, playing the demo script.

    .venv/bin/python screenshots/make.py [--out screenshots]
    .venv/bin/python screenshots/make.py --lang ko    # the Korean screen: decide-now-ko.svg, ...

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

import yaml  # noqa: E402

from runbook.engine.clock import ManualClock  # noqa: E402
from runbook.engine.run import Actor, Session, new_run  # noqa: E402
from runbook.format.loader import load_runbook, load_text  # noqa: E402
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
    ("decide-now", 35.5, "00:35, DECIDE NOW with the banner: the rollback must start by 00:39"),
    ("after-trigger", 37.5, "00:37, the moment after the trigger: acknowledged on the next refresh"),
    ("contingency", 47, "00:47, the rollback running; the main steps abandoned"),
]
WATCH = ("watch", 36.5, "00:36, a team lead's read-only watch of the same run")
MULTI_DAY = ("multi-day", "a 32-hour weekend move, Sunday 09:10: times on other days carry their date")

# A weekend data-centre move: Saturday 20:00 to Monday 04:00 (32 hours), in Europe/Berlin.
MOVE = {
    "runbook": 1, "id": "dc-move", "title": "Move the payments cluster to the new data centre",
    "timezone": "Europe/Berlin",
    "window": {"start": "2026-12-05T20:00", "announced_resume": "2026-12-07T04:00",
               "hard_deadline": "2026-12-07T06:00"},
    "steps": [
        {"id": "freeze", "title": "Freeze changes and take the final backup", "owner": "dba",
         "estimate": {"optimistic": "1h", "likely": "2h", "pessimistic": "4h"}},
        {"id": "ship", "title": "Power down, pack and ship the racks", "owner": "dc-ops",
         "estimate": {"optimistic": "8h", "likely": "10h", "pessimistic": "16h"}},
        {"id": "rack", "title": "Rack, cable and power up in the new hall", "owner": "dc-ops",
         "estimate": {"optimistic": "6h", "likely": "8h", "pessimistic": "12h"}},
        {"id": "network", "title": "Bring up the network and the storage fabric", "owner": "net",
         "estimate": {"optimistic": "2h", "likely": "3h", "pessimistic": "6h"}},
        {"id": "restore", "title": "Start the databases and verify replication", "owner": "dba",
         "estimate": {"optimistic": "2h", "likely": "3h", "pessimistic": "6h"},
         "resumes_service": True},
        {"id": "verify", "title": "End-to-end payment tests with the card schemes", "owner": "app",
         "estimate": {"optimistic": "1h", "likely": "2h", "pessimistic": "3h"}},
    ],
    "contingencies": [{"id": "stay", "title": "Power the old hall back up and stay", "steps": [
        {"id": "return", "title": "Ship the racks back and power up in the old hall",
         "estimate": {"optimistic": "8h", "likely": "10h", "pessimistic": "14h"},
         "resumes_service": True}]}],
}


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
                    if name == "after-trigger":  # what c + enter records, 10 s after the refresh
                        engine.tick()
                        clock.advance(10)
                        engine.trigger("rollback", "change manager: roll back now")
                    await draw(operator_app(engine, False, interval=None), path)
                written.append(path)
        written.append(await multi_day(Path(tmp) / "move.db", out / f"{MULTI_DAY[0]}.svg"))
    return written


async def multi_day(db: Path, path: Path) -> Path:
    """The weekend move at Sunday 09:10: shipping ran long; times on other days are dated."""
    loaded = load_text(yaml.safe_dump(MOVE, sort_keys=False), "dc-move.yaml")
    start = loaded.plan.start
    with Store(db) as store:
        clock = ManualClock(start)
        engine = new_run(store, loaded, clock, Actor("kim", "ops-01"))
        for step, hours in (("freeze", 2.5), ("ship", 10.5)):
            engine.start(step)
            clock.advance(hours * 3600)
            engine.tick()
            engine.complete(step)
        engine.start("rack")
        clock.advance(10 * 60)
        await draw(operator_app(engine, False, interval=None), path)
    return path


KOREAN = ("decide-now", "contingency")  # the moments drawn again in Korean, as NAME-ko.svg


async def make_korean(out: Path) -> list[Path]:
    """The same moments in Korean (runbook --lang ko): the screen a Korean operations team reads."""
    from runbook import i18n

    global MOMENTS, WATCH
    i18n.set_language("ko")
    saved = MOMENTS, WATCH
    try:
        MOMENTS = [m for m in MOMENTS if m[0] in KOREAN]
        with tempfile.TemporaryDirectory(prefix="runbook-shots-ko-") as tmp:
            paths = await make(Path(tmp))
            written = []
            for path in paths:
                if path.stem in KOREAN:
                    target = out / f"{path.stem}-ko.svg"
                    target.write_text(path.read_text().replace(
                        f"runbook — {path.stem}", f"runbook — {path.stem} (--lang ko)"))
                    written.append(target)
            return written
    finally:
        MOMENTS, WATCH = saved
        i18n.set_language("en")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "screenshots"), help="folder for the SVGs")
    parser.add_argument("--lang", choices=["en", "ko"], default="en",
                        help="ko: the Korean screens (NAME-ko.svg) instead")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.lang == "ko":
        for path in asyncio.run(make_korean(out)):
            print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
        return
    for path in asyncio.run(make(out)):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    for name, _, what in [*MOMENTS, WATCH]:
        print(f"  {name}.svg: {what}")
    print(f"  {MULTI_DAY[0]}.svg: {MULTI_DAY[1]}")


if __name__ == "__main__":
    main()
