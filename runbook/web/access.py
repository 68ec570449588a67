"""Who may read the run, and the headers every answer carries. aiohttp middlewares.

* Bound to loopback (127.0.0.0/8, ::1, localhost) the server needs no token, but answers only
  requests whose ``Host`` names loopback: a web page elsewhere cannot rebind its own name to
  127.0.0.1 (DNS rebinding) and read the run through the visitor's browser.
* Bound to anything else it needs a token (given, or generated at start and printed). Every route
  checks it: the page, /status.json, the event stream, /tui and its websocket, the static files.
  A request carries it as ``Authorization: Bearer TOKEN``, as the ``runbook_token`` cookie, or
  once as ``?token=TOKEN``: the server then sets the cookie (HttpOnly, SameSite=Lax) and redirects
  a page to the same address without the token, so it does not stay in the address bar, the
  history or a Referer. No token: 401; a wrong one: 403. Compared with ``hmac.compare_digest``.
* A websocket whose ``Origin`` is another site is refused (cross-site websocket hijacking).
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from runbook.errors import Unusable
from runbook.i18n import _, using

COOKIE = "runbook_token"
TOKEN_ENV = "RUNBOOK_SERVE_TOKEN"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Content-Security-Policy: scripts and styles only as files from this server.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), clipboard-read=()",
}


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (with or without brackets)."""
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _host_name(host_header: str) -> str:
    """The name in a ``Host`` header, without the port."""
    return urlsplit(f"//{host_header}").hostname or ""


def read_token(token_file: str | None) -> str | None:
    """The token from ``--token-file`` (first line) or ``$RUNBOOK_SERVE_TOKEN``; None if neither."""
    if token_file:
        try:
            text = Path(token_file).read_text(encoding="utf-8").strip().splitlines()
        except OSError as e:
            raise Unusable(f"cannot read the token file {token_file}: {e.strerror or e}") from None
        token = text[0].strip() if text else ""
        if len(token) < 16:
            raise Unusable(f"the token in {token_file} is too short: use at least 16 characters")
        return token
    token = os.environ.get(TOKEN_ENV, "").strip()
    if token and len(token) < 16:
        raise Unusable(f"${TOKEN_ENV} is too short: use at least 16 characters")
    return token or None


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Access:
    """The access rules of one server: ``token`` None means loopback-only without a token."""

    def __init__(self, token: str | None) -> None:
        self.token = token

    def matches(self, given: str | None) -> bool:
        if self.token is None or given is None:
            return False
        return hmac.compare_digest(given.encode("utf-8", "surrogateescape"),
                                   self.token.encode("utf-8"))

    def check(self, request: web.Request) -> web.StreamResponse | None:
        """None if the request may go on; else the refusal (or the cookie-setting redirect)."""
        if self.token is None:
            if not is_loopback(_host_name(request.host)):
                return _refuse(403, _("This server answers only on localhost (Host header {host} "
                                      "refused).").format(host=repr(request.host)))
            return None
        auth = request.headers.get("Authorization", "")
        bearer = auth[7:].strip() if auth[:7].lower() == "bearer " else None
        query = request.query.get("token")
        candidates = [c for c in (bearer, request.cookies.get(COOKIE), query) if c is not None]
        if not candidates:
            return _refuse(401, _("This runbook server needs its access token: open the "
                                  "address that `runbook serve` printed (it ends in "
                                  "?token=...)."),
                           {"WWW-Authenticate": 'Bearer realm="runbook"'})
        if not any(self.matches(c) for c in candidates):
            return _refuse(403, _("Wrong access token for this runbook server."))
        if query is not None and request.method == "GET" and not _is_upgrade(request):
            if request.path not in ("/", "/tui"):
                return None
            rest = {k: v for k, v in request.query.items() if k != "token"}
            target = request.rel_url.with_query(rest)
            response = web.Response(status=303, headers={"Location": str(target)})
            self.set_cookie(response)
            return response
        return None

    def set_cookie(self, response: web.StreamResponse) -> None:
        assert self.token is not None
        response.set_cookie(COOKIE, self.token, httponly=True, samesite="Lax", path="/")


def _is_upgrade(request: web.Request) -> bool:
    return request.headers.get("Upgrade", "").lower() == "websocket"


def _refuse(code: int, text: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=code, text=text + "\n", headers=headers)


def same_origin(request: web.Request) -> bool:
    """False when a browser says the request comes from a page of another site."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser (or not cross-site): the token still applies
    parts = urlsplit(origin)
    return parts.netloc.lower() == request.host.lower()


def middleware(access: Access, language: Callable[[web.Request], str] | None = None):
    """Refuses what ``access`` refuses, and cross-site websockets, before any handler runs;
    says why in ``language(request)`` (default: the current language)."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        with using(language(request) if language else None):
            refused = access.check(request)
            if refused is None and _is_upgrade(request) and not same_origin(request):
                refused = _refuse(403, _("Cross-site websocket refused."))
        if refused is not None:
            return refused
        return await handler(request)

    return guard


async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: the security headers on every answer (a handler may set its own
    Content-Security-Policy first, as /tui does)."""
    for key, value in HEADERS.items():
        response.headers.setdefault(key, value)
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["Server"] = "runbook"  # not the versions of Python and aiohttp
