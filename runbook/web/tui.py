"""/tui: the full watch screen in the browser, for team leads.

Each browser session gets its own ``runbook watch RUN --db ...`` process, driven by textual-serve's
:class:`AppService` (the class its own ``Server`` uses per websocket) and drawn by textual-serve's
xterm.js front end (its ``static/``). textual-serve's ``Server`` is not mounted as a whole: its
page carries inline script and style and fetches a font from a third-party site, and it runs one
fixed command. Here the page is our own (scripts and styles as files, the font served from here),
the command names the run being followed when the browser connects, and the number of sessions
is capped. The watch process opens the store read-only like every watcher; keys that would change
the run say why they do nothing. Textual is imported only in that subprocess.
"""

from __future__ import annotations

import asyncio
import html
import logging
import shlex
from collections.abc import Callable
from pathlib import Path

import textual_serve
from aiohttp import WSMsgType, web
from textual_serve.app_service import AppService
from textual_serve.download_manager import DownloadManager

from runbook.i18n import _, current, normalise, using

STATIC = Path(textual_serve.__file__).resolve().parent / "static"
log = logging.getLogger("runbook.serve")

# textual.js inserts two <style> elements at run time (its page CSS, repeated in static/tui.css,
# and an empty one): allowed by hash, so no 'unsafe-inline'. If another textual-serve version
# changes them, the browser blocks them and logs it, and tui.css still lays the page out.
_STYLE_HASHES = ("'sha256-03EiY9OLVCaCQVNKUgCYxdI11BJ8pKsqSKUlTlszVsE=' "
                 "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='")
CSP = (f"default-src 'none'; script-src 'self'; style-src 'self' {_STYLE_HASHES}; "
       "font-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
       "form-action 'none'; frame-ancestors 'none'")


def _int(text: str | None, default: int, low: int, high: int) -> int:
    try:
        return max(low, min(high, int(text or default)))
    except ValueError:
        return default


class Tui:
    """The /tui routes. ``command(lang)`` gives the argv of the watch process for a new session
    in ``lang``; ``language(request)`` is the language a request is answered in. The page names
    its language in the websocket's path (``/tui/ws/ko``), as the page's script adds its own
    query to the address."""

    def __init__(self, command: Callable[[str], list[str]],
                 language: Callable[[web.Request], str] = lambda request: current(), *,
                 max_sessions: int = 10) -> None:
        self.command = command
        self.language = language
        self.max_sessions = max_sessions
        self.sockets: set[web.WebSocketResponse] = set()
        self.downloads = DownloadManager()

    def routes(self) -> list[web.AbstractRouteDef]:
        return [web.get("/tui", self.page), web.get("/tui/ws", self.websocket),
                web.get("/tui/ws/{lang}", self.websocket), web.static("/tui/static", STATIC)]

    async def page(self, request: web.Request) -> web.Response:
        scheme = "wss" if request.secure else "ws"
        lang = self.language(request)
        url = f"{scheme}://{request.host}/tui/ws/{lang}"
        font = _int(request.query.get("fontsize"), 16, 8, 32)
        with using(lang):
            ended = _("The watch session ended.")
            again, status_page = _("Start another"), _("status page")
        e = html.escape
        body = PAGE.format(url=e(url, quote=True), font=font, lang=e(lang), ended=e(ended),
                           again=e(again), status_page=e(status_page))
        return web.Response(text=body, content_type="text/html",
                            headers={"Content-Security-Policy": CSP, "Content-Language": lang})

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        lang = normalise(request.match_info.get("lang")) or self.language(request)
        if len(self.sockets) >= self.max_sessions:
            with using(lang):
                text = _("Too many watch sessions (at most {n}); close one and retry.").format(
                    n=self.max_sessions)
            return web.Response(status=503, text=text + "\n")
        width = _int(request.query.get("width"), 80, 20, 500)
        height = _int(request.query.get("height"), 24, 8, 300)
        ws = web.WebSocketResponse(heartbeat=15, max_msg_size=64 * 1024)
        await ws.prepare(request)
        self.sockets.add(ws)
        service = AppService(shlex.join(self.command(lang)), write_bytes=ws.send_bytes,
                             write_str=ws.send_str, close=ws.close,
                             download_manager=self.downloads)
        try:
            await service.start(width, height)
            await self._relay(ws, service)
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("watch session failed")
        finally:
            self.sockets.discard(ws)
            await service.stop()
            await ws.close()
        return ws

    async def _relay(self, ws: web.WebSocketResponse, service: AppService) -> None:
        """Browser -> watch process: keys, size, focus; the same envelopes as textual-serve."""
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                kind, data = message.json()
            except (ValueError, TypeError):
                continue
            if kind == "stdin" and isinstance(data, str):
                await service.send_bytes(data.encode("utf-8"))
            elif kind == "resize" and isinstance(data, dict):
                await service.set_terminal_size(_int(str(data.get("width")), 80, 20, 500),
                                                _int(str(data.get("height")), 24, 8, 300))
            elif kind == "ping":
                await ws.send_json(["pong", data])
            elif kind == "blur":
                await service.blur()
            elif kind == "focus":
                await service.focus()

    async def close_all(self, app: web.Application) -> None:
        """On shutdown: end every watch session (its process gets textual-serve's quit)."""
        for ws in list(self.sockets):
            await ws.close(code=1001, message=b"server shutting down")


PAGE = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>runbook watch</title>
<link rel="stylesheet" href="/tui/static/css/xterm.css">
<link rel="stylesheet" href="/static/tui.css">
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<script src="/tui/static/js/textual.js"></script>
</head>
<body>
<div class="closed-dialog"><p>{ended} <a href="/tui">{again}</a> ·
<a href="/">{status_page}</a></p></div>
<div id="terminal" class="textual-terminal" data-session-websocket-url="{url}"
 data-font-size="{font}"></div>
</body>
</html>
"""
