"""Text measured in terminal cells, not characters: Hangul and other East Asian wide characters
take two cells, combining marks none. Every plain-text table (``check``, ``runs``, ``simulate``)
and every padding the TUI does itself goes through here, so Korean text stays aligned.

(Textual and Rich measure the same way, ``rich.cells.cell_len``; this module is for the code that
must not import them.)
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache


@lru_cache(maxsize=4096)
def _char(ch: str) -> int:
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def width(text: str) -> int:
    """Cells ``text`` takes on a terminal: ``width("지연 위험") == 9``."""
    if text.isascii():
        return len(text)
    return sum(_char(ch) for ch in text)


def ljust(text: str, cells: int) -> str:
    """``text`` padded with spaces on the right to ``cells`` cells (never cut)."""
    return text + " " * max(0, cells - width(text))


def rjust(text: str, cells: int) -> str:
    """``text`` padded with spaces on the left to ``cells`` cells (never cut)."""
    return " " * max(0, cells - width(text)) + text


def clip(text: str, cells: int, ellipsis: str = "…") -> str:
    """``text`` cut to at most ``cells`` cells, ending in ``ellipsis`` when cut; a wide character
    that would straddle the edge is left out (the result may be a cell short)."""
    if width(text) <= cells:
        return text
    room = cells - width(ellipsis)
    out, used = [], 0
    for ch in text:
        w = _char(ch)
        if used + w > room:
            break
        out.append(ch)
        used += w
    return "".join(out) + ellipsis if cells > 0 else ""
