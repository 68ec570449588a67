"""Text that leaves runbook for another medium is made safe for that medium, in one place each.

* :func:`terminal`: plain text for a terminal (``check``, ``simulate``, ``runs``, reports on
  stdout). C0 and C1 control characters, DEL, and the Unicode bidirectional controls are shown
  visibly as ``\\x1b`` / ``\\u202e`` escapes, so a runbook title or a note cannot retitle the
  terminal, set the clipboard (OSC 52), move the cursor or reorder what the reader sees. Newlines
  and tabs are kept unless ``newlines=False``.
* :func:`json_text`: JSON for stdout or a file. ``json.dumps`` escapes C0 controls but, with
  ``ensure_ascii=False``, leaves DEL, the C1 controls (U+0080-U+009F; U+009B is a CSI on many
  terminals) and the bidi controls raw; they are written as ``\\u009b`` escapes, the same data.
* :func:`cell_text`: the text of a CSV cell: controls shown, its own line breaks kept.
* :func:`csv_cell`: one spreadsheet cell. A text starting with ``=``, ``+``, ``-``, ``@``, tab or
  carriage return gets a leading apostrophe (the OWASP rule against formula injection); numbers
  stay numbers.

Textual markup has its own path in the TUI; HTML and Markdown escaping live with their exporters.
"""

from __future__ import annotations

import json
import re
from typing import Any

_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")
_UNSAFE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
_UNSAFE_CELL = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}]|\r(?!\n)")
_UNSAFE_JSON = re.compile(f"[\x7f-\x9f{_BIDI}]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal(text: str, *, newlines: bool = True) -> str:
    """``text`` with every control character shown as an escape instead of acting on the terminal."""
    return (_UNSAFE if newlines else _UNSAFE_LINE).sub(_visible, text)


def cell_text(text: str) -> str:
    """Text for a CSV cell: control characters shown as escapes, but a cell's own line breaks
    (``\\n``, ``\\r\\n``) and tabs kept, as spreadsheets read them."""
    return _UNSAFE_CELL.sub(_visible, text)


def json_text(data: Any, indent: int | None = 2) -> str:
    """``json.dumps`` with non-ASCII text kept readable and every control character escaped."""
    text = json.dumps(data, indent=indent, ensure_ascii=False)
    # outside strings JSON is ASCII, so these characters can only be inside strings
    return _UNSAFE_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def csv_cell(value: object) -> object:
    """A value for a CSV or spreadsheet cell: formula-looking text neutralised, numbers kept."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
