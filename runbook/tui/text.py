"""The one path from text to the screen: every piece of user text becomes a Textual ``Content``.

A runbook title, a step's command, a note, an operator's name, a contingency title or an abort
reason can hold anything: ``[INC-42``, ``awk '$1 ~ /^[A-Z]/'``, a trailing backslash, ``[b]``, or
an escape sequence. None of it is ever parsed as markup: widgets are given ``Content`` objects
built here (styles are attached as spans, not written as tags), so text is shown byte for byte
and cannot break or restyle the screen. Control characters (ESC, C1, bidi overrides) are shown
visibly, as :func:`runbook.format.safe.terminal` does for every plain-text output.

Rules for the rest of ``runbook/tui``: never pass a ``str`` with user text to ``Static.update``,
``notify``, ``Option``, ``Button`` or ``border_title`` (each parses markup); build a ``Content``
with :func:`plain` / :func:`line` instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from rich.text import Text
from textual.content import Content
from textual.dom import DOMNode

from runbook.format.safe import terminal
from runbook.i18n import _

Part = str | Content | tuple[str, str]


def clean(text: object, *, newlines: bool = True) -> str:
    """``text`` with control characters made visible (newlines kept unless told)."""
    return terminal(str(text), newlines=newlines)


def plain(text: object, style: str = "", *, newlines: bool = True) -> Content:
    """User text as Content: never markup; control characters shown; ``style`` as a span."""
    t = clean(text, newlines=newlines)
    return Content.styled(t, style) if style else Content(t)


def line(*parts: Part) -> Content:
    """One line from parts: a ``str`` (shown as is, never markup), ``(text, style)``, or Content.

    Every ``str`` goes through :func:`clean`, so a caller cannot forget it."""
    out: list[Content] = []
    for part in parts:
        if isinstance(part, Content):
            out.append(part)
        elif isinstance(part, tuple):
            out.append(plain(part[0], part[1]))
        else:
            out.append(plain(part))
    return Content("").join(out) if out else Content("")


def lines(rows: Iterable[Content | str]) -> Content:
    """Rows joined by newlines (``str`` rows are plain text)."""
    return Content("\n").join(r if isinstance(r, Content) else plain(r) for r in rows)


def cell(text: object, style: str = "", *, justify: str = "left") -> Text:
    """A DataTable cell (Rich Text, which DataTable does not parse as markup): one line, clean."""
    return Text(clean(text, newlines=False), style=style, justify=justify)  # type: ignore[arg-type]


def markup(text: object) -> str:
    """User text for the few Textual APIs that only take markup (the command palette's help).

    In Textual's markup a backslash escapes only the ``[`` right after it, and is literal
    anywhere else, so escaping every ``[`` is exact for any input (``textual.markup.escape`` is
    not: it leaves ``[INC-42`` and a trailing backslash to the parser)."""
    return clean(text, newlines=False).replace("[", "\\[")


def tr(text: str | None) -> str | None:
    """A message marked with ``N_`` in the current language (None and "" stay as they are:
    gettext's "" is the catalogue's header)."""
    return _(text) if text else text


def translate_bindings(node: DOMNode) -> None:
    """``node``'s key descriptions and tooltips (marked ``N_`` in its BINDINGS) in the current
    language, for the footer and the keys panel. Textual copies the class's bindings into each
    node when it is made, so this changes the node's copy only."""
    bindings = node._bindings.key_to_bindings
    for key, items in bindings.items():
        bindings[key] = [dataclasses.replace(b, description=tr(b.description) or "",
                                             tooltip=tr(b.tooltip) or "") for b in items]
