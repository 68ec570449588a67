"""The app's keys: bindings, their palette titles, the keymap (``RUNBOOK_KEYMAP``), help.

Every key is a Binding with an id and a tooltip (marked for the catalogue with ``N_``); the
footer, the help screen and the command palette are made from them, in the current language.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING

from textual.app import SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from runbook.i18n import N_, _
from runbook.tui.operator import OPERATOR_ACTIONS
from runbook.tui.text import markup, tr

if TYPE_CHECKING:
    from runbook.tui.app import RunbookApp

# Textual's own palette commands (titles and help as Textual 8 words them), for the catalogue;
# a command Textual adds or rewords later shows in English.
TEXTUAL_COMMANDS = (
    N_("Bell"), N_("Ring the bell"), N_("Theme"), N_("Change the current theme"), N_("Quit"),
    N_("Quit the application as soon as possible"), N_("Keys"),
    N_("Hide the keys and widget help panel"),
    N_("Show help for the focused widget and a summary of available keys"), N_("Minimize"),
    N_("Minimize the widget and restore to normal size"), N_("Maximize"),
    N_("Maximize the focused widget"), N_("Screenshot"),
    N_("Save an SVG 'screenshot' of the current screen"),
)


BINDINGS: list[BindingType] = [
    Binding("space", "advance", N_("Next"), key_display="space", id="advance",
            tooltip=N_("Complete the running step and start the next ready one")),
    Binding("s", "start", N_("Start"), id="start",
            tooltip=N_("Start the selected ready step (parallel tracks) or retry a failed one")),
    Binding("d", "complete", N_("Done"), id="complete", tooltip=N_("Complete the selected running step")),
    Binding("f", "fail", N_("Fail"), id="fail",
            tooltip=N_("Mark the selected running step failed (asks what went wrong)")),
    Binding("k", "skip", N_("Skip"), id="skip", tooltip=N_("Skip the selected step (asks first)")),
    Binding("n", "note", N_("Note"), id="note", tooltip=N_("Add a note to the selected step")),
    Binding("c", "trigger", N_("Contingency"), id="trigger",
            tooltip=N_("Trigger a contingency path (asks first)")),
    Binding("u", "undo", N_("Undo"), id="undo",
            tooltip=N_("Undo your last action within a minute (recorded as a correction)")),
    Binding("a", "abort", N_("Abort"), id="abort", show=False,
            tooltip=N_("Abort the run, NO-GO (asks for the reason)")),
    Binding("y", "copy_command", N_("Copy cmd"), id="copy", show=False,
            tooltip=N_("Copy the selected step's command (runbook never runs it)")),
    Binding("t", "copy_notice", N_("Notice"), id="notice", show=False,
            tooltip=N_("Copy the customer notice for this level (recorded for the report)")),
    Binding("l", "toggle_log", N_("Log"), id="log", show=False,
            tooltip=N_("Show the run's whole timeline: who did what, alerts, notes")),
    Binding("p", "pause", N_("Pause"), id="pause", tooltip=N_("Pause or resume the demo")),
    Binding("question_mark", "help", N_("Help"), key_display="?", id="help",
            tooltip=N_("Keys, levels and symbols")),
    Binding("q", "quit", N_("Quit"), id="quit",
            tooltip=N_("Quit at once; the run stays in the store and resumes with runbook run")),
    Binding("escape", "hide_banner", N_("Hide alert"), id="hide_banner", show=False,
            tooltip=N_("Hide the alert banner until the level worsens again")),
]

DESCRIPTIONS: dict[str, str] = {
    "advance": N_("Next: complete the running step, start the next"),
    "start": N_("Start the selected step"),
    "complete": N_("Done: complete the selected step"),
    "fail": N_("Mark the selected step failed…"),
    "skip": N_("Skip the selected step…"),
    "note": N_("Add a note…"),
    "trigger": N_("Trigger a contingency…"),
    "undo": N_("Undo my last action"),
    "abort": N_("Abort the run (NO-GO)…"),
    "copy_command": N_("Copy the selected step's command"),
    "copy_notice": N_("Copy the customer notice (recorded)"),
    "toggle_log": N_("Show or hide the run's timeline"),
    "help": N_("Help: keys, levels, symbols"),
    "quit": N_("Quit (the run stays resumable)"),
}


def parse_keymap(text: str | None, known: Iterable[str] = ()) -> tuple[dict[str, str], list[str]]:
    """``RUNBOOK_KEYMAP`` (``complete=x;fail=ctrl+f``) as a Textual keymap, and a warning for
    every entry that is not ``id=key`` with a known binding id (``known``; empty: any id)."""
    keymap: dict[str, str] = {}
    warnings: list[str] = []
    known = set(known)
    for part in (text or "").split(";"):
        if not part.strip():
            continue
        binding_id, _eq, keys = part.partition("=")
        binding_id, keys = binding_id.strip(), keys.strip()
        if not binding_id or not keys:
            warnings.append(_("RUNBOOK_KEYMAP: {entry} is not id=key; ignored").format(
                entry=repr(part.strip())))
        elif known and binding_id not in known:
            warnings.append(_("RUNBOOK_KEYMAP: no key has the id {id} (ids: {ids}); ignored"
                              ).format(id=repr(binding_id), ids=", ".join(sorted(known))))
        else:
            keymap[binding_id] = keys
    return keymap, warnings


class KeyHelp:
    """Mixed into :class:`RunbookApp`: which action a key is, help and the command palette."""

    def operator_action_for(self: RunbookApp, key: str) -> str | None:
        """The operator action bound to ``key`` (keymap applied), if any."""
        for binding in self._bindings_list():
            keys = self._keymap.get(binding.id or "", binding.key)
            if binding.action in OPERATOR_ACTIONS and key in [k.strip() for k in keys.split(",")]:
                return binding.action
        return None

    def _listed(self: RunbookApp, binding: Binding) -> bool:
        """Help and the palette list what this screen can do: no run-changing action in watch
        or demo mode, no pause outside the demo."""
        if binding.action == "pause":
            return self.desk.mode == "demo"
        return not (binding.action in OPERATOR_ACTIONS and self.desk.readonly_reason)

    def key_help(self: RunbookApp) -> list[tuple[str, str, str]]:
        """(key as currently mapped, what it does, binding id) for every listed binding."""
        out = []
        for binding in self._bindings_list():
            if not self._listed(binding):
                continue
            key = self._keymap.get(binding.id or "", binding.key_display or binding.key)
            key = "?" if key == "question_mark" else key
            out.append((key, tr(binding.tooltip or binding.description) or "", binding.id or ""))
        return out

    def _bindings_list(self: RunbookApp) -> list[Binding]:
        return list(Binding.make_bindings(self.BINDINGS))

    # -- command palette -------------------------------------------------------------------
    def get_system_commands(self: RunbookApp, screen: Screen) -> Iterable[SystemCommand]:
        for binding in self._bindings_list():
            if not self._listed(binding):
                continue
            title = tr(self.DESCRIPTIONS.get(binding.action, binding.description)) or ""
            key = self._keymap.get(binding.id or "", binding.key_display or binding.key)
            yield SystemCommand(title, markup(f"{tr(binding.tooltip)} [{key}]"),
                                partial(self.run_palette_action, binding.action))
        for command in super().get_system_commands(screen):  # Textual's own: theme, keys, quit
            yield command._replace(title=tr(command.title) or "", help=tr(command.help) or "")

    async def run_palette_action(self: RunbookApp, action: str) -> None:
        """A palette command runs the key's action; an unavailable one says why, like its key."""
        if action in OPERATOR_ACTIONS and (reason := self.why_not(action)):
            self.refuse(reason)
            return
        await self.run_action(action)
