"""The main run screen (layout only). The modal dialogs are in dialogs.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer

from runbook.i18n import _
from runbook.tui.runlog import RunLog
from runbook.tui.steps import StepsTable
from runbook.tui.widgets import (
    AlertBanner,
    ForecastPanel,
    MessageLine,
    ModeLine,
    NoticeLine,
    RunHeader,
    StepDetail,
    TimelineStrip,
)

if TYPE_CHECKING:
    from runbook.format.model import Level
    from runbook.tui.view import Snapshot


class MainScreen(Screen):
    """Header, mode line, banner, forecast, steps + detail/log, message line, timeline, footer.

    The selection follows the next actionable step while the operator leaves it there; once they
    move it, it stays where they put it (new events, other operators, refreshes do not move it)
    until their own action completes the step it is on."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (140, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]

    class Selected(Message):
        """The operator moved the selection."""

        def __init__(self, step_id: str | None) -> None:
            super().__init__()
            self.step_id = step_id

    def __init__(self, mode_text: str, *, title: str = "") -> None:
        super().__init__()
        self.mode_text = mode_text
        self.title = title  # for the header until the first snapshot
        self.snapshot: Snapshot | None = None
        self.hidden_level: Level | None = None  # the banner was hidden at this level
        self._last_seq = -1
        self._last_focus: str | None = None
        self.follow_next = False  # set by the app after the operator's own action
        self.pending: tuple[str | Content, str] | None = None  # a message said before mounting
        self.notice_key: str | None = None  # the key that copies the customer notice (run only)

    def compose(self) -> ComposeResult:
        yield RunHeader(self.title, id="header")
        yield ModeLine(self.mode_text, id="mode")
        banner = AlertBanner(id="banner")
        banner.display = False
        yield banner
        notice = NoticeLine(id="notice")
        notice.display = False
        yield notice
        yield ForecastPanel(_("Forecast: computing…"), id="forecast")
        with Horizontal(id="body"):
            yield StepsTable(id="steps")
            with Vertical(id="side"):
                yield StepDetail(id="detail")
                yield RunLog(id="log")
        yield MessageLine(id="message")
        yield TimelineStrip(id="timeline")
        yield Footer(compact=True, show_command_palette=False)

    @property
    def table(self) -> StepsTable:
        return self.query_one(StepsTable)

    @property
    def selected(self) -> str | None:
        return self.table.selected

    def set_mode_text(self, text: str, warnings: tuple[str, ...] = ()) -> None:
        self.mode_text = text
        self.query_one(ModeLine).show(text, warnings)

    def show(self, snap: Snapshot) -> None:
        """Draw a snapshot; the selection follows the next actionable step when events arrive."""
        previous = self.selected
        self.snapshot = snap
        self.query_one(RunHeader).show(snap)
        banner = self.query_one(AlertBanner)
        banner.show(snap, self.hidden_level)
        self.query_one(NoticeLine).show(snap, self.notice_key)
        self.query_one(ForecastPanel).show(snap, banner=banner.display)
        table = self.table
        table.show(snap)
        if snap.seq != self._last_seq:
            row = snap.row(previous)
            following = previous is None or previous == self._last_focus
            acted_on = self.follow_next and (row is None or row.st.status not in (
                "ready", "running", "failed"))
            if following or acted_on:
                table.select(snap.focus)
            self._last_focus = snap.focus
            self._last_seq = snap.seq
            self.follow_next = False
        self.query_one(StepDetail).show(snap, self.selected)
        self.query_one(RunLog).show(snap)
        self.query_one(TimelineStrip).show(snap)

    def on_mount(self) -> None:
        if self.pending is not None:
            self.say(*self.pending)
            self.pending = None

    def say(self, text: str | Content, kind: str = "information") -> None:
        self.query_one(MessageLine).say(text, kind)

    def show_clock(self, snap: Snapshot) -> None:
        """Only the header's clock, countdown and elapsed time (while a refresh or save waits)."""
        self.query_one(RunHeader).show(snap)

    def hide_banner(self) -> None:
        if self.snapshot is not None and self.snapshot.banner:
            self.hidden_level = self.snapshot.level
            self.query_one(AlertBanner).display = False
            self.query_one(ForecastPanel).show(self.snapshot, banner=False)

    @property
    def banner_visible(self) -> bool:
        return bool(self.query_one(AlertBanner).display)

    @property
    def timeline_width(self) -> int:
        return self.query_one(TimelineStrip).size.width

    def toggle_log(self) -> None:
        self.toggle_class("-show-log")

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.snapshot is not None:
            self.query_one(StepDetail).show(self.snapshot, self.selected)
        self.post_message(self.Selected(self.selected))
