"""Instants are stored in UTC and shown in the runbook's time zone."""

from __future__ import annotations

from datetime import datetime

import pendulum


def local(instant: datetime, timezone: str) -> pendulum.DateTime:
    return pendulum.instance(instant).in_timezone(timezone)


def iso(instant: datetime | None, timezone: str) -> str | None:
    """ISO 8601 with offset, whole seconds, in the runbook's time zone (the JSON contract)."""
    if instant is None:
        return None
    t = local(instant, timezone)
    return t.replace(microsecond=0).isoformat()


def hhmm(instant: datetime | None, timezone: str, *, seconds: bool = False) -> str:
    if instant is None:
        return "--:--"
    return local(instant, timezone).strftime("%H:%M:%S" if seconds else "%H:%M")
