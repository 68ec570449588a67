"""The shared helpers for text leaving runbook: terminal sanitiser, CSV cells, times with dates."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from runbook.format.safe import csv_cell, terminal
from runbook.format.times import when

CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@given(st.text())
def test_no_control_character_reaches_the_terminal(text):
    out = terminal(text)
    assert not CONTROL.search(out)
    assert out.count("\n") == text.count("\n")
    assert "\n" not in terminal(text, newlines=False)


def test_escape_sequences_are_shown_not_obeyed():
    osc52 = "title\x1b]52;c;Y3VybCBldmlsLnNofHNo\x07"
    assert terminal(osc52) == "title\\x1b]52;c;Y3VybCBldmlsLnNofHNo\\x07"
    assert terminal("a\u202eb\x9b") == "a\\u202eb\\x9b"
    assert terminal("한글 ok\tfine") == "한글 ok\tfine"


def test_csv_cells_that_look_like_formulas_are_neutralised_and_numbers_kept():
    for text in ("=HYPERLINK(\"x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert csv_cell(text) == "'" + text
    assert csv_cell(-5) == -5 and csv_cell(1.5) == 1.5 and csv_cell(None) == ""
    assert csv_cell("plain") == "plain"


REF = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # 2026-11-25 00:00 in Seoul


def test_times_on_another_day_carry_the_day():
    def at(hours):
        return when(REF + timedelta(hours=hours), "Asia/Seoul", REF)

    assert at(0.5) == "00:30"
    assert at(26) == "02:00 +1d"
    assert at(-1) == "23:00 -1d"
    assert at(24 * 6 + 4) == "12-01 04:00"
    assert at(24 * 40) == "2027-01-04 00:00"
    assert when(None, "Asia/Seoul", REF) == "--:--"


def test_the_repeated_hour_of_a_dst_fall_back_shows_the_zone():
    start = datetime(2026, 10, 24, 23, 30, tzinfo=UTC)  # Berlin 01:30 CEST, the night clocks go back
    shown = [when(start + timedelta(minutes=m), "Europe/Berlin", start) for m in (0, 60, 100, 150)]
    assert shown == ["01:30", "02:30 CEST", "02:10 CET", "03:00"]
