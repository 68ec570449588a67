"""Fast local-time formatting for the exporters (a report formats tens of thousands of times).

Same output as :mod:`runbook.times` (a test holds them equal), through the standard library's
``zoneinfo`` with the zone looked up once, instead of a pendulum object per instant.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo


@lru_cache(maxsize=32)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def utc(instant: datetime) -> datetime:
    """A plain stdlib UTC datetime (pendulum instances converted): cheap arithmetic."""
    return datetime.fromtimestamp(instant.timestamp(), UTC)


def local(instant: datetime, tz: str) -> datetime:
    return instant.astimezone(zone(tz))


def iso(instant: datetime | None, tz: str) -> str | None:
    """ISO 8601 with offset, whole seconds, in the runbook's time zone (the JSON contract)."""
    if instant is None:
        return None
    return local(instant, tz).replace(microsecond=0).isoformat()


def hhmm(instant: datetime | None, tz: str, *, seconds: bool = False) -> str:
    if instant is None:
        return "--:--"
    return local(instant, tz).strftime("%H:%M:%S" if seconds else "%H:%M")
