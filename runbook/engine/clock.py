"""The only place that reads the wall clock.

Every instant in runbook is an aware UTC ``datetime``. ``SystemClock`` anchors the wall clock to
``time.monotonic()`` once, at creation, so a wall-clock step (NTP correction, an operator changing
the date) during a run cannot make a step's duration jump or go negative. ``ManualClock`` is the
simulated clock that ``simulate``, ``demo`` and the tests drive.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    """Wall clock read once, then advanced by the monotonic clock.

    ``real``: this clock tells the time of the world, so a session measures its offset from the
    store's clock and events are stamped by the store's clock. Simulated clocks say False."""

    real = True

    def __init__(self) -> None:
        self._wall0 = datetime.now(UTC)
        self._mono0 = time.monotonic()

    def now(self) -> datetime:
        return self._wall0 + timedelta(seconds=time.monotonic() - self._mono0)


def utc(instant: datetime) -> datetime:
    """A plain stdlib UTC datetime (pendulum instances converted), for storage and arithmetic."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime: runbook only handles aware instants")
    return datetime.fromtimestamp(instant.timestamp(), UTC)


class ManualClock:
    """A clock that moves only when told to; for simulation, the demo and tests."""

    real = False

    def __init__(self, start: datetime) -> None:
        self._now = utc(start)

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        self._now = utc(instant)

    def advance(self, seconds: float) -> datetime:
        self._now += timedelta(seconds=seconds)
        return self._now


class ScaledClock:
    """Simulated time running ``speed`` times faster than real time (the demo)."""

    real = False

    def __init__(self, start: datetime, speed: float) -> None:
        self._start = utc(start)
        self._speed = speed
        self._mono0 = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=(time.monotonic() - self._mono0) * self._speed)
