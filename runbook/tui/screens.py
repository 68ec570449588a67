"""Screens: the main run screen (layout only) and the modal dialogs."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.markup import escape
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from runbook.engine.risk import ACTIONS, WORDS
from runbook.format.model import Level
from runbook.tui.view import Snapshot
from runbook.tui.widgets import (
    AlertBanner,
    ForecastPanel,
    ModeLine,
    RunHeader,
    RunLog,
    StepDetail,
    StepsTable,
    TimelineStrip,
)


class MainScreen(Screen):
    """Header, mode line, banner, forecast, steps + detail/log, timeline, footer."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (140, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]

    class Selected(Message):
        """The operator moved the selection."""

        def __init__(self, step_id: str | None) -> None:
            super().__init__()
            self.step_id = step_id

    def __init__(self, mode_text: str) -> None:
        super().__init__()
        self.mode_text = mode_text
        self.snapshot: Snapshot | None = None
        self.hidden_level: Level | None = None  # the banner was hidden at this level
        self._last_seq = -1
        self._last_focus: str | None = None
        self._statuses: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield RunHeader(id="header")
        yield ModeLine(self.mode_text, id="mode")
        banner = AlertBanner(id="banner")
        banner.display = False
        yield banner
        yield ForecastPanel("Forecast: computing…", id="forecast")
        with Horizontal(id="body"):
            yield StepsTable(id="steps")
            with Vertical(id="side"):
                yield StepDetail(id="detail")
                yield RunLog(id="log")
        yield TimelineStrip(id="timeline")
        yield Footer(compact=True, show_command_palette=False)

    @property
    def table(self) -> StepsTable:
        return self.query_one(StepsTable)

    @property
    def selected(self) -> str | None:
        return self.table.selected

    def set_mode_text(self, text: str) -> None:
        self.mode_text = text
        self.query_one(ModeLine).update(text)

    def show(self, snap: Snapshot) -> None:
        """Draw a snapshot; the selection follows the next actionable step when events arrive."""
        previous = self.selected
        self.snapshot = snap
        self.query_one(RunHeader).show(snap)
        banner = self.query_one(AlertBanner)
        banner.show(snap, self.hidden_level)
        self.query_one(ForecastPanel).show(snap, banner=banner.display)
        table = self.table
        table.show(snap)
        if snap.seq != self._last_seq:
            # follow the next actionable step, unless the operator moved to another step on
            # purpose and that step did not change
            row = snap.row(previous)
            moved_away = previous is not None and previous != self._last_focus
            changed = self._statuses.get(previous or "") != (row.st.status if row else None)
            if not moved_away or changed:
                table.select(snap.focus)
            self._last_focus = snap.focus
            self._last_seq = snap.seq
        self._statuses = {r.id: r.st.status for r in snap.rows}
        self.query_one(StepDetail).show(snap, self.selected)
        self.query_one(RunLog).show(snap)
        self.query_one(TimelineStrip).show(snap)

    def hide_banner(self) -> None:
        if self.snapshot is not None and self.snapshot.banner:
            self.hidden_level = self.snapshot.level
            self.query_one(AlertBanner).display = False
            self.query_one(ForecastPanel).show(self.snapshot, banner=False)

    @property
    def banner_visible(self) -> bool:
        return bool(self.query_one(AlertBanner).display)

    def toggle_log(self) -> None:
        self.toggle_class("-show-log")

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.snapshot is not None:
            self.query_one(StepDetail).show(self.snapshot, self.selected)
        self.post_message(self.Selected(self.selected))


class ConfirmScreen(ModalScreen[str | None]):
    """Ask before an irreversible action. Returns the reason typed (maybe empty) or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", tooltip="Close without recording anything")]

    def __init__(self, title: str, body: str, *, confirm: str = "Confirm",
                 reason: str | None = "Reason (recorded with the event; optional)",
                 require_text: bool = False, danger: bool = True) -> None:
        super().__init__()
        self.title_text = title
        self.body = body
        self.confirm_label = confirm
        self.reason = reason
        self.require_text = require_text
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(f"[b]{escape(self.title_text)}[/b]", id="dialog-title")
            yield Static(escape(self.body), id="dialog-body")
            if self.reason is not None:
                yield Input(placeholder=self.reason, id="dialog-input")
            with Horizontal(id="dialog-buttons"):
                yield Button(f"{self.confirm_label} (enter)", id="confirm",
                             variant="error" if self.danger else "primary")
                yield Button("Cancel (esc)", id="cancel")

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
            self.notify("Type some text first (esc cancels).", severity="warning")
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


class PickScreen(ModalScreen[str | None]):
    """Pick one of several options (the contingency to trigger)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", tooltip="Close without choosing")]

    def __init__(self, title: str, options: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.options = options

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(f"[b]{escape(self.title_text)}[/b]", id="dialog-title")
            yield OptionList(*[Option(escape(text), id=key) for key, text in self.options])
            yield Static("[dim]enter picks · esc cancels[/dim]")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


LEVEL_HELP = (
    (Level.on_track, "P(resume by the announced time) is at least the runbook's confidence."),
    (Level.at_risk, "P below confidence; the contingency can still be decided later."),
    (Level.decide_now, "Within the decision lead of the contingency's last safe start."),
    (Level.late, "No contingency can make it any more, or the announced time has passed."),
    (Level.resumed, "The service-resuming step is complete."),
)


class HelpScreen(ModalScreen[None]):
    """Keys (as remapped), what the levels mean, and the table's symbols."""

    BINDINGS = [Binding("escape,q,question_mark", "close", "Close", tooltip="Close help")]

    def __init__(self, keys: list[tuple[str, str, str]]) -> None:
        """``keys``: (key as mapped, what it does, binding id)."""
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        lines = ["[b]Keys[/b]"]
        lines += [f"  [b]{escape(k):>7}[/b]  {escape(text)} [dim]({i})[/dim]"
                  for k, text, i in self.keys]
        lines += ["", "[b]Levels[/b] (top right; the word is the signal, colour only helps)"]
        lines += [f"  [b]{WORDS[lv]:>10}[/b]  {text} {ACTIONS[lv]}" for lv, text in LEVEL_HELP]
        lines += [
            "", "[b]Steps table[/b]",
            "  ◆ critical path · Plan likely/worst · Taken elapsed or actual · Var vs likely",
            "  ! past the worst-case (pessimistic) estimate",
            "  · waiting  ○ ready  ▶ RUNNING  ✓ done  ✗ FAILED  ↷ skipped  – abandoned",
            "", "[b]Timeline[/b]",
            "  plan ━/─ planned steps (likely) · actual █/▆ done, ▒ running, ░ forecast to P50,",
            "  · P50 to P90 · │ announced resume · D decision deadline · ▲ now",
            "", "Every action is committed to the store before the screen shows it; q quits at",
            "once and `runbook run` on the same runbook resumes. Keys can be remapped with",
            "RUNBOOK_KEYMAP='complete=x;fail=ctrl+f', using the ids in brackets above.",
            "", "[dim]esc, q or ? closes[/dim]",
        ]
        with VerticalScroll(id="help"):
            yield Static("\n".join(lines))

    def action_close(self) -> None:
        self.dismiss(None)
