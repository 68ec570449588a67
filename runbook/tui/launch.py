"""Build the app for each command: the operator's run, a read-only watch. (The demo: demo.py.)"""

from __future__ import annotations

from runbook.engine.run import Engine, Session
from runbook.format.times import when
from runbook.i18n import _
from runbook.tui.app import RunbookApp
from runbook.tui.desk import Desk
from runbook.tui.journal import last_action
from runbook.tui.view import Snapshot


def operator_app(engine: Engine, resumed: bool, *, interval: float | None = 1.0,
                 keymap: dict[str, str] | None = None, freeze_gc: bool = False) -> RunbookApp:
    """`runbook run`: the operator's screen on ``engine``."""
    desk = Desk(engine, mode="run", resumed=resumed)
    actor = engine.actor
    label = engine.info.label
    text = (_("OPERATOR {who} · REHEARSAL run {run}") if label == "rehearsal" else
            _("OPERATOR {who} · LIVE run {run}") if label == "live" else
            _("OPERATOR {who} · {label} run {run}")).format(
        who=f"{actor.name}@{actor.host}", label=label.upper(), run=engine.run_id)
    welcome = None
    if resumed:
        state = engine.state
        now = engine.clock.now()
        started = when(state.started_at, engine.plan.timezone, now) if state.started_at else "--:--"
        done = len(state.ids("completed", "skipped"))
        text = _("REATTACHED · {mode} · started {time}").format(mode=text, time=started)
        welcome = _("Reattached to the unfinished run {run} (started {time}, {done} steps done, "
                    "{events} events). Nothing was lost.").format(
            run=engine.run_id, time=started, done=done, events=state.last_seq)
    else:
        welcome = _("New run started. space starts the first step; ? shows every key.")
    return RunbookApp(desk, mode_text=text, interval=interval, keymap=keymap, welcome=welcome,
                      freeze_gc=freeze_gc)


def watch_app(session: Session, *, interval: float | None = 1.0,
              freeze_gc: bool = False) -> RunbookApp:
    """`runbook watch`: the same screen, read-only, following the run."""
    desk = Desk(session, mode="watch")

    def text(snap: Snapshot | None) -> str:
        ops = ", ".join(snap.operators) if snap is not None and snap.operators else "-"
        last = f"{last_action(snap.state, snap.now)} · " if snap is not None else ""
        return _("WATCHING — read-only · {last}operator {operators} · run {run} · q quits").format(
            last=last, operators=ops, run=session.run_id)

    return RunbookApp(desk, mode_text=text, interval=interval, freeze_gc=freeze_gc,
                      welcome=_("Watching read-only: the screen follows the operator's actions."))
