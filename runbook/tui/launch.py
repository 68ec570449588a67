"""Build the app for each command: the operator's run, a read-only watch. (The demo: demo.py.)

``operator_app`` and ``watch_app`` take a session already open (tests, benches). The commands use
``opening_operator_app`` and ``opening_watch_app``: the screen appears first and the run is
loaded by the app's first refresh, off the UI thread (see :mod:`runbook.tui.app`). Nothing here
imports the domain at the top, for the same reason.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from runbook.i18n import N_, _, ngettext
from runbook.tui.app import RunbookApp
from runbook.tui.operator import Opening

if TYPE_CHECKING:
    from runbook.engine.actor import Actor
    from runbook.engine.run import Engine, Session
    from runbook.startup import Ask
    from runbook.tui.view import Snapshot


def _operator_text(who: str, label: str, run: str) -> str:
    return (_("OPERATOR {who} · REHEARSAL run {run}") if label == "rehearsal" else
            _("OPERATOR {who} · LIVE run {run}") if label == "live" else
            _("OPERATOR {who} · {label} run {run}")).format(who=who, label=label.upper(), run=run)


def _welcome(engine: Engine, resumed: bool) -> tuple[str, str]:
    """(mode line, welcome) for the operator's screen on ``engine``."""
    from runbook.format.times import when

    actor = engine.actor
    text = _operator_text(f"{actor.name}@{actor.host}", engine.info.label, engine.run_id)
    if not resumed:
        runs = (engine.info.meta.get("prior") or {}).get("runs") or 0
        if runs:  # the forecast starts from the store's past runs, as `check --db` says
            factor = math.exp(engine.info.meta["prior"].get("mu0", 0.0))
            return text, ngettext(
                "New run started; the forecast starts from {n} past run (steps {factor:.2f}x "
                "their likely estimate). space starts the first step; ? shows every key.",
                "New run started; the forecast starts from {n} past runs (steps {factor:.2f}x "
                "their likely estimate). space starts the first step; ? shows every key.",
                runs).format(n=runs, factor=factor)
        return text, _("New run started. space starts the first step; ? shows every key.")
    state = engine.state
    now = engine.clock.now()
    started = when(state.started_at, engine.plan.timezone, now) if state.started_at else "--:--"
    done = len(state.ids("completed", "skipped"))
    return (_("REATTACHED · {mode} · started {time}").format(mode=text, time=started),
            _("Reattached to the unfinished run {run} (started {time}, {done} steps done, "
              "{events} events). Nothing was lost.").format(
                run=engine.run_id, time=started, done=done, events=state.last_seq))


def operator_app(engine: Engine, resumed: bool, *, interval: float | None = 1.0,
                 keymap: dict[str, str] | None = None, freeze_gc: bool = False) -> RunbookApp:
    """`runbook run`: the operator's screen on ``engine``."""
    from runbook.tui.desk import Desk

    text, welcome = _welcome(engine, resumed)
    return RunbookApp(Desk(engine, mode="run", resumed=resumed), mode_text=text,
                      interval=interval, keymap=keymap, welcome=welcome, freeze_gc=freeze_gc)


def opening_operator_app(open_engine: Callable[[Ask], tuple[Engine, bool] | None], actor: Actor,
                         title: str, *, freeze_gc: bool = True) -> RunbookApp:
    """`runbook run` as the command starts it: the screen first, then ``open_engine`` (the
    store, the run, its forecaster) in the app's first refresh. ``open_engine`` is given a
    function that asks the window question in a dialog (see
    :func:`runbook.startup.confirm_window`); it returns None when the operator quits there, and
    the app closes. ``title``: the header's until the runbook is read."""
    said: dict[str, tuple[str, str]] = {}

    def ask(what: str, question: str, choices: str) -> str:
        from runbook.tui.dialogs import WindowScreen

        return app.ask(WindowScreen(what, question, choices)) or "q"

    def open_desk():
        from runbook.tui.desk import Desk

        opened = open_engine(ask)
        if opened is None:
            return None
        engine, resumed = opened
        said["it"] = _welcome(engine, resumed)
        return Desk(engine, mode="run", resumed=resumed)

    def text(snap: Snapshot | None) -> str:
        if "it" in said:
            return said["it"][0]
        return _("OPERATOR {who} · opening the run…").format(who=f"{actor.name}@{actor.host}")

    app = RunbookApp(Opening("run", open_desk, title=title), mode_text=text,
                     welcome=lambda snap: said["it"][1], freeze_gc=freeze_gc)
    return app


def _watch_text(run_id: str) -> Callable[[Snapshot | None], str]:
    def text(snap: Snapshot | None) -> str:
        ops = ", ".join(snap.operators) if snap is not None and snap.operators else "-"
        last = ""
        if snap is not None:
            from runbook.tui.journal import last_action

            last = f"{last_action(snap.state, snap.now)} · "
        return _("WATCHING — read-only · {last}operator {operators} · run {run} · q quits").format(
            last=last, operators=ops, run=run_id)
    return text


WATCH_WELCOME = N_("Watching read-only: the screen follows the operator's actions.")


def watch_app(session: Session, *, interval: float | None = 1.0,
              freeze_gc: bool = False) -> RunbookApp:
    """`runbook watch`: the same screen, read-only, following the run."""
    from runbook.tui.desk import Desk

    return RunbookApp(Desk(session, mode="watch"), mode_text=_watch_text(session.run_id),
                      interval=interval, freeze_gc=freeze_gc, welcome=_(WATCH_WELCOME))


def opening_watch_app(open_session: Callable[[], Session], run_id: str, title: str, *,
                      freeze_gc: bool = True) -> RunbookApp:
    """`runbook watch` as the command starts it: the screen first, then ``open_session``
    (reading the run's runbook, folding its events) in the app's first refresh."""
    def open_desk():
        from runbook.tui.desk import Desk

        return Desk(open_session(), mode="watch")

    return RunbookApp(Opening("watch", open_desk, title=title), mode_text=_watch_text(run_id),
                      freeze_gc=freeze_gc, welcome=_(WATCH_WELCOME))


class Opener:
    """Wraps the function that opens a run behind the screen (``@Opener()``), so that the
    command can wait for it before closing the store: the operator may quit while it runs."""

    def __init__(self) -> None:
        self._started, self._done = threading.Event(), threading.Event()

    def __call__(self, fn):
        def opened(*args, **kwargs):
            self._started.set()
            try:
                return fn(*args, **kwargs)
            finally:
                self._done.set()
        return opened

    def wait(self) -> None:
        if self._started.is_set():
            self._done.wait()
