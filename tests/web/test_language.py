"""`runbook serve` in Korean: which language a request gets, the page and /status.json in it.

The choice is pure (runbook/web/language.py); the rest goes through the real application
(build_app) with aiohttp's test client, as tests/web/test_access.py does.
"""

from __future__ import annotations

import json

import pytest

from runbook.i18n import using
from runbook.web.language import accepted, choose
from runbook.web.page import render, view
from tests.web.test_access import TOKEN, client_for, follower  # noqa: F401  (fixture)
from tests.web.test_status import engine, snapshot  # noqa: F401  (fixture)

KO = {"Accept-Language": "ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7"}
EN = {"Accept-Language": "en-US,en;q=0.9"}


@pytest.mark.parametrize(("header", "lang"), [
    ("ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7", "ko"),  # a phone set to Korean
    ("en-US,en;q=0.9,ko;q=0.8", "en"),
    ("ko", "ko"), ("KO-kr", "ko"), ("en-GB", "en"),
    ("fr-FR, ko;q=0.5, en;q=0.4", "ko"),  # French first: runbook has none, Korean next
    ("en;q=0.3, ko;q=0.7", "ko"),  # by q, not by order
    ("ko;q=0, en", "en"),  # q=0: not Korean
    ("fr, de", None), ("*", None), ("", None), (None, None),
    ("ko;q=abc, en;q=0.5", "en"),  # a q that is not a number counts as 0
    ("C, POSIX", None),  # locale names, not languages a browser sends
])
def test_accept_language(header, lang):
    assert accepted(header) == lang


def test_the_address_then_serve_lang_then_the_browser_then_the_server():
    assert choose({}, KO, pinned=None, default="en") == "ko"
    assert choose({}, {}, pinned=None, default="ko") == "ko"  # serve's own LANG
    assert choose({}, {"Accept-Language": "fr"}, pinned=None, default="en") == "en"
    assert choose({}, EN, pinned="ko", default="ko") == "ko"  # serve --lang ko pins it
    assert choose({"lang": "en"}, KO, pinned="ko", default="ko") == "en"  # the link says so
    assert choose({"lang": "ko_KR"}, EN, pinned=None, default="en") == "ko"
    assert choose({"lang": "xx"}, KO, pinned=None, default="en") == "ko"  # not one: passed over


def keys(value, prefix=""):
    """Every key path of a JSON value (list items as [])."""
    if isinstance(value, dict):
        return {p for k, v in value.items() for p in {prefix + k} | keys(v, prefix + k + ".")}
    if isinstance(value, list):
        return {p for item in value for p in keys(item, prefix + "[].")}
    return set()


WORDS = ("level_word", "action", "summary")  # the only fields that follow the language


def test_status_json_keeps_its_keys_and_coded_values_in_korean(engine):  # noqa: F811
    engine.start("prep")
    engine.clock.advance(25 * 60)  # running long: a contingency and a decision deadline
    with using("en"):
        en = json.loads(json.dumps(snapshot(engine)))
    with using("ko"):
        ko = json.loads(json.dumps(snapshot(engine)))
    assert keys(ko) == keys(en) and ko["contingencies"]
    assert {k: v for k, v in ko.items() if k not in WORDS} == \
        {k: v for k, v in en.items() if k not in WORDS}
    assert ko["level"] == en["level"] != ko["level_word"]
    words = {"at_risk": "지연 위험", "decide_now": "즉시 결정", "late": "지연"}
    assert ko["level_word"] == words[ko["level"]]
    for key in WORDS:
        assert any("\uac00" <= c <= "\ud7a3" for c in ko[key]), (key, ko[key])  # Hangul


def test_the_page_in_korean_times_and_durations_in_korean_forms(engine):  # noqa: F811
    engine.start("prep")
    engine.clock.advance(25 * 60)
    with using("ko"):
        st = snapshot(engine)
        v = view(st)
        page = render(st)
    assert '<html lang="ko">' in page
    for label in ("고객 안내", "공지 재개 시각", "비상 계획 결정 기한", "진행 상황",
                  "비상 계획 발동 시", "초마다 새로 고침"):
        assert label in page, label
    assert v["progress"] == "0/4 단계" and v["now-doing"] == "진행 중: Prepare"
    assert v["tell-note"].startswith("공지한 재개 시각 00:40은(는) 지키기 어렵습니다")
    assert f"대신 {v['tell-time']}(으)로 안내하십시오" in v["tell-note"]
    line = v["contingencies"][0]
    assert line.startswith("Roll back to the old port: 지금 발동하면 ")  # the runbook's own words
    assert "소요 " in line and "분" in line and "m," not in line  # 12분, never 12m
    assert v["as-of"].endswith(" 기준")
    for english in ("What to tell", "Announced", "Progress", "steps", "Now:", "confidence"):
        assert english not in page, english


def test_a_time_on_the_next_day_reads_plus_one_day_in_korean(engine):  # noqa: F811
    with using("ko"):
        st = snapshot(engine)
        st["generated_at"] = "2026-11-24T23:50:00+09:00"  # ten minutes before the window's day
        st["contingencies"] = []
        v = view(st)
    assert v["announced"] == "00:40 +1일"
    assert v["p90"].endswith(" +1일")


def test_korean_text_on_the_page_is_escaped_too(engine):  # noqa: F811
    with using("ko"):
        st = snapshot(engine)
    st["runbook"]["title"] = '<script>alert("x")</script>'
    st["contingency_running"] = {"id": "rb", "title": "<img src=x onerror=alert(1)>",
                                 "triggered_at": st["generated_at"]}
    page = render(st, "ko")
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;: 00:00부터 진행 중." in page
    assert page.count("<script") == 1


async def test_a_korean_browser_gets_the_page_json_and_stream_in_korean(follower):  # noqa: F811
    client = await client_for(follower, None)
    try:
        r = await client.get("/", headers=KO)
        page = await r.text()
        assert r.headers["Content-Language"] == "ko" and r.headers["Vary"] == "Accept-Language"
        assert '<html lang="ko">' in page
        assert "정상 진행" in page and "고객 안내" in page and "ON TRACK" not in page
        r = await client.get("/status.json", headers=KO)
        st = await r.json()
        assert st["level"] == "on_track" and st["level_word"] == "정상 진행"
        assert st["action"] == "계속 진행하십시오."
        async with client.get("/events?lang=ko", headers=EN) as stream:  # the page's language
            while not (line := await stream.content.readline()).startswith(b"data: "):
                pass
        event = json.loads(line[6:])
        assert event["view"]["level-word"] == "정상 진행"
        assert event["view"]["progress"] == "0/4 단계"
        r = await client.get("/?lang=en", headers=KO)  # a link can ask for English
        assert "ON TRACK" in await r.text() and r.headers["Content-Language"] == "en"
        r = await client.get("/", headers=EN)
        assert "ON TRACK" in await r.text()
        r = await client.get("/tui", headers=KO)
        tui = await r.text()
        assert '<html lang="ko">' in tui and "/tui/ws/ko" in tui and "상황 페이지" in tui
    finally:
        await client.close()


async def test_serve_lang_pins_every_answer(follower):  # noqa: F811
    client = await client_for(follower, None, lang="ko")
    try:
        r = await client.get("/", headers=EN)
        assert "정상 진행" in await r.text()
        r = await client.get("/status.json")  # no Accept-Language at all (curl)
        assert (await r.json())["level_word"] == "정상 진행"
    finally:
        await client.close()


async def test_refusals_are_said_in_the_browsers_language(follower):  # noqa: F811
    client = await client_for(follower, TOKEN)
    try:
        r = await client.get("/", headers=KO)
        assert r.status == 401 and "접근 토큰이 필요합니다" in await r.text()
        r = await client.get("/", headers={**KO, "Authorization": "Bearer wrong-token-123456"})
        assert r.status == 403 and "접근 토큰이 틀렸습니다" in await r.text()
        r = await client.get("/", headers=EN)
        assert r.status == 401 and "needs its access token" in await r.text()
    finally:
        await client.close()


async def test_tui_runs_the_watch_screen_in_the_pages_language(follower, monkeypatch):  # noqa: F811
    """The /tui page names its language in the websocket's path; the watch process gets it."""
    import sys

    from runbook.web import tui

    started: list[str] = []

    class Service:  # stands in for textual-serve's AppService: records the command, runs nothing
        def __init__(self, command: str, **kw) -> None:
            started.append(command)

        async def start(self, width: int, height: int) -> None:
            pass

        async def stop(self) -> None:
            pass

    monkeypatch.setattr(tui, "AppService", Service)
    client = await client_for(follower, None)
    try:
        for path, headers in (("/tui/ws/ko", EN), ("/tui/ws", KO), ("/tui/ws/xx", EN)):
            async with client.ws_connect(path, headers=headers) as ws:
                await ws.close()
    finally:
        await client.close()
    assert [c.rsplit("--lang ", 1)[1] for c in started] == ["ko", "ko", "en"]
    assert all(c.startswith(sys.executable) and " watch " in c for c in started)
