"""A question asked from a worker thread, answered in a dialog: `runbook run` opens the run behind
its first frame, and may have to ask the operator something first (the window question, see
:func:`runbook.startup.confirm_window`). The worker posts the dialog and waits; the UI thread
shows it and hands the answer back. A question still open as the app closes is answered None, so
the worker (and the command waiting for it) never hangs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from textual.message import Message

from runbook.tui.dialogs import Dialog

R = TypeVar("R")


class Asking(Message):
    """A worker waits for the answer to ``dialog``."""

    def __init__(self, dialog: Dialog, answered: Callable[[object], None]) -> None:
        super().__init__()
        self.dialog = dialog
        self.answered = answered


class Asks:
    """For the App: :meth:`ask` from a worker thread."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._asks = threading.Lock()  # guards the two below
        self._asks_waiting: list[Callable[[object], None]] = []  # not answered yet
        self._asks_closed = False

    def ask(self, dialog: Dialog[R]) -> R | None:
        """Show ``dialog`` and wait for its answer; None if the app closes first."""
        got: list = []
        done = threading.Event()

        def answered(value: object) -> None:
            if not done.is_set():
                got.append(value)
                done.set()

        with self._asks:
            if self._asks_closed:
                return None
            self._asks_waiting.append(answered)
        self.post_message(Asking(dialog, answered))
        done.wait()
        return got[0]

    def on_asking(self, message: Asking) -> None:
        self.push_screen(message.dialog, callback=message.answered)

    def on_unmount(self) -> None:
        """Questions still open as the app closes are answered None."""
        with self._asks:
            self._asks_closed, waiting = True, self._asks_waiting
            self._asks_waiting = []
        for answered in waiting:
            answered(None)
