"""The run's timeline (``l``): every event, newest first, drawn a screenful at a time.

A night's run has thousands of events. The journal's entries are made by the refresh, off the UI
thread (:class:`runbook.tui.journal.Journal`), each with its length in cells; this widget only
lays them out. It knows how many lines an entry takes at the current width without
drawing it (an entry wider than the widget wraps onto more lines, as text in a ``Static`` does),
and draws only the lines on screen, each entry once per width. A new event adds one entry;
nothing already laid out is redone.
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate
from typing import TYPE_CHECKING

from textual.cache import LRUCache
from textual.content import Content
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.visual import Visual

from runbook.i18n import _, ngettext
from runbook.tui.text import line, plain

if TYPE_CHECKING:
    from runbook.tui.journal import Entry


class RunLog(ScrollView):
    """The run's journal (``l``): every event with who did it from where, newest first."""

    DEFAULT_CSS = """
    RunLog { overflow-x: hidden; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._entries: tuple[Entry, ...] = ()
        self._cells: list[int] = []  # each entry's width in cells, oldest first; -1: newlines
        self._ends: list[int] = []  # lines up to and including each entry, oldest first
        self._width = 0  # the width _ends was counted at
        self._strips: LRUCache[tuple[int, int], list[Strip]] = LRUCache(512)  # (entry, width)
        self.border_title = self._title()

    def _title(self) -> Content:
        n = len(self._entries)
        return plain(ngettext("Timeline, newest first ({n} event) · l hides",
                              "Timeline, newest first ({n} events) · l hides", n).format(n=n),
                     newlines=False)

    def show(self, snap) -> None:
        """Lay out the snapshot's journal: the entries after the last one shown are added; an
        entry that changed (an undo marks what it reverted) and those after it are redone."""
        entries, old = snap.journal, self._entries
        if entries is old:
            return
        n = len(old)
        if len(entries) >= n and entries[:n] == old:
            first = n
        else:
            first = next((k for k, (a, b) in enumerate(zip(old, entries, strict=False))
                          if a is not b), min(n, len(entries)))
            self._strips.clear()
        if first == len(entries) == n:
            self._entries = entries
            return
        self._entries = entries
        del self._cells[first:]
        self._cells.extend(e.cells for e in entries[first:])
        if n != len(entries):
            self.border_title = self._title()
        self._count(first)
        self.refresh()

    def _count(self, first: int = 0) -> None:
        """Lines per entry at the current width, from entry ``first`` on (nothing while the
        log is hidden: it is counted when it is shown)."""
        width = self._width
        if width <= 0 or not self.display:
            self._ends, self._width = [], 0
        else:
            cells, entries = self._cells, self._entries
            heights = [1 if 0 <= cells[k] <= width else len(line(*entries[k].parts).wrap(width))
                       for k in range(first, len(cells))]
            before = self._ends[first - 1] if first else 0
            del self._ends[first:]
            self._ends.extend(accumulate(heights, initial=before))
            del self._ends[first]  # accumulate's initial value
        self.virtual_size = Size(max(width, 0), self._ends[-1] if self._ends else 1)

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> bool:
        width = self.scrollable_content_region.width if self.display else 0
        if width == self._width:
            return False
        self._width = width
        self._count()
        return True

    def _render(self, k: int, width: int) -> list[Strip]:
        """Entry ``k`` (oldest first) as lines ``width`` cells wide, as a Static wraps it."""
        key = (k, width)
        strips = self._strips.get(key)
        if strips is None:
            style = self.visual_style
            strips = Visual.to_strips(self, line(*self._entries[k].parts), width, None, style,
                                      apply_selection=False)
            rich = style.rich_style
            strips = [s.extend_cell_length(width, rich).crop(0, width) for s in strips] or \
                [Strip.blank(width, rich)]
            self._strips[key] = strips
        return strips

    def render_line(self, y: int) -> Strip:
        if self._fit():  # the scrollbar came or went: the width changed under us
            self.call_after_refresh(self.refresh)
        width = self._width
        rich = self.visual_style.rich_style
        if not self._entries:
            text = plain(_("Nothing yet.")) if y == 0 and self.scroll_offset.y == 0 else None
            if text is None or width <= 0:
                return Strip.blank(max(width, 0), rich)
            strips = Visual.to_strips(self, text, width, None, self.visual_style,
                                      apply_selection=False)
            return strips[0].extend_cell_length(width, rich) if strips else Strip.blank(width, rich)
        ends = self._ends
        total = ends[-1] if ends else 0
        at = self.scroll_offset.y + y  # lines from the top: the newest entry first
        if not 0 <= at < total or width <= 0:
            return Strip.blank(max(width, 0), rich)
        back = total - 1 - at  # lines from the bottom: the oldest entry last
        k = bisect_right(ends, back)
        return self._render(k, width)[ends[k] - 1 - back]

    def visible_text(self) -> str:
        """The lines on screen as text (tests)."""
        return "\n".join(self.render_line(y).text.rstrip()
                         for y in range(self.scrollable_content_region.height))
