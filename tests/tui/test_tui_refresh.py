"""The refresh: off the UI thread, driven by the injected clock, alerts as banner + bell."""

from __future__ import annotations

import threading

from runbook.engine.state import ALERT
from runbook.format.model import Level
from tests.tui.conftest import notices, press, quiet


def header(app) -> str:
    return " ".join(str(app.main.query_one(f"#{part}").render()) for part in ("clock", "level"))


def forecast(app) -> str:
    return str(app.main.query_one("#forecast").render())


async def test_the_timer_refresh_runs_the_forecast_in_a_worker_thread(rig):
    app = rig.operator()
    threads: list[str] = []
    refresh = app.desk.refresh

    def spy(*args):
        threads.append(threading.current_thread().name)
        return refresh(*args)

    app.desk.refresh = spy
    async with app.run_test(size=(100, 30)) as pilot:
        app.refresh_worker()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert threads and threads[0] != threading.main_thread().name
        assert app.snapshot is not None and "announced 00:40  ·  on time 99%" in forecast(app)


async def test_the_screen_follows_the_manual_clock(rig):
    app = rig.operator()
    async with app.run_test(size=(100, 30)) as pilot:
        app.refresh_now()
        await press(pilot, "space")
        app.refresh_now()
        await pilot.pause()
        assert "00:00:00 KST  T+0:00  resume 00:40 in 40:00" in header(app)
        rig.clock.advance(90)
        app.refresh_now()
        await pilot.pause()
        assert "00:01:30 KST  T+1:30  resume 00:40 in 38:30" in header(app)
        assert "1:30" in str(app.main.table.get_row("prep"))  # the running step ticks live


async def test_a_worse_level_rings_the_bell_raises_the_banner_and_is_recorded(rig):
    app = rig.operator()
    bells: list[int] = []
    app.bell = lambda: bells.append(1)
    async with app.run_test(size=(100, 30)) as pilot:
        app.refresh_now()
        await press(pilot, "space")  # prep runs far too long
        banner = app.main.query_one("#banner")
        assert not banner.display
        rig.clock.advance(16 * 60)
        app.refresh_now()
        await pilot.pause()
        assert app.snapshot.level == Level.at_risk and bells == [1]
        assert banner.display and "AT RISK" in str(banner.render())
        assert "Rollback needs" in str(banner.render())
        assert "AT RISK" in header(app)  # a word, not only a colour
        assert [e.payload["level"] for e in rig.raw_events() if e.type == ALERT] == ["at_risk"]
        await press(pilot, "escape")
        assert not banner.display
        rig.clock.advance(4 * 60)
        app.refresh_now()
        await pilot.pause()
        assert app.snapshot.level == Level.decide_now and bells == [1, 1]
        assert banner.display and "DECIDE NOW" in str(banner.render())
        assert "press c" in forecast(app) or "Trigger rollback" in str(banner.render())


async def test_a_snapshot_older_than_a_shown_action_is_dropped(rig):
    app = rig.operator()
    async with app.run_test(size=(100, 30)) as pilot:
        app.refresh_now()
        stale = app.desk.view()  # what a worker computed before the key press
        await press(pilot, "space")
        app.show(stale)
        await pilot.pause()
        assert app.snapshot.state.steps["prep"].status == "running"


async def test_a_failing_refresh_is_reported_and_the_screen_stays(rig):
    app = rig.operator()
    async with app.run_test(size=(100, 30)) as pilot:
        app.refresh_now()
        app.desk.session.store.close()
        app.refresh_worker()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "Refresh failed" in notices(app) and "closed" in notices(app)
        assert app.is_running


async def test_no_color_keeps_every_level_a_word(rig, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    engine, resumed = rig.engine()
    from runbook.tui.launch import operator_app

    app = quiet(operator_app(engine, resumed, interval=None))
    assert app.no_color
    async with app.run_test(size=(80, 24)) as pilot:
        app.refresh_now()
        await pilot.pause()
        assert "ON TRACK" in header(app)
        assert "○ ready" in str(app.main.table.get_row("prep")[0])
