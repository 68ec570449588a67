"""A report reads each time once per UTC minute (runbook/report/model.py, Report.clock): it must
say exactly what reading every instant on its own says, across changes of offset too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runbook.format.times import when
from runbook.report.model import Report

# (zone, an instant near a change of its offset): fall-backs that repeat the wall clock, half-hour
# and 45-minute offsets, a 30-minute DST shift, and an offset with seconds (Monrovia until 1972)
CHANGES = [("Europe/Berlin", datetime(2026, 10, 25, 1, 0, tzinfo=UTC)),
           ("America/New_York", datetime(2026, 11, 1, 6, 0, tzinfo=UTC)),
           ("America/St_Johns", datetime(2026, 11, 1, 3, 30, tzinfo=UTC)),
           ("Australia/Lord_Howe", datetime(2026, 4, 4, 15, 0, tzinfo=UTC)),
           ("Asia/Kathmandu", datetime(1986, 1, 1, 0, 0, tzinfo=UTC)),
           ("Africa/Monrovia", datetime(1972, 1, 7, 0, 44, 30, tzinfo=UTC)),
           ("Asia/Seoul", datetime(2026, 11, 24, 15, 0, tzinfo=UTC))]


def fake_report(tz: str, ref: datetime) -> SimpleNamespace:
    return SimpleNamespace(tz=tz, summary=SimpleNamespace(window_start=ref), _clocks={})


@pytest.mark.parametrize("tz, change", CHANGES)
def test_every_second_around_a_change_reads_as_on_its_own(tz: str, change: datetime) -> None:
    r = fake_report(tz, change - timedelta(hours=3))
    for s in range(-2 * 3600, 2 * 3600, 7):
        instant = change + timedelta(seconds=s, microseconds=s % 1000 * 997)
        assert Report.clock(r, instant) == when(instant, tz, r.summary.window_start), instant


@settings(max_examples=300)
@given(st.sampled_from(CHANGES), st.integers(-4 * 86400, 4 * 86400), st.integers(0, 999_999))
def test_any_instant_reads_as_on_its_own(change, seconds: int, micro: int) -> None:
    tz, at = change
    r = fake_report(tz, at)
    instant = at + timedelta(seconds=seconds, microseconds=micro)
    Report.clock(r, instant + timedelta(seconds=13))  # the minute may be remembered already
    assert Report.clock(r, instant) == when(instant, tz, at)
    assert Report.clock(r, None) == when(None, tz, at)


def test_building_a_report_leaves_garbage_collection_as_it_was(monkeypatch) -> None:
    import gc

    from runbook.report import model

    seen = []
    monkeypatch.setattr(model, "_build", lambda *a: seen.append(gc.isenabled()))
    for enabled in (True, False):
        (gc.enable if enabled else gc.disable)()
        try:
            model.build(None, [])
            assert gc.isenabled() is enabled
            with pytest.raises(ZeroDivisionError), model.paused():  # also when the block fails
                assert not gc.isenabled()
                1 / 0  # noqa: B018
            assert gc.isenabled() is enabled
        finally:
            gc.enable()
    assert seen == [False, False]
