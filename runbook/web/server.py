"""`runbook serve`: one aiohttp application on one port.

    /              the status page (HTML; live through /events, reloads itself without JavaScript)
    /status.json   the same as JSON (README: the /status.json contract)
    /events        server-sent events: the page texts, at every change and once a second
    /static/...    the page's script and style sheets
    /tui           the watch screen in the browser (textual-serve, one `runbook watch` per session)
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
from pathlib import Path
from typing import TextIO

from aiohttp import web

from runbook.engine.clock import Clock, SystemClock
from runbook.errors import Unusable
from runbook.i18n import current
from runbook.web.access import Access, add_headers, is_loopback, middleware
from runbook.web.follow import Follower, Frame
from runbook.web.language import choose
from runbook.web.page import render

STATIC = Path(__file__).resolve().parent / "static"
KEEPALIVE_S = 15.0


class Hub:
    """The latest frame, and an event that fires when the next one arrives (one per frame)."""

    def __init__(self) -> None:
        self.latest: Frame | None = None
        self.event = asyncio.Event()
        self.closing = False

    def publish(self, frame: Frame) -> None:
        self.latest = frame
        event, self.event = self.event, asyncio.Event()
        event.set()

    def close(self) -> None:
        self.closing = True
        self.event.set()


HUB = web.AppKey("hub", Hub)


def build_app(follower: Follower, access: Access, *, max_tui: int = 10,
              lang: str | None = None) -> web.Application:
    """The application around an opened ``follower``; starts following when the app starts.
    ``lang``: every answer in that language (``serve --lang``); None: each request's own
    (runbook/web/language.py), else the server's."""
    hub = Hub()
    assert follower.latest is not None, "open the follower first"
    hub.publish(follower.latest)
    default = current()

    def language(request: web.Request) -> str:
        return choose(request.query, request.headers, pinned=lang, default=default)

    def said_in(chosen: str) -> dict[str, str]:  # what a cache must know about the answer
        return {"Content-Language": chosen, "Vary": "Accept-Language"}

    async def page(request: web.Request) -> web.Response:
        assert hub.latest is not None
        chosen = language(request)
        return web.Response(text=render(hub.latest.get(chosen).status, chosen),
                            content_type="text/html", headers=said_in(chosen))

    async def status_json(request: web.Request) -> web.Response:
        assert hub.latest is not None
        chosen = language(request)
        return web.Response(body=hub.latest.get(chosen).json, content_type="application/json",
                            headers=said_in(chosen))

    async def events(request: web.Request) -> web.StreamResponse:
        chosen = language(request)
        response = web.StreamResponse(headers={
            "Content-Type": "text/event-stream; charset=utf-8", "X-Accel-Buffering": "no",
            **said_in(chosen)})
        await response.prepare(request)
        sent: Frame | None = None
        with contextlib.suppress(ConnectionError):
            await response.write(b"retry: 1000\n\n")
            while not hub.closing:
                event, frame = hub.event, hub.latest
                if frame is not sent and frame is not None:
                    await response.write(frame.get(chosen).sse)
                    sent = frame
                else:
                    await response.write(b": keepalive\n\n")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), KEEPALIVE_S)
        return response

    app = web.Application(middlewares=[middleware(access, language)])
    app.on_response_prepare.append(add_headers)
    app.add_routes([web.get("/", page), web.get("/status.json", status_json),
                    web.get("/events", events), web.static("/static", STATIC)])

    from runbook.web.tui import Tui

    def watch_command(chosen: str) -> list[str]:
        return [sys.executable, "-m", "runbook", "watch", follower.current_run(),
                "--db", follower.location, "--lang", chosen]  # /tui in the page's language

    tui = Tui(watch_command, language, max_sessions=max_tui)
    app.add_routes(tui.routes())

    async def start(app: web.Application) -> None:
        loop = asyncio.get_running_loop()
        follower.publish = lambda frame: loop.call_soon_threadsafe(hub.publish, frame)
        follower.start()

    async def shutdown(app: web.Application) -> None:
        hub.close()
        await tui.close_all(app)

    async def cleanup(app: web.Application) -> None:
        await asyncio.get_running_loop().run_in_executor(None, follower.stop)

    app.on_startup.append(start)
    app.on_shutdown.append(shutdown)
    app.on_cleanup.append(cleanup)
    app[HUB] = hub
    return app


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free port). It listens at once, so a
    client that reads the printed address and connects is queued, not refused, while the
    application starts."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    sock.listen(128)
    return sock


def serve(location: str, run: str | None, *, host: str, port: int, token: str | None,
          token_printed: bool, max_tui: int = 10, clock: Clock | None = None,
          lang: str | None = None, out: TextIO = sys.stdout) -> None:
    """Open the store read-only, bind, print where to look, serve until interrupted."""
    follower = Follower(location, run, clock or SystemClock(), publish=lambda frame: None)
    follower.open()  # StoreError (no store, no run) before anything is bound
    access = Access(token)
    app = build_app(follower, access, max_tui=max_tui, lang=lang)
    try:
        sock = bind(host, port)
    except OSError as e:
        raise Unusable(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    actual = sock.getsockname()[1]
    shown = host if host not in ("0.0.0.0", "::", "") else socket.gethostname()
    shown = f"[{shown}]" if ":" in shown else shown
    url = f"http://{shown}:{actual}/"
    which = f"run {run}" if run else "the newest run"
    print(f"runbook serve: {which} ({follower.current_run()}) read-only from {location}", file=out)
    if token is None:
        print(f"  status page  {url}\n  watch screen {url}tui\n  JSON         {url}status.json",
              file=out)
    elif token_printed:
        print(f"  status page  {url}?token={token}\n  watch screen {url}tui?token={token}\n"
              f"  JSON         {url}status.json (Authorization: Bearer {token})", file=out)
    else:
        print(f"  status page  {url}?token=<your token>\n  (the token from --token-file or "
              "$RUNBOOK_SERVE_TOKEN is required on every route)", file=out)
    if token is not None and not is_loopback(host):
        print("  plain HTTP: put it behind a TLS proxy (or an SSH tunnel) off a trusted network",
              file=out)
    print("  Ctrl+C stops it", file=out, flush=True)
    web.run_app(app, sock=sock, print=None, access_log=None, shutdown_timeout=2.0)
