"""The Textual app: settings, bindings, commands, screens. Logic lives in desk.py and view.py;
the actions that change the run (and their save worker) in actions.py.

Start-up: the first frame is drawn before anything else runs. The run itself may still be
loading (the desk is an :class:`~runbook.tui.operator.Opening`, for `runbook run` and `watch`):
the first refresh, in the worker, loads it, posts the steps as they stand (the forecast panel
says "computing…"), then computes the forecast and posts that. Nothing of the domain is imported
before the first frame (it costs a tenth of a second: the runbook model).

Refresh: a timer (1 Hz; the demo runs faster) calls :meth:`RunbookApp.tick`, which starts
:meth:`RunbookApp.refresh_worker`, a thread worker that calls :meth:`Desk.refresh` (sync,
director, tick, forecast) under the desk's lock and posts a :class:`Refreshed` message. While a
refresh or a save is still under way (the store can be locked by another process for seconds),
the tick does not pile up threads: it redraws the header clock and the "saving…" line only, so
the screen never freezes. Tests call :meth:`refresh_now`.

Garbage collection: a full collection walks every object the process holds, and holds the
interpreter lock while it does (at 10,000 steps, 0.3-0.4 s in which neither the screen nor a key
moves). What a run loads at start-up (plan, events, the table's rows) lives as long as the run,
so with ``freeze_gc`` (the commands set it) the app moves it out of the collector's sight
(``gc.freeze``) as it is made: in the first refresh once the run is loaded, once its steps are
built and once its first forecast is; as the table's rows are added. Later collections walk
only what came after.

Messages to the operator go to the message line above the timeline, never to toasts: a toast
covers the timeline, the step details or a dialog.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import App
from textual.binding import BindingType
from textual.content import Content
from textual.events import Key
from textual.message import Message

from runbook.i18n import _
from runbook.tui.actions import OperatorActions
from runbook.tui.asking import Asks
from runbook.tui.dialogs import HelpScreen
from runbook.tui.keys import BINDINGS, DESCRIPTIONS, KeyHelp, parse_keymap
from runbook.tui.operator import OPERATOR_ACTIONS, Opening
from runbook.tui.screens import MainScreen
from runbook.tui.steps import StepsTable
from runbook.tui.text import clean, translate_bindings

if TYPE_CHECKING:
    from runbook.tui.desk import Desk
    from runbook.tui.view import Snapshot

BELL_GAP_S = 10.0  # worse levels within this many seconds of a bell ring it once


class Refreshed(Message):
    """A new snapshot from the refresh worker; a newer one replaces it in the queue. ``final``:
    the worker is done (False for the steps it posts before the first forecast)."""

    def __init__(self, snapshot: Snapshot, final: bool = True) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.final = final

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, Refreshed)


class Opened(Message):
    """The run is loaded: the desk to use from now on (None: the operator quit before it was
    opened, at a question the opening asked)."""

    def __init__(self, desk: Desk | None) -> None:
        super().__init__()
        self.desk = desk


class OpenFailed(Message):
    """The run could not be loaded: the app stops and the command says why."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error


class RefreshFailed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class RunbookApp(Asks, OperatorActions, KeyHelp, App[None]):
    """`runbook run`, `runbook watch` and `runbook demo`: one screen, three modes."""

    CSS_PATH = "app.tcss"
    TITLE = "runbook"
    ENABLE_COMMAND_PALETTE = True

    BINDINGS: ClassVar[list[BindingType]] = BINDINGS
    DESCRIPTIONS: ClassVar[dict[str, str]] = DESCRIPTIONS

    def __init__(self, desk: Desk | Opening, *,
                 mode_text: str | Callable[[Snapshot | None], str] = "",
                 interval: float | None = 1.0, keymap: dict[str, str] | None = None,
                 welcome: str | Callable[[Snapshot], str] | None = None,
                 monotonic: Callable[[], float] = time.monotonic,
                 freeze_gc: bool = False) -> None:
        """``welcome``: said at start, or (a function of the first snapshot) once the run is
        loaded; ``freeze_gc``: see the module's docstring."""
        super().__init__()
        translate_bindings(self)  # the footer's words in the current language
        self.desk = desk
        self.mode_text = mode_text
        self.interval = interval
        self.monotonic = monotonic  # only for telling a bounced key from two presses
        self.snapshot: Snapshot | None = None
        self.failure: Exception | None = None  # why the run could not be loaded
        self._viewed = False  # the refresh worker has posted the steps once
        self.said: list[str] = []  # every message shown on the message line, oldest first
        self._min_seq = 0
        self._welcome = welcome
        self._refreshing = False
        self._warned = False
        self._bell_at = None
        self._warnings: list[str] = []
        if keymap is None:
            ids = [b.id for b in self._bindings_list() if b.id]
            keymap, self._warnings = parse_keymap(os.environ.get("RUNBOOK_KEYMAP"), ids)
        self._keymap = keymap
        self.freeze_gc = freeze_gc
        self._settled: set[str] = set()  # what of the start-up is on screen (see freeze_gc)
        self._timeline_width = 0  # the timeline strip's, as the last tick saw it
        self.main = MainScreen(mode_text(None) if callable(mode_text) else mode_text,
                               title=getattr(desk, "title", ""))
        self.main.add_class(f"-{desk.mode}")
        if not desk.readonly_reason:
            self.main.notice_key = keymap.get("notice", "t") if keymap else "t"

    # -- life cycle ------------------------------------------------------------------------
    def on_mount(self) -> None:
        if self._keymap:
            self.set_keymap(self._keymap)
        self._freeze()  # what exists as the screen mounts (a session given open, imports)
        self.push_screen(self.main)
        if self._welcome and not callable(self._welcome):
            self.say(self._welcome)
        elif self._welcome:
            self.say(_("Loading the run…"))
        for warning in self._warnings:
            self.say(warning, "warning")
        if self.interval:
            self.set_interval(self.interval, self.tick, name="refresh")
            self.call_after_refresh(self.tick)  # the first frame first

    def say(self, text: str | Content, kind: str = "information") -> None:
        """One line on the message line (replacing the last); kept in :attr:`said` for tests."""
        self.said.append(text.plain if isinstance(text, Content) else clean(text))
        if self.main.is_mounted:
            self.main.say(text, kind)
        else:
            self.main.pending = (text, kind)

    def notify(self, message: str, *, title: str = "", severity="information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Anything that still asks for a toast goes to the message line instead."""
        self.say(f"{title}: {message}" if title else message,
                 "error" if severity == "error" else "warning" if severity == "warning"
                 else "information")

    @property
    def clock(self):
        return self.desk.session.clock

    def tick(self) -> None:
        """The timer: refresh in a worker, unless one is still running or a save waits."""
        if self._refreshing or self.saving is not None:
            snap = self.snapshot
            if snap is not None and self.main.is_mounted:
                self.main.show_clock(dataclasses.replace(snap, now=max(snap.now, self.clock.now())))
            if self.saving is not None:
                self.saving_line()
            return
        self._refreshing = True
        if self.main.is_mounted:  # for the worker: the first snapshot's timeline at this width
            self._timeline_width = self.main.timeline_width
        self.refresh_worker()

    @work(thread=True, group="refresh", exit_on_error=False)
    def refresh_worker(self) -> None:
        """Off the UI thread: sync, tick, forecast; the result goes back as a message. The first
        time, the run is loaded (if it is not yet) and its steps posted before the forecast."""
        desk = self.desk
        if isinstance(desk, Opening):
            try:
                desk = desk.open()
            except Exception as e:  # the command says why, as it would have before the screen
                self.post_message(OpenFailed(e))
                return
            self.post_message(Opened(desk))
            if desk is None:  # the operator quit at a question: nothing was opened
                return
        if not desk.timeline_width:
            desk.timeline_width = self._timeline_width
        try:
            if not self._viewed:
                self._viewed = True
                self._freeze()  # the run as loaded
                self.post_message(Refreshed(desk.view(), final=False))  # the forecast next
                self._freeze()  # its steps
                snapshot = desk.refresh()
                self._freeze()  # the forecaster's samples and paths
            else:
                snapshot = desk.refresh()
        except Exception as e:  # a store that went away, a disk error: say it, keep the screen
            self.post_message(RefreshFailed(str(e)))
            return
        self.post_message(Refreshed(snapshot))

    def refresh_now(self) -> Snapshot:
        """Refresh on the calling thread (tests, screenshots): the same work, no timer."""
        snapshot = self.desk.refresh()
        self.show(snapshot)
        return snapshot

    @on(Refreshed)
    def _refreshed(self, message: Refreshed) -> None:
        if message.final:
            self._refreshing = False
        self.show(message.snapshot)

    @on(Opened)
    def _opened(self, message: Opened) -> None:
        if message.desk is None:
            self.exit()
            return
        self.desk = message.desk

    @on(OpenFailed)
    def _open_failed(self, message: OpenFailed) -> None:
        self.failure = message.error
        self.exit(return_code=2)

    @on(RefreshFailed)
    def _refresh_failed(self, message: RefreshFailed) -> None:
        self._refreshing = False
        self.say(_("Refresh failed: {error}").format(error=message.error), "error")

    def show(self, snapshot: Snapshot) -> None:
        from runbook.tui.view import RANK  # the domain: loaded by the refresh, not at start-up

        if snapshot.seq < self._min_seq:
            return  # computed before an action the screen already shows
        previous = self.snapshot
        self.snapshot = snapshot
        if callable(self._welcome):  # the run is loaded: say what it is
            self.say(self._welcome(snapshot))
            self._welcome = None
        if previous is not None and RANK[snapshot.level] > RANK[previous.level]:
            self.main.hidden_level = None
            if self._bell_at is None or (snapshot.now - self._bell_at).total_seconds() > BELL_GAP_S:
                self.bell()  # worse levels seconds apart: one bell
                self._bell_at = snapshot.now
        if self.main.is_mounted and self.screen_stack:
            text = self.mode_text(snapshot) if callable(self.mode_text) else self.mode_text
            if callable(self.mode_text) or snapshot.warnings or self._warned:
                self.main.set_mode_text(text, snapshot.warnings)
                self._warned = bool(snapshot.warnings)
            self.main.show(snapshot)
            self.desk.timeline_width = self.main.timeline_width  # the next snapshot's
            self.sync_bindings()
            self.settle("steps")
            if snapshot.forecast is not None:
                self.settle("forecast")

    def settle(self, what: str) -> None:
        """Part of the start-up is on screen: freeze what is loaded so far (see freeze_gc)."""
        if what not in self._settled:
            self._settled.add(what)
            self._freeze()

    def _freeze(self) -> None:
        if self.freeze_gc:
            gc.freeze()

    @on(StepsTable.Grew)
    def _grew(self, message: StepsTable.Grew) -> None:
        if "table" not in self._settled:  # rows added at start-up: for the whole run
            self.settle("table" if message.done else "rows")
            self._settled.discard("rows")

    # -- availability ----------------------------------------------------------------------
    @property
    def selected(self) -> str | None:
        return self.main.selected if self.main.is_mounted else None

    def why_not(self, action: str) -> str | None:
        snap = self.snapshot
        if self.saving is not None and action in OPERATOR_ACTIONS:
            return _("still saving {what}; wait for it to be recorded").format(what=self.saving)
        if snap is None and not self.desk.readonly_reason:
            return _("the run is still loading")
        if action == "copy_notice" and not self.desk.readonly_reason and (
                snap is None or snap.notice is None):
            comms = self.desk.plan.runbook.comms
            if comms is None:
                return _("this runbook has no customer notices (add a comms: section)")
            return _("no customer notice for {level} in the runbook's comms:").format(
                level=snap.word if snap else _("this level"))
        return self.desk.why_not(action, self.selected, state=snap.state if snap else None,
                                 now=snap.now if snap else None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in OPERATOR_ACTIONS:
            if self.desk.readonly_reason:
                return False  # watch and demo: not in the footer; the key still says why
            return True if self.why_not(action) is None else None  # None: shown dimmed
        if action == "hide_banner":
            return self.main.is_mounted and self.main.banner_visible
        if action == "pause":
            return self.desk.mode == "demo"
        if action == "copy_command":
            row = self.snapshot.row(self.selected) if self.snapshot else None
            return True if row is not None and row.step.command else None
        return True

    def on_key(self, event: Key) -> None:
        """An unavailable operator key still answers: it says why (check_action decides)."""
        if self.screen is not self.main:
            return
        active = self.screen.active_bindings.get(event.key)
        if active is not None and active.enabled:
            return  # the binding ran
        action = self.operator_action_for(event.key)
        if action is not None:
            self.refuse(self.why_not(action) or _("not available now"))
            event.stop()

    def refuse(self, reason: str) -> None:
        self.bell()
        self.say(_("Not recorded: {reason}").format(reason=reason[:1].upper() + reason[1:]),
                 "warning")

    def sync_bindings(self) -> None:
        """Refresh the footer only when a key's availability changed (a refresh recomposes
        the footer; doing it every second would churn widgets for nothing)."""
        if not self.screen_stack:
            return
        state = tuple(self.check_action(b.action, ()) for b in self._bindings_list())
        if state != getattr(self, "_binding_state", None):
            self._binding_state = state
            self.refresh_bindings()

    @on(MainScreen.Selected)
    def _selected(self) -> None:
        self.sync_bindings()

    # -- the keys that change nothing ------------------------------------------------------
    def action_toggle_log(self) -> None:
        self.main.toggle_log()

    def action_hide_banner(self) -> None:
        self.main.hide_banner()
        self.sync_bindings()

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.key_help(), readonly=self.desk.readonly_reason))

    def action_pause(self) -> None:
        director = self.desk.director
        if director is not None and hasattr(director, "toggle_pause"):
            paused = director.toggle_pause()
            self.say(_("Demo paused: p resumes.") if paused else _("Demo resumed."))
