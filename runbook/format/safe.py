"""Text that leaves runbook for another medium is made safe for that medium, in one place each.

* :func:`terminal`: plain text for a terminal (``check``, ``simulate``, ``runs``, reports on
  stdout). C0 and C1 control characters, DEL, and the Unicode bidirectional controls are shown
  visibly as ``\\x1b`` / ``\\u202e`` escapes, so a runbook title or a note cannot retitle the
  terminal, set the clipboard (OSC 52), move the cursor or reorder what the reader sees. Newlines
  and tabs are kept unless ``newlines=False``.
* :func:`csv_cell`: one spreadsheet cell. A text starting with ``=``, ``+``, ``-``, ``@``, tab or
  carriage return gets a leading apostrophe (the OWASP rule against formula injection); numbers
  stay numbers.

Textual markup has its own path in the TUI; HTML and Markdown escaping live with their exporters.
"""

from __future__ import annotations

import re

_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")
_UNSAFE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal(text: str, *, newlines: bool = True) -> str:
    """``text`` with every control character shown as an escape instead of acting on the terminal."""
    return (_UNSAFE if newlines else _UNSAFE_LINE).sub(_visible, text)


def csv_cell(value: object) -> object:
    """A value for a CSV or spreadsheet cell: formula-looking text neutralised, numbers kept."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
