"""Who may read the run: the token on every route, loopback-only without one, the headers.

The real application (runbook.web.server.build_app) in this process, through aiohttp's test
client; the store is a real SQLite file with a run in it.
"""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer

from runbook.engine.clock import ManualClock
from runbook.engine.run import Actor, new_run
from runbook.store import Store, StoreError
from runbook.web import access as access_mod
from runbook.web.access import COOKIE, Access, is_loopback
from runbook.web.follow import Follower
from runbook.web.server import build_app
from tests.conftest import START
from tests.web.test_status import runbook

TOKEN = "a-good-token-0123456789"
ROUTES = ["/", "/status.json", "/events", "/static/status.js", "/static/status.css", "/tui",
          "/tui/static/js/textual.js", "/tui/ws", "/tui/ws/ko"]


@pytest.fixture
def follower(tmp_path):
    with Store(tmp_path / "runs.db") as store:
        new_run(store, runbook(), ManualClock(START), Actor("kim", "h"), samples=1_000)
    f = Follower(str(tmp_path / "runs.db"), None, ManualClock(START), publish=lambda frame: None)
    f.open()
    yield f
    f.stop()


async def client_for(follower, token, **kw) -> TestClient:
    client = TestClient(TestServer(build_app(follower, Access(token), **kw)))
    await client.start_server()
    return client


async def test_every_route_refuses_a_missing_or_wrong_token(follower):
    client = await client_for(follower, TOKEN)
    try:
        for route in ROUTES:
            r = await client.get(route, allow_redirects=False)
            assert r.status == 401, route
            assert r.headers["WWW-Authenticate"].startswith("Bearer")
            assert "ON TRACK" not in await r.text()
            r = await client.get(route, headers={"Authorization": "Bearer wrong-token-123456"})
            assert r.status == 403, route
            r = await client.get(route + "?token=wrong-token-123456", allow_redirects=False)
            assert r.status == 403, route
            r = await client.get(route, cookies={COOKIE: "wrong-token-123456"})
            assert r.status == 403, route
    finally:
        await client.close()


async def test_the_token_opens_every_route_by_header_cookie_or_link(follower):
    client = await client_for(follower, TOKEN)
    try:
        r = await client.get("/status.json", headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status == 200 and (await r.json())["level"] == "on_track"
        r = await client.get(f"/?token={TOKEN}", allow_redirects=False)
        assert r.status == 303 and r.headers["Location"] == "/"  # the token leaves the address
        cookie = r.headers["Set-Cookie"]
        assert f"{COOKIE}={TOKEN}" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        r = await client.get("/", cookies={COOKIE: TOKEN})
        assert r.status == 200 and "ON TRACK" in await r.text()
        r = await client.get(f"/tui?token={TOKEN}&fontsize=12", allow_redirects=False)
        assert r.status == 303 and r.headers["Location"] == "/tui?fontsize=12"
        r = await client.get(f"/static/status.js?token={TOKEN}")
        assert r.status == 200
    finally:
        await client.close()


async def test_tokens_are_compared_in_constant_time(follower, monkeypatch):
    calls = []
    real = access_mod.hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(access_mod.hmac, "compare_digest", spy)
    client = await client_for(follower, TOKEN)
    try:
        r = await client.get("/status.json", headers={"Authorization": "Bearer nope-nope-nope-1"})
        assert r.status == 403
        assert calls == [(b"nope-nope-nope-1", TOKEN.encode())]
    finally:
        await client.close()


async def test_without_a_token_only_loopback_host_names_are_answered(follower):
    client = await client_for(follower, None)
    try:
        assert (await client.get("/")).status == 200  # Host: 127.0.0.1:PORT
        for host in ("localhost:8080", "[::1]:8080", "127.0.0.1"):
            assert (await client.get("/", headers={"Host": host})).status == 200, host
        for host in ("attacker.example:8080", "192.168.1.5:8080", "0.0.0.0:8080"):
            r = await client.get("/status.json", headers={"Host": host})
            assert r.status == 403, host  # DNS rebinding cannot read the run
    finally:
        await client.close()


async def test_a_cross_site_websocket_is_refused(follower):
    client = await client_for(follower, None)
    try:
        r = await client.get("/tui/ws", headers={
            "Origin": "http://attacker.example", "Upgrade": "websocket", "Connection": "Upgrade",
            "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
        assert r.status == 403
    finally:
        await client.close()


async def test_security_headers_on_every_answer(follower):
    client = await client_for(follower, None)
    try:
        for route in ("/", "/status.json", "/static/status.js", "/no-such-page", "/tui"):
            r = await client.get(route)
            h = r.headers
            assert h["X-Content-Type-Options"] == "nosniff", route
            assert h["X-Frame-Options"] == "DENY" and h["Referrer-Policy"] == "no-referrer"
            csp = h["Content-Security-Policy"]
            assert "frame-ancestors 'none'" in csp and "script-src 'self';" in csp, route
            assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, route
            assert h["Server"] == "runbook", route
        r = await client.get("/")
        assert "style-src 'self';" in r.headers["Content-Security-Policy"]
        assert r.headers["Cache-Control"] == "no-store"
        r = await client.get("/static/status.js")
        assert r.headers["Content-Type"].split(";")[0] in ("text/javascript",
                                                           "application/javascript")
    finally:
        await client.close()


async def test_the_number_of_watch_sessions_is_capped(follower):
    client = await client_for(follower, None, max_tui=0)
    try:
        r = await client.get("/tui/ws", headers={
            "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
        assert r.status == 503 and "Too many watch sessions" in await r.text()
    finally:
        await client.close()


def test_the_server_holds_no_write_path_to_the_store(follower):
    assert follower.store is not None and follower.store.readonly
    with pytest.raises(StoreError, match="read-only"):
        follower.store.append(follower.current_run(), at=START, actor="x", host="y", type="note",
                              payload={"text": "from the web"})


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.1.2.3", True), ("::1", True), ("[::1]", True),
    ("localhost", True), ("LOCALHOST", True), ("0.0.0.0", False), ("::", False),
    ("192.168.0.10", False), ("example.com", False), ("localhost.example.com", False)])
def test_loopback(host, loopback):
    assert is_loopback(host) is loopback
