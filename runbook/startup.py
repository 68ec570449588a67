"""What commands read first: the wall clock, and the runbook (its window moved by ``--start``).

Commands call these through the module (``startup.system_clock()``) so that tests replace the
clock in one place.
"""

from __future__ import annotations

from datetime import datetime

from runbook.engine.clock import Clock
from runbook.errors import Unusable
from runbook.format.loader import Loaded


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
