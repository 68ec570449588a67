"""The moments that cost trust, as the screen words them (headless, on a fixed clock), and the
few that need the real app (selection, concurrent presses, store warnings, 60 columns)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from runbook.engine.clock import ManualClock
from runbook.engine.run import Actor, Engine, new_run
from runbook.engine.state import fold
from runbook.forecast.core import Option
from runbook.format.model import Level
from runbook.store import Store, StoreUnavailable
from runbook.tui import journal, view
from runbook.tui.desk import Desk
from runbook.tui.rows import signed_clock
from runbook.tui.view import until
from tests.conftest import START, make_runbook, three
from tests.tui.conftest import OPS, notices, press, small_runbook, table_text


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "runs.db") as s:
        yield s


@pytest.fixture
def engine(store):
    return new_run(store, small_runbook(), ManualClock(START), OPS, samples=500)


def test_countdowns_show_seconds_under_two_minutes_and_variance_in_m_ss():
    assert [until(s) for s in (0.4, 57, 65, 119, 120, 3900)] == [
        "0s", "57s", "1m05s", "1m59s", "2m", "1h05m"]
    assert [signed_clock(s) for s in (543, -80, 0, 3725)] == ["+9:03", "-1:20", "0:00", "+1:02:05"]


def test_the_decision_deadline_57_seconds_away_reads_in_57s(engine):
    engine.start("prep")
    engine.clock.advance(16 * 60)
    snap = Desk(engine).refresh()
    deadline = snap.forecast.decision_deadline
    snap = dataclasses.replace(snap, now=deadline - timedelta(seconds=57))
    assert snap.deadline_text(deadline).endswith("(in 57s)")
    assert "(in 57s)" in snap.contingency_line() and "in 0m" not in snap.contingency_line()


def test_progress_counts_the_steps_the_run_still_needs(engine):
    engine.start("prep")
    engine.complete("prep")
    engine.start("cable")
    assert Desk(engine).refresh().progress_text() == "1/5 steps"
    engine.trigger("rollback")
    # prep done before the trigger, plus the rollback's two steps; abandoned ones do not count
    assert Desk(engine).refresh().progress_text() == "1/3 steps"


def test_at_resume_the_screen_says_the_overrun_and_the_report_obligation(engine):
    engine.start("prep")
    engine.complete("prep")
    for step in ("notify", "cable"):
        engine.start(step)
    engine.clock.set(START + timedelta(minutes=56, seconds=34))
    for step in ("notify", "cable"):
        engine.complete(step)
    engine.start("start-db")
    engine.complete("start-db")  # resumes service at 00:56:34; announced 00:40
    snap = Desk(engine).refresh()
    assert snap.overrun_text() == "16m34s late; outage report due 00:50 +1d"
    assert "resumed 00:56, 16m34s late; outage report due 00:50 +1d" in snap.countdown_text()
    assert snap.do_now().startswith("Service is back, 16m34s late; outage report due 00:50 +1d.")


def test_one_final_word_for_a_finished_or_aborted_run(engine):
    engine.abort("NO-GO: vendor not on the bridge")
    snap = Desk(engine).refresh()
    assert snap.word == "ABORTED"
    assert snap.do_now().startswith("Run ABORTED at 00:00: NO-GO: vendor not on the bridge.")


def test_a_failed_step_says_what_to_do_and_its_time_stops(engine):
    engine.start("prep")
    engine.clock.advance(4 * 60)
    engine.fail("prep", "latch stuck")
    engine.clock.advance(10 * 60)
    snap = Desk(engine).refresh()
    assert snap.do_now() == ("prep FAILED at 00:04 (latch stuck): s retries it, k skips it, or c "
                             "triggers rollback.")
    assert snap.row("prep").taken == "4:00"


def test_the_trigger_is_acknowledged_on_the_next_refresh(engine):
    engine.start("prep")
    engine.clock.advance(20 * 60)
    desk = Desk(engine)
    desk.refresh()
    engine.trigger("rollback", "port dead")
    snap = desk.refresh()
    assert snap.do_now() == "Rollback triggered: start it now: space starts rb-restore."
    assert snap.banner is None  # no stale "trigger the contingency" while it is acknowledged
    assert snap.contingency_lines() == [
        "Rollback TRIGGERED at 00:20 by kim: Roll back to the old port"]


def test_a_passed_deadline_whose_contingency_still_beats_the_main_path_is_said(engine):
    engine.start("prep")
    engine.clock.advance(30 * 60)
    snap = Desk(engine).refresh()
    fc = snap.forecast
    passed = Option("rollback", 900.0, snap.now - timedelta(minutes=2), 0.73)
    fc = dataclasses.replace(fc, p_on_time=0.23, options=(passed,),
                             decision_deadline=passed.deadline)
    snap = view.build(snap.plan, engine.state, now=snap.now, level=Level.late, forecast=fc,
                      run_id="r", label="live", critical=frozenset(), planned=())
    line = snap.do_now()
    assert "rollback" in line and "73%" in line and "23%" in line and "passed" in line
    assert "73%" in snap.banner and "23%" in snap.banner


def test_several_contingencies_each_show_need_deadline_and_outcome(store):
    engine = new_run(store, small_runbook(contingencies=2), ManualClock(START), OPS, samples=500)
    snap = Desk(engine).refresh()
    lines = snap.contingency_lines()
    assert len(lines) == 2
    for text in lines:
        assert "needs" in text and "decide by" in text and "if triggered now" in text
    assert {t.split()[0] for t in lines} == {"Rollback", "Failover"}
    picker = view.option_text(snap, "failover")
    assert picker.startswith("failover: Fail over to the DR site\n  needs ")
    assert "decide by" in picker and "if triggered now" in picker


def test_times_off_today_carry_their_date(store):
    """A window from 23:30 to 00:30: before midnight the announced resume reads +1d."""
    loaded = make_runbook([{"id": "a", "estimate": three(20, 30, 60)},
                           {"id": "b", "estimate": three(20, 30, 60)}],
                          window={"start": "2026-11-24T23:30", "announced_resume": "2026-11-25T00:30"})
    start = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)
    engine = new_run(store, loaded, ManualClock(start), OPS, samples=500)
    engine.start("a")
    engine.clock.advance(10 * 60)
    snap = Desk(engine).refresh()
    assert "resume 00:30 +1d in 50:00" in snap.countdown_text()
    assert "announced 00:30 +1d" in snap.resume_line()
    assert "+1d" in snap.resume_line().split("P90 ")[1].split()[1]  # P90 tomorrow
    engine.clock.advance(40 * 60)  # 00:20 on the 25th: today again
    snap = Desk(engine).refresh()
    assert "resume 00:30 in 10:00" in snap.countdown_text()
    assert snap.at(engine.state.started_at) == "23:30 -1d"


START_BERLIN = datetime(2026, 10, 24, 23, 30, tzinfo=UTC)  # 01:30 CEST, the night clocks go back


def test_across_a_dst_fall_back_the_repeated_hour_names_its_zone(store):
    loaded = make_runbook([{"id": "a", "estimate": "60m"}, {"id": "b", "estimate": "40m"}],
                          timezone="Europe/Berlin",
                          window={"start": "2026-10-25T01:30", "announced_resume": "2026-10-25T03:30"})
    engine = new_run(store, loaded, ManualClock(START_BERLIN), OPS, samples=500)
    engine.start("a")
    engine.clock.advance(100 * 60)  # 02:10 CET: the second 02:10 of the night
    engine.complete("a")
    engine.start("b")
    snap = Desk(engine).refresh()
    assert snap.clock_text() == "02:10:00 CET"
    assert snap.row("a").taken == "1:40:00"  # 100 minutes, not 40: durations from instants
    entries = journal.entries(engine.state, loaded.plan.timezone, snap.now)
    started = next(e for e in entries if e.text.startswith("▶ started a"))
    done = next(e for e in entries if e.text.startswith("✓ completed a"))
    assert started.time == "01:30:00" and done.time == "02:10:00 CET"
    assert done.text == "✓ completed a in 1:40:00"
    assert snap.at(START_BERLIN + timedelta(minutes=50)) == "02:20 CEST"  # the first 02:20


def test_the_journal_shows_who_did_what_from_where_and_marks_undone(engine):
    engine.start("prep")
    engine.note("bridge noisy", "prep")
    engine.undo()
    engine.fail("prep", "latch stuck")
    lines = [(e.who, e.text, e.undone) for e in journal.entries(engine.state, "Asia/Seoul", START)]
    assert lines == [
        ("kim@ops-host", "started the run (live)", False),
        ("kim@ops-host", "▶ started prep", False),
        ("kim@ops-host", "note on prep: bridge noisy", True),
        ("kim@ops-host", "↶ undid note on prep", False),
        ("kim@ops-host", "✗ prep FAILED: latch stuck", False),
    ]
    later = START + timedelta(minutes=4)
    assert journal.last_action(engine.state, later) == "last action by kim 4m ago (fail prep)"


def test_a_restarted_session_folds_the_same_journal(engine, store):
    engine.start("prep")
    engine.undo()
    again = fold(engine.plan, store.events(engine.run_id))
    assert [e.text for e in journal.entries(again, "Asia/Seoul", START)] == [
        e.text for e in journal.entries(engine.state, "Asia/Seoul", START)]


# -- on the real screen ---------------------------------------------------------------------


async def test_a_concurrent_press_says_who_moved_the_step(rig):
    app = rig.operator()
    async with app.run_test(size=(100, 30)) as pilot:
        app.refresh_now()
        await press(pilot, "space")  # kim starts prep
        park = Engine(rig.store(), app.desk.session.info, rig.clock, Actor("park", "ops-02"))
        park.complete("prep")  # park completes it first; kim's screen has not refreshed yet
        await press(pilot, "d")
        assert "Prep was completed by park just now; nothing recorded" in notices(app)
        assert "start it first" not in notices(app)


async def test_the_selection_stays_where_the_operator_put_it_when_they_act_there(rig):
    app = rig.operator()
    async with app.run_test(size=(100, 30)) as pilot:
        app.refresh_now()
        await press(pilot, "space", "space")  # prep done, cable running
        app.main.table.select("notify")
        await press(pilot, "s")  # a second track: start notify where the selection is
        assert app.main.selected == "notify"
        rig.clock.advance(30)
        app.refresh_now()  # a refresh or another operator's event does not move it either
        await pilot.pause()
        assert app.main.selected == "notify"
        await press(pilot, "d")  # done with it: the selection follows the next step again
        assert app.main.selected == "cable"


async def test_clock_skew_and_an_unreachable_store_are_on_screen(rig, monkeypatch):
    app = rig.operator()
    async with app.run_test(size=(120, 30)) as pilot:
        session = app.desk.session
        reachable = session.store.data_version, session.store.writing

        def unreachable(*args, **kwargs):
            raise StoreUnavailable("the store is down (test)")

        monkeypatch.setattr(session.store, "data_version", unreachable)  # reads and writes fail
        monkeypatch.setattr(session.store, "writing", unreachable)
        rig.clock.set(START + timedelta(minutes=21, seconds=14))
        app.refresh_now()  # the sync finds the store gone: since now
        session.clock_skew_s = 20.0  # as measured before it went away
        rig.clock.set(START + timedelta(minutes=22))
        app.refresh_now()
        await pilot.pause()
        mode = str(app.main.query_one("#mode").render())
        assert "this host's clock is 20s behind the store's" in mode
        assert "store unreachable since 00:21:14" in mode
        monkeypatch.setattr(session.store, "data_version", reachable[0])  # it is back
        monkeypatch.setattr(session.store, "writing", reachable[1])
        session.clock_skew_s = 3.0
        app.refresh_now()
        await pilot.pause()
        assert "⚠" not in str(app.main.query_one("#mode").render())


@pytest.mark.parametrize("minutes", [0, 20, 57])
async def test_at_60_columns_the_level_word_is_never_cut(rig, minutes):
    app = rig.operator()
    async with app.run_test(size=(60, 24)) as pilot:
        app.refresh_now()
        await press(pilot, "space")
        rig.clock.advance(minutes * 60)
        if minutes == 57:  # resumed late: the longest header ("...; outage report due ...")
            e = app.desk.engine
            e.complete("prep")
            for step in ("cable", "notify"):
                e.start(step)
                e.complete(step)
            e.start("start-db")
            e.complete("start-db")
        snap = app.refresh_now()
        await pilot.pause()
        level = app.main.query_one("#level")
        assert str(level.render()) == f" {snap.word} "
        assert level.region.width == len(snap.word) + 2 and level.region.right <= 60
        assert "◆ prep" in table_text(app)
