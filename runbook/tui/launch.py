"""Build the app for each command: the operator's run, a read-only watch. (The demo: demo.py.)"""

from __future__ import annotations

from runbook.engine.run import Engine, Session
from runbook.format.times import when
from runbook.tui.app import RunbookApp
from runbook.tui.desk import Desk
from runbook.tui.journal import last_action
from runbook.tui.view import Snapshot


def operator_app(engine: Engine, resumed: bool, *, interval: float | None = 1.0,
                 keymap: dict[str, str] | None = None) -> RunbookApp:
    """`runbook run`: the operator's screen on ``engine``."""
    desk = Desk(engine, mode="run", resumed=resumed)
    actor = engine.actor
    label = engine.info.label.upper()
    text = f"OPERATOR {actor.name}@{actor.host} · {label} run {engine.run_id}"
    welcome = None
    if resumed:
        state = engine.state
        now = engine.clock.now()
        started = when(state.started_at, engine.plan.timezone, now) if state.started_at else "--:--"
        done = len(state.ids("completed", "skipped"))
        text = f"REATTACHED · {text} · started {started}"
        welcome = (f"Reattached to the unfinished run {engine.run_id} (started {started}, {done} "
                   f"steps done, {state.last_seq} events). Nothing was lost.")
    else:
        welcome = "New run started. space starts the first step; ? shows every key."
    return RunbookApp(desk, mode_text=text, interval=interval, keymap=keymap, welcome=welcome)


def watch_app(session: Session, *, interval: float | None = 1.0) -> RunbookApp:
    """`runbook watch`: the same screen, read-only, following the run."""
    desk = Desk(session, mode="watch")

    def text(snap: Snapshot | None) -> str:
        ops = ", ".join(snap.operators) if snap is not None and snap.operators else "-"
        last = f"{last_action(snap.state, snap.now)} · " if snap is not None else ""
        return f"WATCHING — read-only · {last}operator {ops} · run {session.run_id} · q quits"

    return RunbookApp(desk, mode_text=text, interval=interval,
                      welcome="Watching read-only: the screen follows the operator's actions.")
