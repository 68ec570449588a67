"""The clock: wall time read once, then advanced by the monotonic clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pendulum
import pytest

from runbook.engine import clock as clock_module
from runbook.engine.clock import ManualClock, SystemClock, utc


def test_a_wall_clock_step_does_not_move_the_system_clock(monkeypatch):
    mono = [1000.0]
    monkeypatch.setattr(clock_module.time, "monotonic", lambda: mono[0])
    c = SystemClock()
    t0 = c.now()
    mono[0] += 90  # 90 s pass; meanwhile NTP steps the wall clock an hour back: not seen
    assert c.now() - t0 == timedelta(seconds=90)
    assert c.now().tzinfo is UTC


def test_manual_clock_only_moves_when_told():
    c = ManualClock(datetime(2026, 11, 25, tzinfo=UTC))
    assert c.now() == c.now()
    c.advance(60)
    assert c.now() == datetime(2026, 11, 25, 0, 1, tzinfo=UTC)


def test_instants_are_plain_utc_whatever_comes_in():
    seoul = pendulum.datetime(2026, 11, 25, 0, 0, tz="Asia/Seoul")
    t = utc(seoul)
    assert type(t) is datetime and t == datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        utc(datetime(2026, 11, 25))
