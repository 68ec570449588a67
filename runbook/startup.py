"""What commands read first: the wall clock, the runbook (its window moved by ``--start``), and
for ``run`` the operator's answer when the window is over or far away.

Commands call these through the module (``startup.system_clock()``) so that tests replace the
clock in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from runbook.errors import Unusable
from runbook.format.safe import terminal
from runbook.format.times import zone
from runbook.i18n import _

if TYPE_CHECKING:  # not imported: `runbook run` reads the runbook behind its first frame
    from runbook.engine.clock import Clock
    from runbook.format.loader import Loaded

# (what is wrong with the window, the question, the choices) -> "y", "n" or "q"
Ask = Callable[[str, str, str], str]

# y / n / q as typed, also with a Korean keyboard left in Hangul mode (ㅛ, ㅜ, ㅂ) and as words
ANSWERS = {"y": ("y", "yes", "ㅛ", "예", "네"), "n": ("n", "no", "ㅜ", "아니오", "아니요"),
           "q": ("q", "quit", "ㅂ", "종료")}


def system_clock() -> Clock:
    """The wall clock the commands read (time enters through one clock; tests replace this)."""
    from runbook.engine.clock import SystemClock

    return SystemClock()


def load_with_start(path: str, start: str | None, now: datetime) -> Loaded:
    """The runbook at ``path``, its window moved by ``--start`` when given."""
    from runbook.format.loader import load_runbook
    from runbook.format.shift import StartError, parse_start, shifted

    loaded = load_runbook(path)
    if start is None:
        return loaded
    try:
        return shifted(loaded, parse_start(start, loaded.plan.timezone, now))
    except StartError as e:
        raise Unusable(str(e)) from None


def confirm_window(loaded: Loaded, now: datetime, *, asking: bool | Ask) -> Loaded | None:
    """``loaded`` as the operator wants it started now: moved to now, as planned, or None (quit).
    Asks only when the window is over or more than a day away, and only when ``asking``: True
    asks at the terminal prompt; a function asks elsewhere (`runbook run`'s screen, in a dialog)
    and returns "y", "n" or "q". Otherwise (no person at a terminal) Unusable says how
    (--start). In the current language."""
    from runbook.format.shift import shifted, timing_message

    said = timing_message(loaded, now)
    if said is None:
        return loaded
    planned = loaded.plan.start.astimezone(zone(loaded.plan.timezone)).strftime("%Y-%m-%dT%H:%M")
    if not asking:
        raise Unusable(said + " " + _(
            "Not starting a run without asking: add --start now to rehearse it now (the whole "
            "window moves, durations kept), or --start {planned} to keep the planned times."
        ).format(planned=planned))
    moved = shifted(loaded, now.replace(microsecond=0))
    tz = loaded.plan.timezone
    question = _(
        "Move the whole window to start now, {start} (announced resume {announced}, durations "
        "kept)?").format(start=_local(moved.plan.start, tz),
                         announced=_local(moved.plan.announced, tz))
    choices = _("[y] move it to now  [n] keep the planned times  [q] quit: ")
    answer = asking(said, question, choices) if callable(asking) else _prompt(said, question,
                                                                               choices)
    return moved if answer == "y" else loaded if answer == "n" else None


def _prompt(said: str, question: str, choices: str) -> str:
    """The question at the terminal prompt: "y", "n" or "q" (five answers that are none of
    these, or the end of input, quit)."""
    print(terminal(said + "\n" + question))
    for _attempt in range(5):
        answer = _ask(choices).strip().lower()
        for key, words in ANSWERS.items():
            if answer in words:
                return key
    return "q"


def _ask(prompt: str) -> str:
    try:
        return input(prompt)
    except EOFError:
        return "q"


def _local(t: datetime, timezone: str) -> str:
    return t.astimezone(zone(timezone)).strftime("%Y-%m-%d %H:%M")
