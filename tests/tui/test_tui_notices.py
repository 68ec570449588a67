"""The customer notice on screen: shown for the level, copied with t and recorded; read-only for
watchers; in the palette. Clock fixed, keys through Pilot."""

from __future__ import annotations

from runbook.engine.notices import minute_up
from runbook.engine.state import NOTICE
from runbook.format.times import hhmm
from runbook.tui.widgets import NoticeLine
from tests.conftest import at, make_runbook, three
from tests.tui.conftest import press, settle

COMMS = {"late": {"ko": "서비스 재개 시각이 {resume_p90}(으)로 변경되었습니다 [b]x[/b]",
                  "en": "Service will now resume at {resume_p90}."},
         "resumed": {"en": "Back since {resumed_at}."}}


def with_comms(rig):
    rig.loaded = make_runbook(
        [{"id": "prep", "title": "Prepare", "estimate": three(2, 3, 6)},
         {"id": "cable", "title": "Swap the cable", "estimate": three(5, 8, 15)},
         {"id": "start-db", "title": "Start the DB", "estimate": three(3, 5, 9),
          "resumes_service": True}],
        announced="2026-11-25T00:40", comms=COMMS)
    return rig


def late_operator(rig, lang: str = "ko"):
    app = with_comms(rig).operator()
    app.desk.session.notice_lang = lang
    return app


async def test_t_copies_the_late_notice_and_records_it(rig):
    app = late_operator(rig)
    async with app.run_test(size=(100, 30)) as pilot:
        app.refresh_now()
        await press(pilot, "space")  # start prep
        assert app.snapshot.notice is None  # on track: nothing to tell customers
        assert not app.main.query_one(NoticeLine).display
        rig.clock.set(at(41))  # the announced 00:40 has passed with service down: LATE
        snap = app.refresh_now()
        await settle(pilot)
        p90 = hhmm(minute_up(snap.forecast.p90), "Asia/Seoul")
        text = f"서비스 재개 시각이 {p90}(으)로 변경되었습니다 [b]x[/b]"
        assert snap.word == "LATE" and snap.notice.text == text and snap.notice.lang == "ko"
        line = app.main.query_one(NoticeLine)
        assert line.display
        shown = str(line.render())
        assert "Customer notice (ko, LATE)" in shown and text in shown and "t copies it" in shown
        await press(pilot, "t")
        assert app.clipboard == text
        assert "Copied the LATE customer notice (ko)" in app.said[-1]
    notices = [e for e in rig.raw_events() if e.type == NOTICE]
    assert [(e.actor, e.payload) for e in notices] == [
        ("kim", {"level": "late", "lang": "ko", "text": text, "via": "copy"})]
    assert notices[0].at == at(41)


async def test_no_notice_for_the_level_says_why_and_records_nothing(rig):
    app = late_operator(rig)
    async with app.run_test(size=(100, 30)) as pilot:
        app.refresh_now()
        await press(pilot, "space", "t")
        assert "No customer notice for ON TRACK in the runbook's comms:" in app.said[-1]
    assert not [e for e in rig.raw_events() if e.type == NOTICE]


async def test_watchers_see_the_notice_read_only(rig):
    operator = late_operator(rig, "en")
    async with operator.run_test(size=(100, 30)) as pilot:
        operator.refresh_now()
        await press(pilot, "space")
        rig.clock.set(at(41))
        operator.refresh_now()  # the operator's engine records the LATE alert
        await settle(pilot)
    watcher = rig.watcher()
    watcher.desk.session.notice_lang = "en"
    async with watcher.run_test(size=(100, 30)) as pilot:
        watcher.refresh_now()
        await settle(pilot)
        line = watcher.main.query_one(NoticeLine)
        assert line.display and "(read-only)" in str(line.render())
        assert "Service will now resume at" in str(line.render())
        await press(pilot, "t")
        assert "Read-only: you are watching this run" in watcher.said[-1]
        titles = [c.title for c in watcher.get_system_commands(watcher.screen)]
        assert "Copy the customer notice (recorded)" not in titles
    assert not [e for e in rig.raw_events() if e.type == NOTICE]


async def test_the_palette_offers_the_copy(rig):
    app = late_operator(rig)
    async with app.run_test(size=(100, 30)):
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Copy the customer notice (recorded)" in titles


def test_the_late_notice_at_80x24(snap_compare, rig):
    app = late_operator(rig, "en")

    async def before(pilot):
        app.refresh_now()
        await press(pilot, "space")
        rig.clock.set(at(41))
        app.refresh_now()
        await settle(pilot)
        app.say("")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=before)


async def test_the_resume_moment_names_the_rule_and_its_deadline(rig):
    rig.loaded = make_runbook(
        [{"id": "prep", "title": "Prepare", "estimate": three(2, 3, 6), "resumes_service": True},
         {"id": "verify", "title": "Verify", "estimate": "2m"}],
        announced="2026-11-25T00:10", policy={"outage_report": "kr-fss", "subscribers": 5000},
        comms=COMMS)
    app = rig.operator()
    app.desk.session.notice_lang = "en"
    async with app.run_test(size=(120, 30)) as pilot:
        app.refresh_now()
        await press(pilot, "space")
        rig.clock.set(at(45))  # 35 minutes past the announced 00:10: 30 or more under kr-fss
        await press(pilot, "space")  # complete prep: service is back
        snap = app.refresh_now()
        await settle(pilot)
        assert snap.overrun_text() == "35m late; kr-fss report due 00:40 +1d"
        assert snap.report_lines() == [
            "kr-fss (Korea FSS electronic financial incident report (2025 revision)): report to "
            "the FSS by 00:40 +1d"]
        assert snap.notice.text == "Back since 00:45."
