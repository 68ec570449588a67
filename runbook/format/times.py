"""Instants are stored in UTC and shown in the runbook's time zone.

Formatting goes through the standard library's ``zoneinfo`` with each zone looked up once: a report
or a refresh formats thousands of instants, and a pendulum object per instant was the slow part.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo


@lru_cache(maxsize=32)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local(instant: datetime, timezone: str) -> datetime:
    return instant.astimezone(zone(timezone))


def iso(instant: datetime | None, timezone: str) -> str | None:
    """ISO 8601 with offset, whole seconds, in the runbook's time zone (the JSON contract)."""
    if instant is None:
        return None
    return local(instant, timezone).replace(microsecond=0).isoformat()


def hhmm(instant: datetime | None, timezone: str, *, seconds: bool = False) -> str:
    if instant is None:
        return "--:--"
    return local(instant, timezone).strftime("%H:%M:%S" if seconds else "%H:%M")
