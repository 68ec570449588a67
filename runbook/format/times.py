"""Instants are stored in UTC and shown in the runbook's time zone.

Formatting goes through the standard library's ``zoneinfo`` with each zone looked up once: a report
or a refresh formats thousands of instants, and a pendulum object per instant was the slow part.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from runbook.i18n import _


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


def when(instant: datetime | None, timezone: str, ref: datetime, *, seconds: bool = False) -> str:
    """A time as people read it on a screen or in a report, relative to the local day of ``ref``.

    ``00:40`` on ref's local day; ``02:00 +1d`` / ``23:50 -1d`` on the day after or before;
    ``12-01 04:40`` further away, ``2027-01-02 04:40`` in another year. So a P90 on the next day
    never reads earlier than a P50, and a deadline after the resume reads after it. Where the wall
    clock repeats (a DST fall-back) the zone's abbreviation or offset follows: ``02:30 CEST``,
    ``02:30 CET``.
    """
    if instant is None:
        return "--:--:--" if seconds else "--:--"
    t = local(instant, timezone)
    day, ref_day = t.date(), local(ref, timezone).date()
    text = t.strftime("%H:%M:%S" if seconds else "%H:%M")
    gap = (day - ref_day).days
    if gap in (1, -1):
        text += " " + _("{days}d").format(days=f"{gap:+d}")  # +1d; in Korean +1일
    elif gap and day.year == ref_day.year:
        text = f"{t.strftime('%m-%d')} {text}"
    elif gap:
        text = f"{t.strftime('%Y-%m-%d')} {text}"
    if t.replace(fold=1 - t.fold).utcoffset() != t.utcoffset():  # this wall time happens twice
        text += " " + _zone_name(t)
    return text


def _zone_name(t: datetime) -> str:
    name = t.tzname() or ""
    if name.isalpha():
        return name
    offset = t.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
