"""`runbook serve` in a real headless Chromium: the status page, its live updates, the token, /tui.

The operator is another process (tests/web/writer.py: the real Engine on the wall clock) writing
to the same SQLite store the server follows read-only.
"""

from __future__ import annotations

import json
import time
from urllib.request import urlopen

import pytest

from tests.web.conftest import TOKEN, Operator, Served, live_runbook

# Records, in the page, the wall-clock time (ms) at which an element's text first changes.
WATCH_TEXT = """
const [id, key] = arguments;
const el = document.getElementById(id);
window[key] = null;
new MutationObserver(() => { if (window[key] === null) window[key] = Date.now(); })
  .observe(el, {childList: true, characterData: true, subtree: true});
"""

# Installed before any page script: keeps what every websocket receives, as text.
CAPTURE_WEBSOCKETS = """
window.__received = "";
const Native = window.WebSocket;
window.WebSocket = function (...args) {
  const ws = new Native(...args);
  const decoder = new TextDecoder();
  ws.addEventListener("message", (e) => {
    window.__received += typeof e.data === "string" ? e.data : decoder.decode(e.data, {stream: true});
  });
  return ws;
};
window.WebSocket.prototype = Native.prototype;
Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
"""


def wait_for(condition, timeout: float = 10.0, step: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"not within {timeout}s")


def watch_screen(browser, *expected: str) -> str:
    """What the /tui websocket has brought, once it holds every ``expected`` text."""
    def ready():
        received = browser.execute_script("return window.__received")
        return received if all(e in received for e in expected) else None

    return wait_for(ready, timeout=30)


def text(browser, element_id: str) -> str:
    return browser.execute_script(f"return document.getElementById('{element_id}').textContent")


def state(browser) -> str:
    """The connection's state as status.js says it (the words for it follow the language)."""
    return browser.execute_script("return document.getElementById('live').dataset.state")


def open_live(browser, url: str) -> None:
    browser.get(url)
    wait_for(lambda: state(browser) == "live")


def test_the_page_shows_the_level_and_an_action_by_another_process_within_a_second(
        browser, served, operator):
    browser.set_window_size(390, 844)
    open_live(browser, served.url)
    assert text(browser, "level-word") == "ON TRACK"
    assert browser.execute_script("return document.body.dataset.level") == "on_track"
    colour = browser.execute_script(
        "return getComputedStyle(document.querySelector('.level .word')).color")
    assert colour == "rgb(26, 127, 55)"  # the on-track green, beside the word
    assert text(browser, "progress") == "0/4 steps"
    assert "Swap the SAN port <fabric A>" in browser.title  # escaped on the way, shown as text

    latencies = []
    for command, element, expect in [("start prep", "now-doing", "Now: Prepare the change"),
                                     ("complete prep", "progress", "1/4 steps"),
                                     ("start swap", "now-doing", "Now: Swap the SFP and cable")]:
        browser.execute_script(WATCH_TEXT, element, "__changed")
        _, committed = operator.do(command)
        shown_ms = wait_for(lambda: browser.execute_script("return window.__changed"), 5)
        assert text(browser, element) == expect
        latencies.append(shown_ms / 1000 - committed)
    assert max(latencies) < 1.0, latencies


def test_a_phone_set_to_korean_gets_the_page_in_korean_and_live(browser, served, operator):
    """No --lang: the browser's Accept-Language decides; the stream follows the page's language."""
    browser.set_window_size(390, 844)
    agent = browser.execute_script("return navigator.userAgent")
    browser.execute_cdp_cmd("Network.setUserAgentOverride", {
        "userAgent": agent, "acceptLanguage": "ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7"})
    open_live(browser, served.url)
    assert browser.execute_script("return document.documentElement.lang") == "ko"
    assert text(browser, "live") == "실시간"
    assert text(browser, "level-word") == "정상 진행"
    assert text(browser, "action") == "계속 진행하십시오."
    assert text(browser, "progress") == "0/4 단계"
    body = browser.find_element("tag name", "body").text
    for words in ("고객 안내", "공지 재개 시각", "비상 계획 발동 시", "서비스 재개"):
        assert words in body, words
    for english in ("What to tell", "Announced", "Progress", "steps", "ON TRACK"):
        assert english not in body, english
    colour = browser.execute_script(
        "return getComputedStyle(document.querySelector('.level .word')).color")
    assert colour == "rgb(26, 127, 55)"
    browser.execute_script(WATCH_TEXT, "now-doing", "__changed")
    _, committed = operator.do("start prep")
    shown_ms = wait_for(lambda: browser.execute_script("return window.__changed"), 5)
    assert text(browser, "now-doing") == "진행 중: Prepare the change"  # the runbook's own words
    assert shown_ms / 1000 - committed < 1.0
    assert "ON TRACK" not in browser.find_element("tag name", "body").text  # updates stay Korean
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors


def test_a_client_that_reconnects_catches_up(browser, tmp_path, operator):
    first = Served(tmp_path / "runs.db")
    port = first.url.rsplit(":", 1)[1].strip("/")
    try:
        open_live(browser, first.url)
        assert text(browser, "progress") == "0/4 steps"
    finally:
        first.stop()
    wait_for(lambda: text(browser, "live") == "reconnecting…")
    assert state(browser) == "reconnecting"
    operator.do("start prep")  # while the page has no server
    operator.do("complete prep")
    second = Served(tmp_path / "runs.db", "--port", port)
    try:
        wait_for(lambda: text(browser, "progress") == "1/4 steps", timeout=15)
        assert text(browser, "live") == "live updates"
    finally:
        second.stop()


def test_a_wrong_or_missing_token_is_refused_and_the_right_one_works(browser, served_with_token):
    url = served_with_token.url
    browser.get(url + "?token=wrong-token-0000000000")
    body = browser.find_element("tag name", "body").text
    assert "Wrong access token" in body and "ON TRACK" not in body
    browser.get(url + "status.json")
    assert "needs its access token" in browser.find_element("tag name", "body").text
    browser.get(url + "tui")
    assert "needs its access token" in browser.find_element("tag name", "body").text

    open_live(browser, url + "?token=" + TOKEN)  # sets the cookie; the stream then uses it
    assert "token" not in browser.current_url  # redirected to the address without it
    assert text(browser, "level-word") == "ON TRACK"
    browser.get(url + "tui")  # the cookie opens /tui and its websocket too
    wait_for(lambda: browser.execute_script(
        "return document.body.classList.contains('-first-byte')"), timeout=30)


def test_tui_shows_the_watch_screen_in_the_browser(browser, served, operator):
    operator.do("start prep")
    browser.set_window_size(1200, 800)
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CAPTURE_WEBSOCKETS})
    browser.get(served.url + "tui")
    wait_for(lambda: browser.execute_script(
        "return document.body.classList.contains('-first-byte')"), timeout=30)
    watch_screen(browser, "Prepare the change", "WATCHING — read-only", operator.run_id)
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors  # nothing blocked by the Content-Security-Policy, nothing missing


@pytest.fixture
def no_js_browser(browser):
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    return browser


def test_without_javascript_the_page_shows_the_state_as_of_load(no_js_browser, served, operator):
    seq, _ = operator.do("start prep")
    wait_for(lambda: json.load(urlopen(served.url + "status.json"))["seq"] >= seq)
    no_js_browser.get(served.url)
    body = no_js_browser.find_element("tag name", "body").text
    assert "ON TRACK" in body and "Now: Prepare the change" in body and "0/4 steps" in body
    assert "reloads every 15 s" in body  # the <noscript> refresh keeps it current


def test_on_postgresql_the_page_and_tui_follow_an_operator(browser, pg_url, tmp_path):
    """The same on a PostgreSQL store: the follower is woken by LISTEN/NOTIFY, /tui runs
    `runbook watch RUN --db postgresql://...`."""
    op = Operator(pg_url, live_runbook(tmp_path / "san-swap.yaml"))
    served = Served(pg_url)
    try:
        open_live(browser, served.url)
        assert text(browser, "level-word") == "ON TRACK"
        browser.execute_script(WATCH_TEXT, "now-doing", "__changed")
        _, committed = op.do("start prep")
        shown_ms = wait_for(lambda: browser.execute_script("return window.__changed"), 5)
        assert text(browser, "now-doing") == "Now: Prepare the change"
        assert shown_ms / 1000 - committed < 1.0
        browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument",
                                {"source": CAPTURE_WEBSOCKETS})
        browser.set_window_size(1200, 800)
        browser.get(served.url + "tui")
        watch_screen(browser, "Prepare the change", "WATCHING — read-only", op.run_id)
    finally:
        served.stop()
        op.close()
