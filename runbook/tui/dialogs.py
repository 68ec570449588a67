"""Modal dialogs: confirm (with a reason), pick one of several, help, the window question.

Every dialog closes once. Enter pressed three times in a row on a confirm dialog reaches it
three times (the Input's submit, the focused button, a key queued before the pop): Textual's
``dismiss`` would call the result callback again and pop the screen *under* the dialog, leaving a
blank screen or a traceback. :class:`Dialog` ignores every dismiss after the first and any dismiss
of a dialog that is not the active screen.
"""

from __future__ import annotations

from typing import TypeVar

from textual import on
from textual.app import ComposeResult
from textual.await_complete import AwaitComplete
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option

from runbook.format.cells import rjust
from runbook.i18n import N_, _
from runbook.tui.text import line, lines, plain, translate_bindings

R = TypeVar("R")


class Dialog(ModalScreen[R]):
    """A modal screen that dismisses at most once."""

    closed = False

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        translate_bindings(self)

    def dismiss(self, result: R | None = None) -> AwaitComplete:
        if self.closed or not self.is_active:
            return AwaitComplete.nothing()
        self.closed = True
        return super().dismiss(result)


class ConfirmScreen(Dialog[str | None]):
    """Ask before an action. Returns the reason typed (maybe empty) or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", N_("Cancel"),
                        tooltip=N_("Close without recording anything"))]

    def __init__(self, title: str, body: str | Content, *, confirm: str | None = None,
                 reason: str | None = N_("Reason (recorded with the event; optional)"),
                 require_text: bool = False, danger: bool = True) -> None:
        """``confirm``: the button (default "Confirm"); ``reason``: the input's placeholder,
        None for no input. Both in the current language."""
        super().__init__()
        self.title_text = title
        self.body = body
        self.confirm_label = confirm or _("Confirm")
        self.reason = _(reason) if reason else reason
        self.require_text = require_text
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="-danger" if self.danger else ""):
            yield Static(plain(self.title_text, "bold"), id="dialog-title")
            body = self.body if isinstance(self.body, Content) else plain(self.body)
            yield Static(body, id="dialog-body")
            if self.reason is not None:
                yield Input(placeholder=self.reason, id="dialog-input")
            error = Static(id="dialog-error")
            error.display = False
            yield error
            with Horizontal(id="dialog-buttons"):
                yield Button(plain(_("{label} (enter)").format(label=self.confirm_label),
                                   newlines=False), id="confirm",
                             variant="error" if self.danger else "primary")
                yield Button(plain(_("Cancel (esc)")), id="cancel")

    def on_mount(self) -> None:
        if self.reason is not None:
            self.query_one(Input).cursor_blink = False
            self.query_one(Input).focus()
        else:
            self.query_one("#confirm", Button).focus()

    def _value(self) -> str:
        return self.query_one(Input).value.strip() if self.reason is not None else ""

    def _confirm(self) -> None:
        value = self._value()
        if self.require_text and not value:
            error = self.query_one("#dialog-error", Static)
            error.update(plain(_("Type some text first (esc cancels)."), "bold $error"))
            error.display = True
            return
        self.dismiss(value)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self._confirm()

    @on(Button.Pressed, "#confirm")
    def _pressed_confirm(self) -> None:
        self._confirm()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class PickScreen(Dialog[str | None]):
    """Pick one of several options (the contingency to trigger); each option may be several
    lines (what it needs, its deadline, its outcome if chosen now)."""

    BINDINGS = [Binding("escape", "cancel", N_("Cancel"), tooltip=N_("Close without choosing"))]

    def __init__(self, title: str, options: list[tuple[str, str | Content]]) -> None:
        super().__init__()
        self.title_text = title
        self.options = options

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(plain(self.title_text, "bold"), id="dialog-title")
            yield OptionList(*[Option(text if isinstance(text, Content) else plain(text), id=key)
                               for key, text in self.options])
            yield Static(plain(_("enter picks · esc cancels"), "dim"))

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class WindowScreen(Dialog[str]):
    """`runbook run` on a window that is over or more than a day away: move it to now (y), keep
    the planned times (n), or quit (q, esc) before anything is recorded. The keys also as a
    Korean keyboard in Hangul mode types them (ㅛ, ㅜ, ㅂ). Returns "y", "n" or "q"."""

    BINDINGS = [Binding("y,ㅛ", "answer('y')", show=False),
                Binding("n,ㅜ", "answer('n')", show=False),
                Binding("q,ㅂ,escape", "answer('q')", show=False)]

    def __init__(self, said: str, question: str, choices: str) -> None:
        """The words of :func:`runbook.startup.confirm_window`, in the current language."""
        super().__init__()
        self.said, self.question = said, question
        self.choices = choices.rstrip().rstrip(":").rstrip()  # a prompt's colon: not here

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(plain(self.said), id="dialog-body")
            yield Static(plain(self.question, "bold"), id="dialog-title")
            yield Static(plain(self.choices), id="dialog-choices")

    def action_answer(self, key: str) -> None:
        self.dismiss(key)


LEVEL_HELP = (  # level (runbook.format.model.Level), what it means
    ("on_track", N_("P(resume by the announced time) is at least the runbook's confidence.")),
    ("at_risk", N_("P below confidence; the contingency can still be decided later.")),
    ("decide_now", N_("Within the decision lead of the contingency's last safe start.")),
    ("late", N_("No contingency can make it any more, or the announced time has passed.")),
    ("resumed", N_("The service-resuming step is complete.")),
)


class HelpScreen(Dialog[None]):
    """Keys (as remapped), what the levels mean, and the table's symbols."""

    BINDINGS = [Binding("escape,q,question_mark", "close", N_("Close"), tooltip=N_("Close help"))]

    def __init__(self, keys: list[tuple[str, str, str]], *, readonly: str | None = None) -> None:
        """``keys``: (key as mapped, what it does, binding id); ``readonly``: why this screen
        cannot change the run (watch, demo), shown instead of the operator's keys."""
        super().__init__()
        self.keys = keys
        self.readonly = readonly

    def compose(self) -> ComposeResult:
        from runbook.engine.risk import action, word
        from runbook.format.model import Level

        rows: list[Content] = [plain(_("Keys"), "bold")]
        if self.readonly:
            rows.append(plain(f"  {self.readonly}", "dim"))
        rows += [line((f"  {k:>7}", "bold"), f"  {text} ", (f"({i})", "dim"))
                 for k, text, i in self.keys]
        rows += [plain(""), line((_("Levels"), "bold"),
                                 _(" (top right; the word is the signal, colour only helps)"))]
        rows += [line(("  " + rjust(word(lv), 10), "bold"), f"  {_(text)} {action(lv)}")
                 for lv, text in ((Level(lv), text) for lv, text in LEVEL_HELP)]
        rows += [plain(""), plain(_("Steps table"), "bold"), plain(_(
            "  ◆ critical path · Plan likely/worst · Taken elapsed or actual · Var vs likely (m:ss)\n"
            "  ! past the worst-case (pessimistic) estimate\n"
            "  · waiting  ○ ready  ▶ RUNNING  ✓ done  ✗ FAILED  ↷ skipped  – abandoned")),
            plain(""), plain(_("Timeline"), "bold"), plain(_(
            "  plan ━/─ planned steps (likely) · actual █/▆ done, ▒ running, ░ forecast to P50,\n"
            "  · P50 to P90 · │ announced resume · D decision deadline · ▲ now")),
            plain(""), plain(_(
            "Every action is committed to the store before the screen shows it; q quits at\n"
            "once and `runbook run` on the same runbook reattaches. Keys can be remapped with\n"
            "RUNBOOK_KEYMAP='complete=x;fail=ctrl+f', using the ids in brackets above.")),
            plain(""), plain(_("esc, q or ? closes"), "dim")]
        with VerticalScroll(id="help"):
            yield Static(lines(rows))

    def action_close(self) -> None:
        self.dismiss(None)
