"""`runbook watch`: read-only, follows the operator, never writes; many watchers at once."""

from __future__ import annotations

from tests.tui.conftest import notices, press, table_text


def mode_line(app) -> str:
    return str(app.main.query_one("#mode").render())


async def test_the_watcher_cannot_write_and_says_why(rig):
    engine, _ = rig.engine()
    engine.start("prep")
    app = rig.watcher()
    assert app.desk.session.store.readonly
    async with app.run_test(size=(100, 30)) as pilot:
        app.refresh_now()
        await pilot.pause()
        assert mode_line(app).startswith("WATCHING — read-only")
        before = rig.raw_events()
        for key in ("space", "s", "d", "f", "k", "n", "c"):
            await press(pilot, key)
        assert rig.raw_events() == before  # nothing recorded, not even a refused attempt
        assert "read-only: you are watching this run" in notices(app).lower()
        assert app.screen is app.main  # no dialog opened for k, n or c
        footer_keys = {b.binding.action for b in app.screen.active_bindings.values()}
        assert "advance" not in footer_keys and "quit" in footer_keys
        # the desk refuses even when asked directly, and the store itself is read-only
        assert app.desk.why_not("complete", "prep")


async def test_the_watcher_follows_the_operator_on_its_next_refresh(rig):
    engine, _ = rig.engine()
    app = rig.watcher()
    async with app.run_test(size=(100, 30)) as pilot:
        app.refresh_now()
        await pilot.pause()
        assert "○ ready ◆ prep" in table_text(app)
        engine.start("prep")  # another process, another connection
        rig.clock.advance(30)
        app.refresh_worker()  # what the 1 Hz timer does: sync + tick in a worker thread
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "▶ RUNNING ◆ prep" in table_text(app)
        assert "kim" in mode_line(app)


async def test_many_watchers_at_once(rig):
    engine, _ = rig.engine()
    watchers = [rig.watcher() for _ in range(3)]
    async with (watchers[0].run_test(size=(90, 26)) as p0,
                watchers[1].run_test(size=(90, 26)) as p1,
                watchers[2].run_test(size=(90, 26)) as p2):
        engine.start("prep")
        engine.complete("prep")
        for app, pilot in zip(watchers, (p0, p1, p2), strict=True):
            app.refresh_now()
            await pilot.pause()
            assert "✓ done" in table_text(app) and app.snapshot.seq == engine.state.last_seq


async def test_the_watcher_sees_who_acted_last_and_when(rig):
    engine, _ = rig.engine()
    engine.start("prep")
    rig.clock.advance(4 * 60 + 10)
    app = rig.watcher()
    async with app.run_test(size=(120, 30)) as pilot:
        app.refresh_now()
        await pilot.pause()
        assert "last action by kim 4m ago (start prep)" in mode_line(app)
