"""The operator's actions: the keys that change the run (refused in watch and demo mode).

A module of its own so that the app can ask "is this an operator action?" without importing the
domain (the desk, the engine): the first frame is drawn before the run is loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runbook.tui.desk import Desk

OPERATOR_ACTIONS = ("advance", "start", "complete", "fail", "skip", "note", "trigger", "undo",
                    "abort", "copy_notice")


def readonly_reason(mode: str) -> str | None:
    """Why a screen in ``mode`` cannot change the run (None: the operator's, it can)."""
    from runbook.i18n import _

    if mode == "watch":
        return _("read-only: you are watching this run; actions are recorded by the operator's "
                 "`runbook run`")
    if mode == "demo":
        return _("demo: the script operates this run; just watch (p pauses, q quits)")
    return None


class Opening:
    """A desk whose run is still being loaded: what the screen needs before it is (the mode,
    whether it is read-only, a title for the header). :meth:`open` loads the run and builds the
    real :class:`runbook.tui.desk.Desk`; the app calls it in its refresh worker, after the first
    frame, so reading the runbook, folding its events and drawing the forecaster's samples never
    keep the screen from appearing."""

    director = None
    session = None

    def __init__(self, mode: str, open: Callable[[], Desk | None], *, title: str = "") -> None:
        self.mode = mode
        self.readonly_reason = readonly_reason(mode)
        self.title = title
        self._open = open

    def open(self) -> Desk | None:
        """The desk; None if the operator quit at a question asked while opening."""
        return self._open()

    def why_not(self, action: str, step: str | None = None, **_kw) -> str | None:
        from runbook.i18n import _

        if action not in OPERATOR_ACTIONS:
            return None
        return self.readonly_reason or _("the run is still loading")
