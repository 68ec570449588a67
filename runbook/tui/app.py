"""The Textual app: settings, bindings, commands, screens. Logic lives in desk.py and view.py.

Refresh: a timer (1 Hz; the demo runs faster) starts :meth:`RunbookApp.refresh_worker`, a
``@work(thread=True, exclusive=True)`` worker that calls :meth:`Desk.refresh` (sync, director,
tick, forecast) under the desk's lock and posts a :class:`Refreshed` message, which replaces an
unhandled predecessor in the queue. Actions run on the UI thread through the same lock and show
their result only after the engine has committed the event. Tests call :meth:`refresh_now`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from functools import partial
from typing import ClassVar

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.events import Key
from textual.message import Message
from textual.screen import Screen
from textual.worker import get_current_worker

from runbook.engine.run import ActionRefused
from runbook.store import StoreError
from runbook.tui.desk import OPERATOR_ACTIONS, Desk, Outcome
from runbook.tui.dialogs import ConfirmScreen, HelpScreen, PickScreen
from runbook.tui.screens import MainScreen
from runbook.tui.text import clean, markup
from runbook.tui.view import RANK, Snapshot


class Refreshed(Message):
    """A new snapshot from the refresh worker; a newer one replaces it in the queue."""

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, Refreshed)


class RefreshFailed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


def parse_keymap(text: str | None) -> dict[str, str]:
    """``RUNBOOK_KEYMAP`` (``complete=x;fail=ctrl+f``) as a Textual keymap."""
    keymap: dict[str, str] = {}
    for part in (text or "").split(";"):
        if "=" in part:
            binding_id, keys = part.split("=", 1)
            if binding_id.strip() and keys.strip():
                keymap[binding_id.strip()] = keys.strip()
    return keymap


class RunbookApp(App[None]):
    """`runbook run`, `runbook watch` and `runbook demo`: one screen, three modes."""

    CSS_PATH = "app.tcss"
    TITLE = "runbook"
    ENABLE_COMMAND_PALETTE = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "advance", "Next", key_display="space", id="advance",
                tooltip="Complete the running step and start the next ready one"),
        Binding("s", "start", "Start", id="start",
                tooltip="Start the selected ready step (parallel tracks) or retry a failed one"),
        Binding("d", "complete", "Done", id="complete", tooltip="Complete the selected running step"),
        Binding("f", "fail", "Fail", id="fail", tooltip="Mark the selected running step failed"),
        Binding("k", "skip", "Skip", id="skip", tooltip="Skip the selected step (asks first)"),
        Binding("n", "note", "Note", id="note", tooltip="Add a note to the selected step"),
        Binding("c", "trigger", "Contingency", id="trigger",
                tooltip="Trigger a contingency path (asks first)"),
        Binding("y", "copy_command", "Copy cmd", id="copy", show=False,
                tooltip="Copy the selected step's command (runbook never runs it)"),
        Binding("l", "toggle_log", "Log", id="log", show=False,
                tooltip="Show the alert history and notes"),
        Binding("p", "pause", "Pause", id="pause", tooltip="Pause or resume the demo"),
        Binding("question_mark", "help", "Help", key_display="?", id="help",
                tooltip="Keys, levels and symbols"),
        Binding("q", "quit", "Quit", id="quit",
                tooltip="Quit at once; the run stays in the store and resumes with runbook run"),
        Binding("escape", "hide_banner", "Hide alert", id="hide_banner", show=False,
                tooltip="Hide the alert banner until the level worsens again"),
    ]

    DESCRIPTIONS: ClassVar[dict[str, str]] = {
        "advance": "Next: complete the running step, start the next",
        "start": "Start the selected step",
        "complete": "Done: complete the selected step",
        "fail": "Mark the selected step failed",
        "skip": "Skip the selected step…",
        "note": "Add a note…",
        "trigger": "Trigger a contingency…",
        "copy_command": "Copy the selected step's command",
        "toggle_log": "Show or hide the alert history and notes",
        "help": "Help: keys, levels, symbols",
        "quit": "Quit (the run stays resumable)",
    }

    def __init__(self, desk: Desk, *, mode_text: str | Callable[[Snapshot | None], str] = "",
                 interval: float | None = 1.0,
                 keymap: dict[str, str] | None = None, welcome: str | None = None) -> None:
        super().__init__()
        self.desk = desk
        self.mode_text = mode_text
        self.interval = interval
        self.snapshot: Snapshot | None = None
        self._min_seq = 0
        self._welcome = welcome
        self._keymap = keymap if keymap is not None else parse_keymap(os.environ.get("RUNBOOK_KEYMAP"))
        self.main = MainScreen(mode_text(None) if callable(mode_text) else mode_text)
        self.main.add_class(f"-{desk.mode}")

    # -- life cycle ------------------------------------------------------------------------
    def on_mount(self) -> None:
        if self._keymap:
            self.set_keymap(self._keymap)
        self.push_screen(self.main)
        if self._welcome:
            self.notify(self._welcome, timeout=8)
        if self.interval:
            self.set_interval(self.interval, self.refresh_worker, name="refresh")
            self.refresh_worker()

    def notify(self, message: str, *, title: str = "", severity="information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Every toast is plain text (user text inside is never parsed as markup)."""
        super().notify(clean(message), title=clean(title), severity=severity, timeout=timeout,
                       markup=False)

    @property
    def clock(self):
        return self.desk.session.clock

    @work(thread=True, exclusive=True, group="refresh", exit_on_error=False)
    def refresh_worker(self) -> None:
        """Off the UI thread: sync, tick, forecast; the result goes back as a message."""
        worker = get_current_worker()
        try:
            snapshot = self.desk.refresh()
        except Exception as e:  # a store that went away, a disk error: say it, keep the screen
            self.post_message(RefreshFailed(str(e)))
            return
        if not worker.is_cancelled:
            self.post_message(Refreshed(snapshot))

    def refresh_now(self) -> Snapshot:
        """Refresh on the calling thread (tests, screenshots): the same work, no timer."""
        snapshot = self.desk.refresh()
        self.show(snapshot)
        return snapshot

    @on(Refreshed)
    def _refreshed(self, message: Refreshed) -> None:
        self.show(message.snapshot)

    @on(RefreshFailed)
    def _refresh_failed(self, message: RefreshFailed) -> None:
        self.notify(message.error, title="Refresh failed", severity="error", timeout=10)

    def show(self, snapshot: Snapshot) -> None:
        if snapshot.seq < self._min_seq:
            return  # computed before an action the screen already shows
        previous = self.snapshot
        self.snapshot = snapshot
        if previous is not None and RANK[snapshot.level] > RANK[previous.level]:
            self.bell()
            self.main.hidden_level = None
        if self.main.is_mounted and self.screen_stack:
            if callable(self.mode_text):
                self.main.set_mode_text(self.mode_text(snapshot))
            self.main.show(snapshot)
            self.sync_bindings()

    # -- availability ----------------------------------------------------------------------
    @property
    def selected(self) -> str | None:
        return self.main.selected if self.main.is_mounted else None

    def why_not(self, action: str) -> str | None:
        state = self.snapshot.state if self.snapshot is not None else None
        if state is None and not self.desk.readonly_reason:
            return "the run is still loading"
        return self.desk.why_not(action, self.selected, state=state)

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
            self.refuse(self.why_not(action) or "not available now")
            event.stop()

    def operator_action_for(self, key: str) -> str | None:
        """The operator action bound to ``key`` (keymap applied), if any."""
        for binding in self._bindings_list():
            keys = self._keymap.get(binding.id or "", binding.key)
            if binding.action in OPERATOR_ACTIONS and key in [k.strip() for k in keys.split(",")]:
                return binding.action
        return None

    def refuse(self, reason: str) -> None:
        self.bell()
        self.notify(reason[:1].upper() + reason[1:], title="Not recorded", severity="warning")

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

    # -- actions ---------------------------------------------------------------------------
    def _run(self, fn: Callable[[], Outcome]) -> bool:
        """Perform an engine action; show it only after the engine returned."""
        try:
            outcome = fn()
        except ActionRefused as e:
            self.refuse(str(e))
            return False
        except StoreError as e:
            self.bell()
            self.notify(f"{e}", title="NOT RECORDED", severity="error", timeout=20)
            return False
        self._min_seq = outcome.seq
        self.notify(outcome.message, timeout=4)
        self.show(self.desk.view())
        if self.interval:
            self.refresh_worker()
        return True

    def _attempt(self, action: str) -> bool:
        reason = self.why_not(action)
        if reason:
            self.refuse(reason)
            return False
        return True

    def action_advance(self) -> None:
        if self._attempt("advance"):
            self._run(lambda: self.desk.advance(self.selected))

    def action_start(self) -> None:
        if self._attempt("start"):
            step = self.selected
            self._run(lambda: self.desk.start(step))

    def action_complete(self) -> None:
        if self._attempt("complete"):
            step = self.selected
            self._run(lambda: self.desk.complete(step))

    def action_fail(self) -> None:
        if self._attempt("fail"):
            step = self.selected
            self._run(lambda: self.desk.fail(step))

    def action_skip(self) -> None:
        if not self._attempt("skip"):
            return
        step = self.selected
        assert step is not None
        title = self.desk.plan.by_id[step].title

        def done(reason: str | None) -> None:
            if reason is not None:
                self._run(lambda: self.desk.skip(step, reason))

        self.push_screen(ConfirmScreen(
            f"Skip {step}?", f"{title}\n\nA skipped step counts as done: the steps after it can "
            "start. This is recorded and cannot be undone.", confirm="Skip"), done)

    def action_note(self) -> None:
        if not self._attempt("note"):
            return
        step = self.selected

        def done(text: str | None) -> None:
            if text:
                self._run(lambda: self.desk.note(text, step))

        where = f"on {step}" if step else "on the run"
        self.push_screen(ConfirmScreen(f"Note {where}", "Recorded with your name and the time.",
                                       confirm="Record", reason="Note text", require_text=True,
                                       danger=False), done)

    def action_trigger(self) -> None:
        if not self._attempt("trigger"):
            return
        options = self.desk.plan.contingencies
        if len(options) == 1:
            self._confirm_trigger(options[0])
            return
        titles = [(c, f"{c}: {self.desk.plan.path_titles[c]}") for c in options]
        self.push_screen(PickScreen("Which contingency?", titles),
                         lambda c: c and self._confirm_trigger(c))

    def _confirm_trigger(self, contingency: str) -> None:
        reason = self.desk.why_not("trigger", contingency=contingency,
                                   state=self.snapshot.state if self.snapshot else None)
        if reason:
            self.refuse(reason)
            return
        plan = self.desk.plan
        snap = self.snapshot
        body = [plan.path_titles[contingency], ""]
        if snap is not None:
            left = len([r for r in snap.rows if r.step.path == "main"
                        and r.st.status not in ("completed", "skipped")])
            body.append(f"The {left} unfinished main steps are abandoned and the "
                        f"{len(plan.paths[contingency])} {contingency} steps begin.")
            fc = snap.forecast
            if fc is not None and fc.contingency == contingency and fc.contingency_need_s:
                body.append(snap.contingency_line())
        body.append("This cannot be undone.")
        self.push_screen(
            ConfirmScreen(f"Trigger {contingency}?", "\n".join(body), confirm=f"Trigger {contingency}"),
            lambda note: note is not None and self._run(lambda: self.desk.trigger(contingency, note)))

    def action_copy_command(self) -> None:
        row = self.snapshot.row(self.selected) if self.snapshot else None
        if row is None or not row.step.command:
            self.refuse("the selected step has no command")
            return
        self.copy_to_clipboard(row.step.command)
        self.notify(f"Copied the command of {row.id} (runbook never runs it).", timeout=3)

    def action_toggle_log(self) -> None:
        self.main.toggle_log()

    def action_hide_banner(self) -> None:
        self.main.hide_banner()
        self.sync_bindings()

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.key_help()))

    def action_pause(self) -> None:
        director = self.desk.director
        if director is not None and hasattr(director, "toggle_pause"):
            paused = director.toggle_pause()
            self.notify("Demo paused: p resumes." if paused else "Demo resumed.", timeout=3)

    def key_help(self) -> list[tuple[str, str, str]]:
        """(key as currently mapped, what it does, binding id) for every binding."""
        out = []
        keymap = self._keymap
        for binding in self._bindings_list():
            if binding.action == "pause" and self.desk.mode != "demo":
                continue
            key = keymap.get(binding.id or "", binding.key_display or binding.key)
            key = "?" if key == "question_mark" else key
            out.append((key, binding.tooltip or binding.description, binding.id or ""))
        return out

    def _bindings_list(self) -> list[Binding]:
        return list(Binding.make_bindings(self.BINDINGS))

    # -- command palette -------------------------------------------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for binding in self._bindings_list():
            if binding.action == "pause" and self.desk.mode != "demo":
                continue
            title = self.DESCRIPTIONS.get(binding.action, binding.description)
            key = self._keymap.get(binding.id or "", binding.key_display or binding.key)
            yield SystemCommand(title, markup(f"{binding.tooltip} [{key}]"),
                                partial(self.run_palette_action, binding.action))
        yield from super().get_system_commands(screen)

    async def run_palette_action(self, action: str) -> None:
        """A palette command runs the key's action; an unavailable one says why, like its key."""
        if action in OPERATOR_ACTIONS and (reason := self.why_not(action)):
            self.refuse(reason)
            return
        await self.run_action(action)
