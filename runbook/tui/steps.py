"""The steps table: Textual's DataTable, kept up to date by what changed.

A plan can have ten thousand steps; the screen must still answer a key at once. So the table
never rebuilds itself on a refresh or a resize:

* rows are added, and changed rows updated, a few milliseconds' worth at a time between frames
  (rows on screen first)
  (a selection on a row not added yet is kept and placed when it arrives, the cursor hidden
  meanwhile, so the screen never shows a row as selected that is not);
* a refresh compares each row with the one shown (the snapshot reuses a row object until its
  step changes) and updates only the cells that differ;
* a resize sets the columns' widths: cells are cut to their column when drawn, not when made;
  only a column appearing or going (the owner on a narrow screen) adds the rows again;
* nothing is measured: every column has a width and every row one line, so DataTable's
  measuring of each new cell (a fifth of a millisecond a row) is skipped;
* rows only ever go at the end, one line each: the table keeps its list of rows and of line
  offsets as rows are added (DataTable rebuilds both, a walk over every row, after each update);
* a cell is drawn once until its row changes: DataTable drops every drawn cell on any update
  (25-55 ms to draw a screenful again, every second while a step runs); here each row has a
  version, raised when its cells are updated, and a drawn cell is kept under it.
"""

from __future__ import annotations

import time
from itertools import compress, count
from operator import is_not
from typing import TYPE_CHECKING

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from runbook.format.cells import width as cell_width
from runbook.i18n import N_, _
from runbook.tui.text import cell

if TYPE_CHECKING:
    from runbook.tui.rows import Row
    from runbook.tui.view import Snapshot

STATUS_STYLE = {  # status (runbook.engine.state) -> (theme variable, text style)
    "pending": ("", "dim"),
    "ready": ("text-primary", "bold"),
    "running": ("text-accent", "bold"),
    "completed": ("text-success", ""),
    "failed": ("text-error", "bold"),
    "skipped": ("", "dim italic"),
    "abandoned": ("", "dim"),
}
COLUMNS = (("status", N_("Status"), 11), ("id", N_("Step"), 20), ("title", N_("Title"), 0),
           ("owner", N_("Owner"), 14), ("plan", N_("Plan"), 7), ("taken", N_("Taken"), 7),
           ("var", N_("Var"), 7))  # var: "+12:34!"; widths in cells
FILL_S = 0.008  # rows are added or updated for this long, then the screen is drawn and input read


class StepsTable(DataTable):
    """Every visible step; running ones tick live; ◆ marks the critical path."""

    DEFAULT_CSS = """
    StepsTable { height: 1fr; }
    """

    class Grew(Message):
        """A batch of rows was added; ``done`` once every row of the snapshot is in."""

        def __init__(self, done: bool) -> None:
            super().__init__()
            self.done = done

    def __init__(self, **kwargs) -> None:
        self._ordered: list = []  # DataTable's Row of each row added, in order
        self._offsets: list = []  # (row key, 0) per line: every row is one line
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self._snap: Snapshot | None = None
        self._ids: tuple[str, ...] = ()  # every row of the snapshot, in order
        self._rows: list[Row] = []  # the rows added to the table so far (the first of _ids)
        self._cells: list[tuple] = []  # what each added row shows, (text, style) per column
        self._widths: tuple[int, ...] = ()
        self._pending: str | None = None  # selected, but its row is not added yet
        self._stale: set[int] = set()  # rows added whose step changed, not updated yet
        self._working = False
        self._versions: list[int] = []  # per row added: raised when its cells change
        self._next_version = count(1)
        self._drawn: LRUCache[tuple, list[list[Segment]]] = LRUCache(4096)

    # -- layout ----------------------------------------------------------------------------
    def _layout(self) -> tuple[int, ...]:
        """Column widths for the current width. Status, plan, taken and variance are never cut;
        the step id gives way next (down to 8), then the owner, then the title. Every width is
        in terminal cells (a Hangul status word or plan takes two per character)."""
        width = max(self.size.width - 2, 40)
        fixed = {k: w for k, _l, w in COLUMNS}
        most = self._snap.cell_widths if self._snap else {}
        heading = {k: cell_width(_(label)) for k, label, _w in COLUMNS}
        fixed["status"] = max(most.get("status", 0), fixed["status"], heading["status"])
        fixed["plan"] = max(most.get("plan", 0), 4, heading["plan"])
        fixed["taken"] = max(most.get("taken", 0), fixed["taken"], heading["taken"])
        fixed["var"] = max(most.get("var", 0), fixed["var"], heading["var"])
        padding = 2 * self.cell_padding
        left = width - sum(fixed[k] + padding for k in ("status", "plan", "taken", "var"))
        need_id = min(max(most.get("id", 0), 4) + 2, 24)
        fixed["id"] = max(8, min(need_id, left - padding))
        left -= fixed["id"] + padding
        if left >= 14 + padding + 24 + padding:
            fixed["owner"] = 14
            fixed["title"] = left - 14 - 2 * padding
        else:
            fixed["owner"] = 0
            fixed["title"] = left - padding if left - padding >= 12 else 0
        return tuple(fixed[k] for k, _l, _w in COLUMNS)

    def _styles(self) -> dict[str, str]:
        """Rich styles from the current theme's variables (cached per theme)."""
        theme = self.app.theme
        if getattr(self, "_theme", None) != theme:
            variables = self.app.get_css_variables()
            self._style_map = {status: f"{extra} {variables.get(var, '')}".strip()
                               for status, (var, extra) in STATUS_STYLE.items()}
            self._style_map["over"] = f"bold {variables.get('text-error', '')}"
            self._theme = theme
        return self._style_map

    def _cells_for(self, row: Row, styles: dict[str, str]) -> tuple[tuple[str, str], ...]:
        """(text, style) of each column, whether shown or not."""
        status = styles.get(row.st.status, "")
        return ((row.status, status),
                (("◆ " if row.critical else "  ") + row.id,
                 status if row.st.status == "running" else ""),
                (row.step.title, ""), (row.step.owner or "", "dim"), (row.planned, ""),
                (row.taken, ""), (row.variance, styles["over"] if row.over else ""))

    def _values(self, cells: tuple[tuple[str, str], ...]) -> list[Text]:
        """The cells of the columns shown, cut (with …) to their column when drawn."""
        return [_cell(text, style, k) for k, ((text, style), w) in
                enumerate(zip(cells, self._widths, strict=True)) if w]

    # -- showing a snapshot ----------------------------------------------------------------
    def show(self, snap: Snapshot) -> None:
        self._snap = snap
        widths = self._layout()
        added = len(self._rows)
        shown = [w > 0 for w in widths]
        if (not self.columns or shown != [w > 0 for w in self._widths]
                or snap.ids[:added] != self._ids[:added]):
            self._restart(widths, snap)
            return
        if widths != self._widths:
            self._resize_columns(widths)
        self._ids = snap.ids
        n = len(self._rows)
        rows = snap.rows
        for k in compress(range(n), map(is_not, rows[:n], self._rows)):
            self._rows[k] = rows[k]
            self._stale.add(k)
        self._work()

    def _restart(self, widths: tuple[int, ...], snap: Snapshot) -> None:
        """Columns and rows anew (first show, a contingency's steps, a column shown or hidden):
        the rows are added over the next frames; the selection stays where it was."""
        selected = self.selected
        self.clear(columns=True)
        self._widths, self._ids = widths, snap.ids
        self._rows, self._cells, self._versions = [], [], []
        self._ordered, self._offsets = [], []
        self._drawn.clear()
        for (key, label, _w), w in zip(COLUMNS, widths, strict=True):
            if w:
                self.add_column(cell(_(label)), key=key, width=w)
        self._pending = None
        self._stale.clear()
        self._work()
        self.select(selected if selected in snap.index else snap.focus)

    def _work(self) -> None:
        """For a few milliseconds: update the rows that changed (those on screen first), then
        add rows; the rest after the next frame. Only a whole-plan change (the critical path
        found, a contingency) has more to do than fits."""
        if self._working or self._snap is None:
            return
        styles = self._styles()
        deadline = time.perf_counter() + FILL_S
        if self._stale:
            top = round(self.scroll_offset.y)
            bottom = top + self.size.height
            for done, k in enumerate(sorted(self._stale, key=lambda k: not top <= k < bottom)):
                self._stale.discard(k)
                self._update_row(k, styles)
                if done % 16 == 15 and time.perf_counter() > deadline:
                    break
        rows = self._snap.rows
        k = before = len(self._rows)
        while k < len(rows) and (k == before or time.perf_counter() <= deadline):
            for r in rows[k:k + 16]:
                cells = self._cells_for(r, styles)
                key = self.add_row(*self._values(cells), key=r.id)
                self._ordered.append(self.rows[key])
                self._offsets.append((key, 0))
                self._rows.append(r)
                self._cells.append(cells)
                self._versions.append(next(self._next_version))
            k = len(self._rows)
        if self._pending is not None and self._snap.index.get(self._pending, k) < k:
            self._place(self._snap.index[self._pending])
        if self._stale or k < len(rows):
            self._working = True
            self.call_after_refresh(self._work_more)
        if k > before:
            self.post_message(self.Grew(k == len(rows)))

    def _work_more(self) -> None:
        self._working = False
        self._work()

    def _update_row(self, k: int, styles: dict[str, str]) -> None:
        """Row ``k`` as its step now is: the cells that differ, and a new version (so cells
        drawn before are not used again)."""
        row, before = self._rows[k], self._cells[k]
        cells = self._cells_for(row, styles)
        if cells == before:
            return
        self._cells[k] = cells
        self._versions[k] = next(self._next_version)
        for c, ((key, _l, _w), w, now, was) in enumerate(zip(COLUMNS, self._widths, cells,
                                                                before, strict=True)):
            if w and now != was:
                self.update_cell(row.id, key, _cell(*now, c))

    def _resize_columns(self, widths: tuple[int, ...]) -> None:
        for (key, _l, _w), w in zip(COLUMNS, widths, strict=True):
            if w:
                self.columns[ColumnKey(key)].width = w
        self._widths = widths
        self.notify_style_update()  # drops the cells drawn at the old widths
        self._update_dimensions(())

    def _update_dimensions(self, new_rows) -> None:  # noqa: ANN001 (DataTable's signature)
        """The scrollable size, without measuring a cell (see the module's docstring)."""
        header = self.header_height if self.show_header else 0
        self.virtual_size = Size(
            sum(c.get_render_width(self) for c in self.columns.values())
            + self._row_label_column_width, self.row_count + header)

    @property
    def ordered_rows(self) -> list:
        return self._ordered

    @property
    def _y_offsets(self) -> list:
        return self._offsets

    def _render_cell(self, row_index: int, column_index: int, base_style: Style, width: int,
                     cursor: bool = False, hover: bool = False) -> list[list[Segment]]:
        """DataTable's drawing of a cell, kept while the row's version is the same."""
        if not 0 <= row_index < len(self._versions) or column_index < 0:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        key = (self._versions[row_index], column_index, base_style, width, cursor, hover,
               self.show_cursor, self._show_hover_cursor, self._pseudo_class_state)
        lines = self._drawn.get(key)
        if lines is None:
            lines = super()._render_cell(row_index, column_index, base_style, width, cursor,
                                         hover)
            self._drawn[key] = lines
        return lines

    def notify_style_update(self) -> None:
        self._drawn.clear()  # a new theme or style: draw every cell again
        super().notify_style_update()

    def on_resize(self) -> None:
        if self._snap is not None:
            self.show(self._snap)

    # -- selection -------------------------------------------------------------------------
    @property
    def selected(self) -> str | None:
        if self._pending is not None:
            return self._pending
        if not self.row_count or not 0 <= self.cursor_row < len(self._rows):
            return None
        return self._ids[self.cursor_row]

    def select(self, step_id: str | None) -> None:
        k = self._snap.index.get(step_id) if self._snap is not None and step_id else None
        if k is None:
            return
        if k < len(self._rows):
            self._place(k)
        else:  # not added yet: hold it, and show no cursor until it is
            self._pending = step_id
            self.show_cursor = False

    def _place(self, k: int) -> None:
        self._pending = None
        self.move_cursor(row=k, animate=False)
        if not self.show_cursor:
            self.show_cursor = True


def _cell(text: str, style: str, column: int) -> Text:
    """A cell: plan, taken and variance to the right; cut with … when its column is narrower."""
    out = cell(text, style, justify="right" if column >= 4 else "left")
    out.no_wrap, out.overflow = True, "ellipsis"
    return out
